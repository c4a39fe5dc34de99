""" "Why this price" outside the console: the JSON API, its schema, and the admin."""

from decimal import Decimal
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from inventory.services import stock_receive
from orders.models import Channel, Promotion
from orders.pricing import rules_forget
from orders.services import LineInput, OrderInput, channel_token_issue, order_create
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory
from tests.factories.pricing import (
    CouponFactory,
    PromotionFactory,
    ShippingRuleFactory,
    TaxRuleFactory,
)

D = Decimal
K = Promotion.Kind
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
def priced(channel, warehouse):
    """An order with a line promotion, a coupon's order discount, a shipping rule and tax."""
    tea = ProductFactory(
        sku="TEA", price=D("88.00"), category="茶叶", weight_kg=D("1.2")
    )
    cup = ProductFactory(
        sku="CUP", price=D("20.00"), category="茶具", weight_kg=D("0.3")
    )
    for product in (tea, cup):
        stock_receive(product=product, warehouse=warehouse, quantity=10, actor="test")
    PromotionFactory(
        name="茶叶九折", kind=K.PERCENT_OFF, percent=D("10"), categories=["茶叶"]
    )
    CouponFactory(code="SAVE10", promotion__name="立减10元")
    ShippingRuleFactory(
        name="新疆偏远",
        provinces=["新疆"],
        first_fee=D("20.00"),
        additional_fee=D("10.00"),
        remote_provinces=["新疆"],
        remote_surcharge=D("5.00"),
    )
    TaxRuleFactory()
    order = order_create(
        data=OrderInput(
            channel=channel,
            customer_name="李四",
            customer_phone="13912345678",
            lines=[LineInput(tea, 1), LineInput(cup, 2)],
            payment_method="cod",
            address=URUMQI,
            coupon_code="SAVE10",
        ),
        actor="test",
    )
    order.refresh_from_db()
    return order


def _api(channel):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {channel_token_issue(channel=channel)}"
    )
    return client


def test_the_api_order_detail_explains_the_price(channel, priced):
    body = _api(channel).get(f"/api/v1/orders/{priced.number}/").json()
    why = body["price_explanation"]

    assert [
        (li["sku"], li["list_price"], li["discount"], li["order_discount_share"])
        for li in why["lines"]
    ] == [("TEA", "88.00", "8.80", "6.64"), ("CUP", "20.00", "0.00", "3.36")]
    assert [
        (p["name"], p["kind"], p["amount"], p["coupon"]) for p in why["promotions"]
    ] == [
        ("茶叶九折", "percent_off", "8.80", ""),
        ("立减10元", "amount_off", "10.00", "SAVE10"),
    ]
    # 1.8 kg: 首重 1 kg 20.00 + 1 step of 续重 10.00 + remote 5.00.
    shipping = why["shipping"]
    assert (shipping["rule"], shipping["additional_steps"], shipping["fee"]) == (
        "新疆偏远",
        1,
        "35.00",
    )
    assert shipping["remote_surcharge"] == "5.00"
    assert why["tax"]["included"] is True
    assert [r["rate"] for r in why["tax"]["rules"]] == ["0.1300"]
    assert why["coupon"]["code"] == "SAVE10"
    assert why["totals"]["total"] == body["total"] == "144.20"
    assert [(li["list_price"], li["order_discount_share"]) for li in body["lines"]] == [
        ("88.00", "6.64"),
        ("20.00", "3.36"),
    ]


def test_a_marketplace_order_shows_our_own_price_beside_the_platforms(
    warehouse, stocked_product
):
    shop = ChannelFactory(code="tmall", name="天猫", kind=Channel.Kind.MARKETPLACE)
    order = order_create(
        data=OrderInput(
            channel=shop,
            customer_name="王五",
            customer_phone="13700001111",
            lines=[LineInput(stocked_product, 1, D("100.00"))],
            payment_method="cod",
            address=URUMQI,
            discount_total=D("10.00"),
        ),
        actor="test",
    )

    why = _api(shop).get(f"/api/v1/orders/{order.number}/").json()["price_explanation"]

    assert why["priced_by_channel"] is True
    assert why["promotions"][0]["kind"] == "platform"
    assert why["own_price"]["total"] == "128.00"
    assert why["own_price"]["difference"] == "-38.00"


def test_an_order_without_an_explanation_answers_null(channel, priced):
    type(priced).objects.filter(pk=priced.pk).update(price_explanation={})

    body = _api(channel).get(f"/api/v1/orders/{priced.number}/").json()

    assert body["price_explanation"] is None


def test_the_schema_describes_the_explanation_and_validates_without_warnings(db):
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    schemas = yaml.safe_load(out.getvalue())["components"]["schemas"]
    assert set(schemas["PriceExplanationOut"]["required"]) >= {
        "lines",
        "promotions",
        "shipping",
        "tax",
        "totals",
    }
    assert "order_discount_share" in schemas["PriceLineOut"]["properties"]
    assert "own_price" in schemas["PriceExplanationOut"]["properties"]


def test_the_admin_shows_the_explanation_read_only(admin_client, priced):
    url = reverse("admin:orders_order_change", args=[priced.pk])

    response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert "price_explained" not in response.context["adminform"].form.fields
    assert "Why this price" in page
    assert "立减10元" in page and "SAVE10" in page and "新疆偏远" in page
