"""Console: customer messages reworded with a preview; the order page's messages and channels;
the customer's own channel choice and the parcel's estimated delivery on the status page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.roles import CUSTOMER_SERVICE, WAREHOUSE
from tracking.models import Notification, NotificationTemplate
from tracking.notifications import notification_queue_for_order
from tracking.selectors import shipment_estimated_delivery

EDIT_SMS_EN = ("shipped", "sms", "en")


@pytest.fixture
def service(client, member):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(CUSTOMER_SERVICE))
    return client


def edit_url(event="shipped", channel="sms", language="en"):
    return reverse("tracking:notification_template", args=[event, channel, language])


def test_the_list_shows_every_event_on_every_channel_and_language(service):
    response = service.get(reverse("tracking:notification_templates"))

    assert response.status_code == 200
    assert response.text.count("Default") == 19 * 3 * 2
    assert edit_url("refund_paid", "push", "zh-hans") in response.text


def test_the_warehouse_cannot_reword_messages(client, member):
    client.force_login(member(WAREHOUSE))
    assert client.get(reverse("tracking:notification_templates")).status_code == 403
    assert client.get(edit_url()).status_code == 403


def test_an_unknown_event_is_not_found(service):
    assert service.get(edit_url(event="birthday")).status_code == 404


def test_the_editor_starts_from_the_shipped_wording_with_placeholders(service):
    response = service.get(edit_url())

    assert "has shipped with {carrier}, tracking number {tracking_number}" in (
        response.text
    )
    assert "Order 2611281234567 has shipped with SF Express" in response.text


def test_preview_fills_sample_values_and_saves_nothing(service):
    response = service.post(
        edit_url(),
        {
            "subject": "",
            "body": "{name}: {number} via {carrier} {oops}",
            "preview": "1",
        },
    )

    assert response.status_code == 200
    assert "Zhang San: 2611281234567 via SF Express {oops}" in response.text
    assert "Not filled in (unknown placeholders):" in response.text
    assert not NotificationTemplate.objects.exists()


def test_saving_an_unknown_placeholder_is_refused_on_the_field(service):
    response = service.post(
        edit_url("delivered"), {"body": "Delivered {number} {amount}", "save": "1"}
    )

    assert response.status_code == 400
    assert (
        "Unknown placeholders: {amount}. This message may use: {shop_name}, "
        "{number}, {name}, {status_url}, {tracking_number}."
    ) in response.text.replace("&#x27;", "'")
    assert not NotificationTemplate.objects.exists()


def test_saved_wording_is_used_for_the_next_message_and_can_be_reset(
    service, place_order, sms_outbox, django_capture_on_commit_callbacks
):
    response = service.post(
        edit_url("shipped", "sms", "zh-hans"),
        {
            "subject": "",
            "body": "{number} 已发货 {tracking_number}",
            "sms_template_code": "SMS_1",
            "save": "1",
        },
    )
    assert response.status_code == 302
    row = NotificationTemplate.objects.get()
    assert (row.sms_template_code, row.updated_by.username) == (
        "SMS_1",
        "user-客服",
    )
    order = place_order()
    with django_capture_on_commit_callbacks(execute=True):
        notification_queue_for_order(
            order=order, template="shipped", key="p", extra={"tracking_number": "SF7"}
        )
    assert sms_outbox[-1]["text"] == f"{order.number} 已发货 SF7"

    service.post(edit_url("shipped", "sms", "zh-hans"), {"reset": "1"})
    assert not NotificationTemplate.objects.exists()


def test_the_order_page_lists_each_message_with_its_delivery_state(
    service, place_order, settings
):
    order = place_order()
    settings.SMS_QUIET_HOURS = "00:00-23:59"
    notification_queue_for_order(order=order, template="delivered", key="p")
    Notification.objects.filter(order=order, template="order_received").update(
        status="failed", last_error="SmsError: gateway timeout", attempts=8
    )

    response = service.get(reverse("console:order_detail", args=[order.number]))

    page = response.text
    assert "Messages to the customer" in page
    assert page.count("notification-failed") == 2
    assert "SmsError: gateway timeout" in page
    assert "Held for quiet hours until" in page
    assert (
        'action="{}"'.format(
            reverse("tracking:order_notification_choices", args=[order.number])
        )
        in page
    )


def test_customer_service_turns_a_customers_sms_off(service, place_order):
    order = place_order()

    response = service.post(
        reverse("tracking:order_notification_choices", args=[order.number]),
        {"email": "on", "push": "on"},
    )

    assert response.status_code == 302
    order.customer.refresh_from_db()
    assert (
        order.customer.notify_email,
        order.customer.notify_sms,
        order.customer.notify_push,
    ) == (True, False, True)
    assert order.events.get(kind="note").actor.username == "user-客服"


def test_the_warehouse_cannot_change_a_customers_channels(client, member, place_order):
    order = place_order()
    client.force_login(member(WAREHOUSE))
    url = reverse("tracking:order_notification_choices", args=[order.number])

    assert client.post(url, {}).status_code == 403
    order.customer.refresh_from_db()
    assert order.customer.notify_sms


# --- The customer's status page ------------------------------------------------------


@pytest.fixture
def visitor(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def prove(client, order):
    client.post(
        reverse("track:lookup"), {"number": order.number, "phone": "13800138000"}
    )


def test_a_customer_who_proved_the_phone_turns_email_off(visitor, place_order):
    order = place_order()
    prove(visitor, order)

    page = visitor.get(reverse("track:order", args=[order.number])).text
    assert "Messages about your order" in page
    assert "Text messages are never sent during 21:00–08:00" not in page  # off in tests

    response = visitor.post(
        reverse("track:messages", args=[order.number]), {"sms": "on"}
    )

    assert response.status_code == 302
    order.customer.refresh_from_db()
    assert (order.customer.notify_email, order.customer.notify_sms) == (False, True)
    assert order.events.get(kind="note").actor_label == "customer"


def test_a_visitor_who_did_not_prove_the_phone_cannot_change_the_channels(
    visitor, place_order
):
    order = place_order()

    response = visitor.post(reverse("track:messages", args=[order.number]), {})

    assert response.status_code == 302
    assert "/track/?number=" in response["Location"]
    order.customer.refresh_from_db()
    assert order.customer.notify_email and order.customer.notify_sms


def test_the_status_page_names_the_quiet_hours(visitor, place_order, settings):
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    order = place_order()
    prove(visitor, order)

    page = visitor.get(reverse("track:order", args=[order.number])).text

    assert "Text messages are never sent during 21:00–08:00" in page


def test_a_parcel_in_transit_shows_where_it_was_seen_and_when_it_should_arrive(
    visitor, place_order, ship, settings
):
    settings.TRANSIT_STANDARD_DEFAULT_HOURS = 48
    order = place_order(payment_method="cod")
    [parcel] = ship(order)
    parcel.last_location = "深圳南山"
    parcel.save(update_fields=["last_location"])
    prove(visitor, order)

    page = visitor.get(reverse("track:order", args=[order.number])).text

    eta = shipment_estimated_delivery(parcel)
    assert eta == parcel.shipped_at + timedelta(hours=48)
    assert "Estimated delivery" in page
    assert f'<time datetime="{timezone.localtime(eta):%Y-%m-%d}">' in page
    assert "深圳南山" in page
