"""The customer's order-status page: proving the phone, what it shows, and what it hides."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.services import payment_confirm
from fulfillment.services import fulfillment_start, shipment_ship
from orders.models import Order
from orders.services import order_cancel
from tracking.models import TrackingStatus
from tracking.selectors import order_for_tracking, phone_masked
from tracking.services import tracking_event_record

S = Order.Status
NOT_FOUND = (
    "We could not find an order with this number and phone number. "
    "Please check both and try again."
)


@pytest.fixture
def visitor(client):
    """The test client as a customer reading English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def look_up(client, number, phone, **extra):
    return client.post(
        reverse("track:lookup"), {"number": number, "phone": phone}, **extra
    )


def without_csrf_token(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.text)


def shipped_order(place_order, carrier):
    """A paid order whose one parcel left with SF and was scanned twice."""
    order = place_order()
    payment_confirm(order=order, method="alipay", amount=order.total, actor="test")
    order.refresh_from_db()
    (parcel,) = fulfillment_start(order=order, actor="test")
    shipment_ship(
        shipment=parcel, carrier=carrier, tracking_number="SF2024001", actor="test"
    )
    now = timezone.now()
    tracking_event_record(
        shipment=parcel,
        status=TrackingStatus.IN_TRANSIT,
        description="Left Hangzhou sorting centre",
        location="杭州",
        occurred_at=now - timedelta(hours=5),
        actor="carrier:sf",
    )
    tracking_event_record(
        shipment=parcel,
        status=TrackingStatus.OUT_FOR_DELIVERY,
        description="With the courier for delivery",
        location="深圳南山",
        occurred_at=now - timedelta(hours=1),
        actor="carrier:sf",
    )
    order.refresh_from_db()
    return order


def test_the_right_number_and_full_phone_open_the_status_page(visitor, place_order):
    order = place_order()
    response = look_up(visitor, order.number, "138 0013 8000", follow=True)
    assert response.redirect_chain == [
        (reverse("track:order", args=[order.number]), 302)
    ]
    assert response.context["order"] == order
    assert order.number in response.text
    assert "Awaiting payment" in response.text


def test_the_last_four_digits_of_the_phone_are_enough(visitor, place_order):
    order = place_order()
    response = look_up(visitor, order.number, "8000")
    assert response.status_code == 302
    assert response["Location"] == reverse("track:order", args=[order.number])


def test_a_wrong_phone_and_an_unknown_number_get_the_same_page(visitor, place_order):
    order = place_order()
    wrong_phone = look_up(visitor, order.number, "13900139000")
    unknown_number = look_up(visitor, "999999999999", "13900139000")
    assert wrong_phone.status_code == unknown_number.status_code == 200
    assert wrong_phone.context["form"].non_field_errors() == [NOT_FOUND]
    assert unknown_number.context["form"].non_field_errors() == [NOT_FOUND]
    # Only the typed-in number differs between the two pages.
    assert without_csrf_token(wrong_phone).replace(
        order.number, "999999999999"
    ) == without_csrf_token(unknown_number)


def test_a_wrong_phone_and_an_unknown_number_run_the_same_queries(visitor, place_order):
    order = place_order()
    with CaptureQueriesContext(connection) as wrong_phone:
        look_up(visitor, order.number, "0000")
    with CaptureQueriesContext(connection) as unknown_number:
        look_up(visitor, "999999999999", "0000")
    assert len(wrong_phone) == len(unknown_number)


def test_the_status_page_without_a_proven_phone_goes_back_to_the_form(
    visitor, place_order
):
    order = place_order()
    response = visitor.get(reverse("track:order", args=[order.number]))
    assert response.status_code == 302
    assert response["Location"] == f"/track/?number={order.number}"


def test_a_failed_lookup_does_not_open_the_status_page(visitor, place_order):
    order = place_order()
    look_up(visitor, order.number, "1234")
    response = visitor.get(reverse("track:order", args=[order.number]))
    assert response.status_code == 302


