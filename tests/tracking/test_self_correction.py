"""The customer corrects the details of an order held for correction on its status page."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Order, OrderEvent
from tracking.notifications import notification_render
from tracking.views import SESSION_KEY

S = Order.Status
BAD_PHONE = "12345"  # not a phone number: the order is held with phone_invalid


@pytest.fixture
def visitor(client):
    """The test client as a customer reading English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def held_order(place_order):
    """A prepaid order held because its phone number is not a number."""
    order = place_order(phone=BAD_PHONE)
    assert order.status == S.NEEDS_CORRECTION
    assert order.problems == [{"code": "phone_invalid", "field": "recipient_phone"}]
    return order


def prove(client, order, phone):
    """Prove the phone of the order the way a customer does, on the lookup form."""
    response = client.post(
        reverse("track:lookup"), {"number": order.number, "phone": phone}
    )
    assert response.status_code == 302, "the lookup did not accept the phone"


def correction(order, **changes):
    data = {
        "recipient_name": order.recipient_name,
        "recipient_phone": order.recipient_phone,
        "address_line": "",
        "province": order.province,
        "city": order.city,
        "district": order.district,
        "address_detail": order.address_detail,
        "postal_code": order.postal_code,
    }
    data.update(changes)
    return data


def correct(client, order, **changes):
    return client.post(
        reverse("track:correct", args=[order.number]), correction(order, **changes)
    )


def customer_events(order):
    return list(
        OrderEvent.objects.filter(order=order, actor_label="customer").order_by("id")
    )


def test_the_status_page_of_a_held_order_offers_the_form_filled_in(visitor, held_order):
    prove(visitor, held_order, "2345")
    response = visitor.get(reverse("track:order", args=[held_order.number]))
    page = response.text
    assert "Please check your delivery details" in page
    assert f'action="{reverse("track:correct", args=[held_order.number])}"' in page
    form = response.context["correction_form"]
    assert form.initial == {
        "recipient_name": "张三",
        "recipient_phone": BAD_PHONE,
        "province": "广东省",
        "city": "深圳市",
        "district": "南山区",
        "address_detail": "科技园路1号",
        "postal_code": "518000",
    }
    # The field the order is held for is marked, with its message beside it.
    assert re.search(
        r'<div class="t-field t-problem">\s*<label for="id_recipient_phone"', page
    )
    assert 'aria-invalid="true"' in page
    assert 'id="problem-recipient_phone"' in page
    assert "The phone number is not a valid number." in page
    assert page.count('aria-invalid="true"') == 1


def test_without_the_proven_phone_the_correction_is_sent_to_the_lookup(
    visitor, held_order
):
    response = correct(visitor, held_order, recipient_phone="13800138000")
    assert response.status_code == 302
    assert response["Location"] == f"/track/?number={held_order.number}"
    held_order.refresh_from_db()
    assert held_order.recipient_phone == BAD_PHONE
    assert held_order.status == S.NEEDS_CORRECTION
    assert customer_events(held_order) == []


def test_proving_another_order_does_not_allow_correcting_this_one(
    visitor, place_order, held_order
):
    other = place_order(phone="13900139000")
    prove(visitor, other, "9000")
    response = correct(visitor, held_order, recipient_phone="13800138000")
    assert response.status_code == 302
    held_order.refresh_from_db()
    assert held_order.recipient_phone == BAD_PHONE


def test_the_customer_corrects_the_phone_and_the_order_moves_on(visitor, held_order):
    prove(visitor, held_order, "2345")
    response = correct(visitor, held_order, recipient_phone="138 0013 8000")
    assert response.status_code == 302
    assert response["Location"] == reverse("track:order", args=[held_order.number])

    held_order.refresh_from_db()
    assert held_order.recipient_phone == "+8613800138000"
    assert held_order.problems == []
    assert held_order.status == S.AWAITING_PAYMENT
    corrected, moved = customer_events(held_order)
    assert corrected.kind == OrderEvent.Kind.CORRECTION
    assert corrected.actor is None
    assert corrected.data == {
        "changes": {"recipient_phone": {"from": BAD_PHONE, "to": "+8613800138000"}}
    }
    assert (moved.kind, moved.from_status, moved.to_status) == (
        OrderEvent.Kind.STATUS,
        S.NEEDS_CORRECTION,
        S.AWAITING_PAYMENT,
    )

    page = visitor.get(response["Location"])
    assert "Thank you. We have checked your details again." in page.text
    assert "Awaiting payment" in page.text
    assert page.context["correction_form"] is None


def test_a_cash_on_delivery_order_goes_on_to_be_fulfilled(visitor, place_order):
    order = place_order(phone=BAD_PHONE, payment_method="cod")
    prove(visitor, order, "2345")
    correct(visitor, order, recipient_phone="13800138000")
    order.refresh_from_db()
    assert order.status == S.READY_TO_FULFILL
    assert order.reservations.count() == 1


