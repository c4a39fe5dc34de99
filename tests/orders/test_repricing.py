"""A corrected province prices the shipping again: applied, held for staff, or recorded."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from billing.models import Payment
from billing.services import payment_confirm
from inventory.services import stock_receive
from orders.exceptions import OrderError
from orders.models import Channel, Order, OrderEvent, Promotion
from orders.pricing import rules_forget
from orders.roles import CUSTOMER_SERVICE
from orders.services import (
    LineInput,
    OrderInput,
    channel_token_issue,
    order_correct,
    order_create,
)
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory
from tests.factories.pricing import PromotionFactory, ShippingRuleFactory

D = Decimal
S = Order.Status
HANGZHOU = {
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address_detail": "文三路90号",
}
URUMQI = {
    "province": "新疆维吾尔自治区",
    "city": "乌鲁木齐市",
    "district": "天山区",
    "address_detail": "解放北路1号",
}


@pytest.fixture(autouse=True)
def fresh_rules():
    rules_forget()
    yield
    rules_forget()


@pytest.fixture
def tea(warehouse):
    product = ProductFactory(sku="TEA", price=D("88.00"), weight_kg=D("1.500"))
    stock_receive(product=product, warehouse=warehouse, quantity=20, actor="test")
    return product


@pytest.fixture
def rules(db):
    """江浙沪 10.00 for the first kg + 5.00 a kg; 新疆 20.00 + 10.00, 5.00 remote surcharge."""
    ShippingRuleFactory(name="全国", first_fee=D("10.00"), additional_fee=D("5.00"))
    ShippingRuleFactory(
        name="新疆",
        provinces=["新疆"],
        first_fee=D("20.00"),
        additional_fee=D("10.00"),
        remote_provinces=["新疆"],
        remote_surcharge=D("5.00"),
    )


def place(channel, product, **extra):
    data = OrderInput(
        channel=channel,
        customer_name="李四",
        customer_phone=extra.pop("phone", "13912345678"),
        lines=[LineInput(product, 1, extra.pop("unit_price", None))],
        payment_method=extra.pop("payment_method", "prepaid"),
        address=extra.pop("address", HANGZHOU),
        **extra,
    )
    order = order_create(data=data, actor="test")
    order.refresh_from_db()
    return order


def move_to_urumqi(order, actor="customer"):
    order = order_correct(order=order, changes=URUMQI, actor=actor)
    order.refresh_from_db()
    return order


def repricing_events(order):
    return list(
        order.events.filter(
            kind=OrderEvent.Kind.CORRECTION, data__has_key="repricing"
        ).values_list("message", flat=True)
    )


def test_an_unpaid_order_moved_to_another_province_pays_that_provinces_shipping(
    channel, tea, rules
):
    order = place(channel, tea)
    assert (order.status, order.shipping_fee, order.total) == (
        S.AWAITING_PAYMENT,
        D("15.00"),  # 1.5 kg: 10.00 + 1 step of 5.00
        D("103.00"),
    )

    order = move_to_urumqi(order)

    # 20.00 + 1 step of 10.00 + 5.00 remote surcharge.
    assert (order.shipping_fee, order.total) == (D("35.00"), D("123.00"))
    assert order.subtotal - order.discount_total + order.shipping_fee == order.total
    why = order.price_explanation
    assert (why["shipping"]["rule"], why["shipping"]["fee"]) == ("新疆", "35.00")
    assert why["totals"]["total"] == "123.00"
    (entry,) = why["repricing"]
    assert {k: entry[k] for k in entry if k != "at"} == {
        "province_from": "浙江省",
        "province_to": "新疆维吾尔自治区",
        "shipping_fee_from": "15.00",
        "shipping_fee_to": "35.00",
        "total_from": "103.00",
        "total_to": "123.00",
        "difference": "20.00",
        "applied": True,
        "held_because": "",
    }
    assert repricing_events(order) == [
        "Shipping recalculated for 新疆维吾尔自治区: 15.00 → 35.00; "
        "total 103.00 → 123.00."
    ]


def test_a_cash_on_delivery_order_held_for_correction_collects_the_new_total(
    channel, tea, rules
):
    order = place(channel, tea, payment_method="cod", phone="12345")
    assert order.status == S.NEEDS_CORRECTION

    order = order_correct(
        order=order,
        changes={**URUMQI, "recipient_phone": "13912345678"},
        actor="customer",
    )
    order.refresh_from_db()

    assert order.status == S.READY_TO_FULFILL
    assert (order.payment_status, order.total) == (
        Order.PaymentStatus.COD_PENDING,
        D("123.00"),
    )
    assert order.price_explanation["repricing"][0]["applied"] is True


def test_a_paid_order_keeps_what_was_charged_and_records_the_difference(
    channel, tea, rules
):
    order = place(channel, tea, phone="12345")
    payment_confirm(
        order=order, method=Payment.Method.ALIPAY, amount=order.total, actor="test"
    )
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (
        S.NEEDS_CORRECTION,
        Order.PaymentStatus.PAID,
    )

    order = order_correct(
        order=order,
        changes={**URUMQI, "recipient_phone": "13912345678"},
        actor="customer",
    )
    order.refresh_from_db()

    assert (order.shipping_fee, order.total) == (D("15.00"), D("103.00"))
    why = order.price_explanation
    assert why["shipping"]["fee"] == "15.00"
    (entry,) = why["repricing"]
    assert (entry["applied"], entry["held_because"], entry["difference"]) == (
        False,
        "paid",
        "20.00",
    )
    assert repricing_events(order) == [
        "Shipping to 新疆维吾尔自治区 would cost 35.00 instead of 15.00, but the "
        "order is paid: the charge stays 103.00. Difference for staff to settle: "
        "20.00."
    ]


def test_a_marketplace_order_keeps_the_platforms_price_and_records_ours(tea, rules):
    shop = ChannelFactory(code="jd", name="京东", kind=Channel.Kind.MARKETPLACE)
    order = place(
        shop,
        tea,
        phone="12345",
        unit_price=D("80.00"),
        discount_total=D("5.00"),
        payment_method="cod",
    )
    assert order.price_explanation["own_price"]["difference"] == "-28.00"  # 75 − 103

    order = order_correct(
        order=order,
        changes={**URUMQI, "recipient_phone": "13912345678"},
        actor="channel:jd",
    )
    order.refresh_from_db()

    assert (order.shipping_fee, order.total) == (D("0.00"), D("75.00"))
    own = order.price_explanation["own_price"]
    assert (own["total"], own["shipping"]["rule"], own["difference"]) == (
        "123.00",
        "新疆",
        "-48.00",
    )
    entry = order.price_explanation["repricing"][0]
    assert (entry["applied"], entry["held_because"]) == (False, "priced_by_channel")
    assert repricing_events(order) == [
        "New province 新疆维吾尔自治区: the platform's price is kept; our own price "
        "would be 123.00 (difference -48.00, recorded, not applied)."
    ]


def test_a_shipping_fee_given_by_hand_is_kept(channel, tea, rules):
    order = place(channel, tea, shipping_fee=D("12.00"))

    order = move_to_urumqi(order)

    assert (order.shipping_fee, order.total) == (D("12.00"), D("100.00"))
    assert "repricing" not in order.price_explanation
    assert repricing_events(order) == []


def test_free_shipping_still_waives_the_new_provinces_fee(channel, tea, rules):
    PromotionFactory(
        name="满50包邮",
        kind=Promotion.Kind.FREE_SHIPPING,
        threshold=D("50"),
        percent=None,
    )
    order = place(channel, tea)
    assert order.shipping_fee == D("0.00")

    order = move_to_urumqi(order)

    assert order.shipping_fee == D("0.00")
    assert repricing_events(order) == []


def test_a_correction_within_the_province_does_not_reprice(channel, tea, rules):
    order = place(channel, tea)

    order = order_correct(
        order=order, changes={"address_detail": "文三路100号"}, actor="customer"
    )
    order.refresh_from_db()

    assert (order.shipping_fee, order.total) == (D("15.00"), D("103.00"))
    assert repricing_events(order) == []


def test_a_refused_correction_reprices_nothing(channel, tea, rules):
    order = place(channel, tea)

    with pytest.raises(OrderError):
        order_correct(
            order=order, changes={**URUMQI, "district": "西湖区"}, actor="customer"
        )

    order.refresh_from_db()
    assert (order.province, order.total) == ("浙江省", D("103.00"))
    assert repricing_events(order) == []


def test_staff_see_the_difference_to_settle_on_the_order_page_and_in_the_api(
    client, member, channel, tea, rules
):
    order = place(channel, tea, phone="12345")
    payment_confirm(
        order=order, method=Payment.Method.ALIPAY, amount=order.total, actor="test"
    )
    order_correct(
        order=order,
        changes={**URUMQI, "recipient_phone": "13912345678"},
        actor="customer",
    )
    client.force_login(member(CUSTOMER_SERVICE))

    page = client.get(
        order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {channel_token_issue(channel=channel)}")
    body = api.get(f"/api/v1/orders/{order.number}/").json()

    assert "paid: 20.00 to settle with the customer" in page
    (entry,) = body["price_explanation"]["repricing"]
    assert (entry["difference"], entry["applied"], entry["held_because"]) == (
        "20.00",
        False,
        "paid",
    )