def test_the_number_in_the_link_fills_the_form(visitor, place_order):
    order = place_order()
    response = visitor.get(f"/track/?number={order.number}")
    assert response.status_code == 200
    assert f'value="{order.number}"' in response.text


def test_a_proven_visitor_following_the_link_sees_the_order_at_once(
    visitor, place_order
):
    order = place_order()
    look_up(visitor, order.number, "8000")
    response = visitor.get(f"/track/?number={order.number}")
    assert response["Location"] == reverse("track:order", args=[order.number])


def test_the_page_shows_the_parcel_and_its_scans_newest_first(
    visitor, place_order, carrier
):
    order = shipped_order(place_order, carrier)
    look_up(visitor, order.number, "13800138000")
    response = visitor.get(reverse("track:order", args=[order.number]))
    page = response.text
    assert "顺丰速运" in page
    assert "SF2024001" in page
    assert carrier.tracking_url_for("SF2024001") in page
    assert page.index("With the courier for delivery") < page.index(
        "Left Hangzhou sorting centre"
    )
    assert "深圳南山" in page
    steps = {step.label: step.state for step in response.context["steps"]}
    assert steps["Shipped"] == "current"
    assert steps["Paid"] == "done"


def test_the_page_hides_the_email_and_masks_the_phone(visitor, place_order, carrier):
    order = shipped_order(place_order, carrier)
    look_up(visitor, order.number, "8000")
    page = visitor.get(reverse("track:order", args=[order.number])).text
    assert "buyer@example.com" not in page
    assert "13800138000" not in page
    assert "138****8000" in page
    assert "科技园路" not in page


def test_an_order_held_for_correction_lists_its_problems(visitor, place_order):
    order = place_order(address={"province": "广东省", "city": "深圳市"})
    assert order.status == S.NEEDS_CORRECTION
    look_up(visitor, order.number, "8000")
    page = visitor.get(reverse("track:order", args=[order.number])).text
    assert "The district is missing from the address." in page
    assert "contact the shop" in page


def test_a_cancelled_order_says_so_instead_of_showing_progress(visitor, place_order):
    order = place_order()
    order_cancel(order=order, actor="test")
    look_up(visitor, order.number, "8000")
    response = visitor.get(reverse("track:order", args=[order.number]))
    assert response.context["steps"] == []
    assert "This order has been cancelled" in response.text


def test_the_order_is_read_in_four_queries_however_many_parcels_and_scans(
    place_order, carrier
):
    order = shipped_order(place_order, carrier)
    with CaptureQueriesContext(connection) as queries:
        tracked = order_for_tracking(order.number)
        for shipment in tracked.shipments.all():
            list(shipment.tracking_events.all())
            str(shipment.carrier)
        list(tracked.lines.all())
    assert len(queries) == 4


def test_lookups_past_the_limit_are_answered_with_429(visitor, place_order):
    order = place_order()
    for _attempt in range(settings.TRACK_LOOKUP_LIMIT):
        assert look_up(visitor, order.number, "0000").status_code == 200
    response = look_up(visitor, order.number, "8000")
    assert response.status_code == 429
    assert "Too many attempts" in response.text
    # Even the right phone waits for the window to end.
    assert visitor.get(reverse("track:order", args=[order.number])).status_code == 302


def test_the_limit_counts_each_client_address_on_its_own(visitor, place_order):
    order = place_order()
    for _attempt in range(settings.TRACK_LOOKUP_LIMIT + 1):
        look_up(visitor, order.number, "0000", REMOTE_ADDR="10.0.0.1")
    response = look_up(visitor, order.number, "8000", REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 302


def test_the_phone_is_masked_in_the_middle():
    assert phone_masked("+8613800138000") == "138****8000"
    assert phone_masked("") == ""


def test_the_page_offers_the_other_language(visitor, place_order):
    page = visitor.get(reverse("track:lookup")).text
    assert 'action="/i18n/setlang/"' in page
    assert 'value="zh-hans"' in page