def test_a_still_wrong_phone_keeps_the_order_held_and_says_why(visitor, held_order):
    prove(visitor, held_order, "2345")
    response = correct(visitor, held_order, recipient_phone="010-1234")
    held_order.refresh_from_db()
    assert held_order.status == S.NEEDS_CORRECTION
    assert held_order.recipient_phone == "010-1234"
    assert [(e.kind, e.message) for e in customer_events(held_order)] == [
        (OrderEvent.Kind.CORRECTION, "Details corrected: recipient phone"),
        (OrderEvent.Kind.CORRECTION, "Still needs correcting."),
    ]

    page = visitor.get(response["Location"]).text
    assert "The phone number is not a valid number." in page
    assert "Please check your delivery details" in page
    assert 'value="010-1234"' in page


def test_an_empty_name_is_refused_on_the_form_and_nothing_changes(visitor, held_order):
    prove(visitor, held_order, "2345")
    response = correct(
        visitor, held_order, recipient_name="", recipient_phone="13800138000"
    )
    assert response.status_code == 200
    assert response.context["correction_form"].errors == {
        "recipient_name": ["This field is required."]
    }
    held_order.refresh_from_db()
    assert held_order.recipient_phone == BAD_PHONE
    assert customer_events(held_order) == []


def test_a_pasted_one_line_address_replaces_the_parts(visitor, place_order):
    order = place_order(address={"province": "广东省", "city": "深圳市"})
    assert [p["code"] for p in order.problems] == ["district_missing", "detail_missing"]
    prove(visitor, order, "8000")
    page = visitor.get(reverse("track:order", args=[order.number])).text
    assert page.count('aria-invalid="true"') == 2

    correct(visitor, order, address_line="浙江省杭州市西湖区文三路90号 邮编：310012")
    order.refresh_from_db()
    assert (
        order.province,
        order.city,
        order.district,
        order.address_detail,
        order.postal_code,
    ) == ("浙江省", "杭州市", "西湖区", "文三路90号", "310012")
    assert order.status == S.AWAITING_PAYMENT


def test_an_order_not_held_shows_no_form_and_refuses_a_correction(visitor, place_order):
    order = place_order()
    assert order.status == S.AWAITING_PAYMENT
    prove(visitor, order, "8000")
    page = visitor.get(reverse("track:order", args=[order.number]))
    assert page.context["correction_form"] is None
    assert reverse("track:correct", args=[order.number]) not in page.text

    response = correct(visitor, order, recipient_phone="13900139000")
    assert response.status_code == 409
    assert (
        "This order is not waiting for a correction; nothing was changed."
        in response.text
    )
    order.refresh_from_db()
    assert order.recipient_phone == "+8613800138000"
    assert not order.events.filter(kind=OrderEvent.Kind.CORRECTION).exists()


def test_a_get_of_the_correction_address_changes_nothing(visitor, held_order):
    prove(visitor, held_order, "2345")
    url = reverse("track:correct", args=[held_order.number])
    response = visitor.get(url, {"recipient_phone": "13800138000"})
    assert response.status_code == 302
    assert response["Location"] == reverse("track:order", args=[held_order.number])
    held_order.refresh_from_db()
    assert held_order.recipient_phone == BAD_PHONE


def test_the_correction_needs_the_csrf_token(held_order):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    session = browser.session
    session[SESSION_KEY] = [held_order.number]
    session.save()
    url = reverse("track:correct", args=[held_order.number])
    data = correction(held_order, recipient_phone="13800138000")

    assert browser.post(url, data).status_code == 403
    held_order.refresh_from_db()
    assert held_order.recipient_phone == BAD_PHONE

    page = browser.get(reverse("track:order", args=[held_order.number])).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = browser.post(url, {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    held_order.refresh_from_db()
    assert held_order.status == S.AWAITING_PAYMENT


def test_corrections_past_the_limit_are_answered_with_429(
    visitor, held_order, settings
):
    settings.TRACK_LOOKUP_LIMIT = 2
    prove(visitor, held_order, "2345")
    for _attempt in range(2):
        assert correct(visitor, held_order, recipient_name="").status_code == 200
    response = correct(visitor, held_order, recipient_phone="13800138000")
    assert response.status_code == 429
    assert "Too many attempts" in response.text
    held_order.refresh_from_db()
    assert held_order.recipient_phone == BAD_PHONE


def test_the_needs_correction_message_links_to_the_status_page(held_order):
    notification = held_order.notifications.get(
        template="needs_correction", channel="email"
    )
    _subject, text = notification_render(notification)
    assert held_order.status_url in text
    assert held_order.status_url.endswith(f"/track/?number={held_order.number}")
