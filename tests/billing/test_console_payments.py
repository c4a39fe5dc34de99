"""Recording money from the order page: prepaid payments and cash on delivery."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from billing.models import Payment
from fulfillment.models import Shipment
from fulfillment.services import (
    fulfillment_start,
    shipment_mark_delivered,
    shipment_ship,
)
from orders.models import Order
from orders.roles import FINANCE, WAREHOUSE

S = Order.Status
PS = Order.PaymentStatus


@pytest.fixture
def finance(client, member):
    """The test client, signed in as finance, reading English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(FINANCE))
    return client


def said(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def delivered_cod_order(place_order, carrier):
    order = place_order(payment_method="cod")
    (parcel,) = fulfillment_start(order=order, actor="test")
    shipment_ship(
        shipment=parcel, carrier=carrier, tracking_number="SF100", actor="test"
    )
    shipment_mark_delivered(shipment=parcel, actor="test")
    order.refresh_from_db()
    return order


def test_finance_confirms_a_payment_and_the_order_goes_on(finance, place_order):
    order = place_order()
    response = finance.post(
        reverse("billing:confirm", args=[order.number]),
        {"method": "wechat", "amount": "128.00", "reference": "WX-77", "note": ""},
    )
    order.refresh_from_db()
    assert order.status == S.READY_TO_FULFILL
    assert order.payment_status == PS.PAID
    payment = Payment.objects.get(order=order)
    assert (payment.method, payment.provider_reference) == ("wechat", "WX-77")
    assert payment.confirmed_by.username == f"user-{FINANCE}"
    assert said(response) == ["WeChat Pay payment of ¥128.00 recorded."]


def test_the_payment_form_starts_with_the_order_total(finance, place_order):
    order = place_order(quantity=2)
    response = finance.get(order.get_absolute_url())
    (panel,) = response.context["actions"]
    assert panel["form"]["amount"].value() == order.total
    assert 'name="amount" value="256.00"' in response.content.decode()


def test_a_part_payment_is_recorded_but_the_order_keeps_waiting(finance, place_order):
    order = place_order()
    finance.post(
        reverse("billing:confirm", args=[order.number]),
        {"method": "bank_transfer", "amount": "100.00"},
    )
    order.refresh_from_db()
    assert order.status == S.AWAITING_PAYMENT
    assert Payment.objects.filter(order=order).count() == 1


def test_a_zero_amount_is_refused_with_the_field_named(finance, place_order):
    order = place_order()
    response = finance.post(
        reverse("billing:confirm", args=[order.number]),
        {"method": "alipay", "amount": "0"},
    )
    assert said(response) == [
        "Amount (¥): Ensure this value is greater than or equal to 0.01."
    ]
    assert not Payment.objects.exists()


def test_a_reference_of_another_order_shows_the_domain_error(finance, place_order):
    first = place_order()
    second = place_order(phone="13900139000")
    url = reverse("billing:confirm", args=[first.number])
    finance.post(url, {"method": "alipay", "amount": "128.00", "reference": "A-1"})
    response = finance.post(
        reverse("billing:confirm", args=[second.number]),
        {"method": "alipay", "amount": "128.00", "reference": "A-1"},
    )
    assert said(response)[-1] == "This payment reference belongs to another order."
    second.refresh_from_db()
    assert second.status == S.AWAITING_PAYMENT


def test_cash_collected_on_delivery_settles_the_order(finance, place_order, carrier):
    order = delivered_cod_order(place_order, carrier)
    response = finance.get(order.get_absolute_url())
    assert [p["action"].name for p in response.context["actions"]] == ["cod"]

    response = finance.post(
        reverse("billing:cod", args=[order.number]), {"amount": "128.00"}
    )
    order.refresh_from_db()
    assert order.payment_status == PS.COD_COLLECTED
    assert said(response) == ["Cash on delivery payment of ¥128.00 recorded."]

    finance.post(reverse("console:order_complete", args=[order.number]))
    order.refresh_from_db()
    assert order.status == S.COMPLETED


def test_cash_cannot_be_recorded_for_a_prepaid_order(finance, place_order):
    order = place_order()
    response = finance.post(
        reverse("billing:cod", args=[order.number]), {"amount": "128.00"}
    )
    assert said(response) == ["This order is not cash on delivery."]
    assert not Payment.objects.exists()


def test_warehouse_staff_cannot_confirm_payments(client, member, place_order):
    order = place_order()
    client.force_login(member(WAREHOUSE))
    response = client.post(
        reverse("billing:confirm", args=[order.number]),
        {"method": "alipay", "amount": "128.00"},
    )
    assert response.status_code == 403
    assert not Payment.objects.exists()
    assert not Shipment.objects.exists()
