"""Carrier rates and selection: cheapest, customer's choice, channel, COD, regions, staff."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from fulfillment.carriers import (
    carrier_choose,
    order_carrier_set,
    tracking_number_error,
)
from fulfillment.exceptions import ShipmentError
from fulfillment.models import ChannelShipping
from orders.models import Order, OrderEvent
from orders.pricing import carrier_rate
from orders.roles import CUSTOMER_SERVICE, WAREHOUSE
from tests.factories.fulfillment import CarrierFactory
from tests.factories.pricing import ShippingRuleFactory


def rate(carrier, first, extra, provinces=(), **kw):
    return ShippingRuleFactory(
        name=f"{carrier.code} {first}+{extra} {''.join(provinces)}",
        carrier=carrier,
        provinces=list(provinces),
        first_fee=Decimal(first),
        additional_fee=Decimal(extra),
        **kw,
    )


@pytest.fixture
def carriers(db):
    """SF (COD, dear), ZTO (no COD, cheap), YTO (no COD, cheap only in the south)."""
    sf = CarrierFactory()
    zto = CarrierFactory(code="zto", name="中通快递", supports_cod=False)
    yto = CarrierFactory(code="yto", name="圆通速递", supports_cod=False)
    rate(sf, "18", "10")
    rate(zto, "8", "4")
    rate(yto, "12", "6")
    rate(yto, "6", "3", provinces=["广东", "广西", "福建"])
    return sf, zto, yto


def test_a_carrier_rate_is_first_weight_plus_each_additional_step(carriers):
    sf, zto, yto = carriers
    two_and_a_half = Decimal("2.5")  # 1 kg first, then two 1 kg steps
    assert carrier_rate(
        carrier_id=sf.pk, province="浙江省", weight_kg=two_and_a_half
    ) == (Decimal("38.00"))
    assert carrier_rate(
        carrier_id=zto.pk, province="浙江省", weight_kg=Decimal("1")
    ) == (Decimal("8.00"))


def test_a_province_group_rate_wins_over_the_carriers_rate_for_everywhere(carriers):
    _sf, _zto, yto = carriers
    assert carrier_rate(
        carrier_id=yto.pk, province="广东省", weight_kg=Decimal("2")
    ) == (Decimal("9.00"))
    assert carrier_rate(
        carrier_id=yto.pk, province="北京市", weight_kg=Decimal("2")
    ) == (Decimal("18.00"))


def test_a_remote_province_pays_the_carriers_surcharge(db):
    ems = CarrierFactory(code="ems", name="中国邮政EMS")
    rate(ems, "10", "5", remote_provinces=["新疆"], remote_surcharge=Decimal("15"))
    assert carrier_rate(
        carrier_id=ems.pk, province="新疆维吾尔自治区", weight_kg=1
    ) == (Decimal("25.00"))


def test_carrier_rates_do_not_change_what_the_customer_pays(carriers, place_order):
    ShippingRuleFactory(name="默认", first_fee=Decimal("12"))
    order = place_order(payment_method="cod")
    assert order.shipping_fee == Decimal("12.00")


def test_the_cheapest_carrier_for_weight_and_destination_is_chosen(
    carriers, place_order
):
    sf, zto, yto = carriers
    order = place_order(payment_method="prepaid")  # 深圳, 广东省
    choice = carrier_choose(order)
    assert (choice.carrier, choice.rate) == (yto, Decimal("6.00"))

    order.province = "浙江省"
    choice = carrier_choose(order)
    assert (choice.carrier, choice.rate) == (zto, Decimal("8.00"))
    with translation.override("en"):
        assert str(carrier_choose(order).reason) == "cheapest for 0.300 kg to 浙江省"


def test_a_cod_order_gets_only_a_carrier_that_collects_cash(carriers, place_order):
    sf, _zto, _yto = carriers
    order = place_order(payment_method="cod")
    assert carrier_choose(order).carrier == sf


def test_a_carrier_that_does_not_serve_the_province_is_passed_over(
    carriers, place_order
):
    sf, zto, yto = carriers
    yto.regions = ["江苏", "浙江", "上海"]
    yto.save()
    order = place_order(payment_method="prepaid")  # 广东省
    assert carrier_choose(order).carrier == zto


def test_the_customers_choice_is_kept_when_the_carrier_can_take_the_order(
    carriers, place_order
):
    sf, _zto, _yto = carriers
    order = place_order(payment_method="prepaid")
    order_carrier_set(
        order=order, carrier=sf, actor="web", chosen_by=Order.CarrierChoice.CUSTOMER
    )
    order.refresh_from_db()
    with translation.override("en"):
        choice = carrier_choose(order)
        assert (choice.carrier, str(choice.reason)) == (sf, "the customer's choice")


def test_a_customers_choice_that_cannot_collect_cash_falls_back_to_the_rules(
    carriers, place_order
):
    sf, zto, _yto = carriers
    order = place_order(payment_method="cod")
    order_carrier_set(
        order=order, carrier=zto, actor="web", chosen_by=Order.CarrierChoice.CUSTOMER
    )
    order.refresh_from_db()
    with translation.override("en"):
        choice = carrier_choose(order)
        assert choice.carrier == sf
        assert choice.passed_over == ["中通快递 does not collect cash on delivery."]


def test_the_channels_carrier_comes_before_the_cheapest(carriers, place_order, channel):
    sf, _zto, _yto = carriers
    ChannelShipping.objects.create(channel=channel, carrier=sf, ship_within_hours=24)
    order = place_order(payment_method="prepaid")
    with translation.override("en"):
        choice = carrier_choose(order)
        assert (choice.carrier, str(choice.reason)) == (sf, "the channel's carrier")


def test_staff_override_wins_even_over_the_rules(carriers, place_order, staff_user):
    _sf, zto, _yto = carriers
    order = place_order(payment_method="cod")
    order_carrier_set(order=order, carrier=zto, actor=staff_user)
    order.refresh_from_db()
    assert carrier_choose(order).carrier == zto
    event = order.events.filter(kind=OrderEvent.Kind.SHIPMENT).last()
    assert event.actor == staff_user and event.data["carrier_to"] == "zto"


def test_no_carrier_fits_says_why(db, place_order):
    CarrierFactory(code="zto", name="中通快递", supports_cod=False)
    order = place_order(payment_method="cod")
    with translation.override("en"):
        choice = carrier_choose(order)
        assert choice.carrier is None
        assert str(choice.reason) == "No carrier can take this order."


def test_a_carrier_without_a_rate_is_taken_only_when_none_has_one(
    carriers, place_order
):
    _sf, _zto, yto = carriers
    CarrierFactory(code="jd", name="京东物流", supports_cod=True)
    order = place_order(payment_method="prepaid")
    assert carrier_choose(order).carrier == yto


def test_the_carrier_cannot_change_once_the_order_has_shipped(
    carriers, place_order, ship
):
    sf, zto, _yto = carriers
    order = place_order(payment_method="cod")
    ship(order)
    order.refresh_from_db()
    with translation.override("en"), pytest.raises(ShipmentError) as caught:
        order_carrier_set(order=order, carrier=zto, actor="t")
    assert str(caught.value) == "The carrier can no longer be changed for this order."


@pytest.mark.parametrize(
    "code, number, ok",
    [
        ("sf", "SF1234567890123", True),
        ("sf", "SF12345", False),
        ("zto", "731234567890123", True),
        ("zto", "ZT123", False),
        ("yto", "YT1234567890123", True),
        ("yto", "1234567890123", False),
        ("yunda", "4312345678901", True),
        ("sto", "773123456789012", True),
        ("jd", "JDVA12345678901", True),
        ("jd", "12345", False),
        ("ems", "1123456789012", True),
        ("ems", "EA123456789CN", True),
        ("jtexpress", "JT1234567890123", True),
        ("jtexpress", "JT12", False),
        ("deppon", "anything-goes", True),  # no format known: not checked
    ],
)
def test_tracking_numbers_are_checked_against_the_carriers_format(db, code, number, ok):
    carrier = CarrierFactory(code=code, name=code.upper())
    assert (tracking_number_error(carrier=carrier, number=number) == "") is ok


def test_a_bad_number_names_the_carrier_and_an_example(carrier):
    with translation.override("en"):
        assert tracking_number_error(carrier=carrier, number="sf 123") == (
            "SF123 is not a 顺丰速运 tracking number (they look like SF1234567890123)."
        )


def test_a_carriers_own_format_replaces_the_built_in_one(carrier):
    carrier.tracking_number_pattern = r"X\d{3}"
    assert tracking_number_error(carrier=carrier, number="x123") == ""
    assert tracking_number_error(carrier=carrier, number="SF1234567890123") != ""


def test_staff_override_the_carrier_on_the_order_page(
    client, member, carriers, place_order
):
    _sf, zto, _yto = carriers
    order = place_order(payment_method="cod")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(CUSTOMER_SERVICE))
    page = client.get(order.get_absolute_url())
    carrier_panel = [
        p for p in page.context["actions"] if p["action"].name == "carrier"
    ]
    assert "Now: 顺丰速运 (cheapest for 0.300 kg to 广东省)." in (
        carrier_panel[0]["form"].fields["carrier"].help_text
    )

    response = client.post(
        reverse("fulfillment:order_carrier", args=[order.number]), {"carrier": zto.pk}
    )

    order.refresh_from_db()
    assert (order.carrier, order.carrier_chosen_by) == (zto, "staff")
    assert response.url == order.get_absolute_url()
    client.post(reverse("fulfillment:order_carrier", args=[order.number]), {})
    order.refresh_from_db()
    assert (order.carrier, order.carrier_chosen_by) == (None, "")


def test_warehouse_staff_cannot_override_the_carrier(
    client, member, carriers, place_order
):
    _sf, zto, _yto = carriers
    order = place_order(payment_method="prepaid")
    client.force_login(member(WAREHOUSE))
    response = client.post(
        reverse("fulfillment:order_carrier", args=[order.number]), {"carrier": zto.pk}
    )
    assert response.status_code == 403


def test_a_channel_sends_the_customers_carrier_with_the_order(
    carriers, channel, stocked_product
):
    from rest_framework.test import APIClient

    from orders.services import channel_token_issue

    sf, _zto, _yto = carriers
    stocked_product.sku = "TEA-001"
    stocked_product.save()
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {channel_token_issue(channel=channel)}"
    )
    payload = {
        "external_id": "WEB-20001",
        "customer": {"name": "张三", "phone": "13800138000"},
        "shipping_address": {
            "province": "广东省",
            "city": "深圳市",
            "district": "南山区",
            "detail": "科技园路1号",
        },
        "lines": [{"sku": "TEA-001", "quantity": 1}],
        "payment_method": "cod",
        "carrier": "sf",
    }

    response = client.post("/api/v1/orders/", payload, format="json")
    unknown = client.post(
        "/api/v1/orders/",
        {**payload, "external_id": "WEB-20002", "carrier": "shunfeng"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 201, response.content
    order = Order.objects.get(number=response.json()["number"])
    assert (order.carrier, order.carrier_chosen_by) == (sf, "customer")
    assert unknown.status_code == 400
    assert unknown.json()["carrier"] == ["Unknown carrier: shunfeng"]
