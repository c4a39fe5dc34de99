"""Pricing: price lists, promotions, coupons, shipping fee rules, tax, and why."""

import threading
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.test import APIClient

from orders.exceptions import OrderError
from orders.models import Channel, Coupon, CouponRedemption, Order, Promotion
from orders.pricing import rules_forget, spread
from orders.services import (
    LineInput,
    OrderInput,
    channel_token_issue,
    order_cancel,
    order_create,
)
from tests.factories.fulfillment import CarrierFactory
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory
from tests.factories.pricing import (
    ChannelPriceFactory,
    CouponFactory,
    PromotionFactory,
    ShippingRuleFactory,
    TaxRuleFactory,
)

D = Decimal
K = Promotion.Kind
SHANGHAI = ZoneInfo("Asia/Shanghai")
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


def place(channel, *lines, **extra):
    data = OrderInput(
        channel=channel,
        customer_name=extra.pop("name", "李四"),
        customer_phone=extra.pop("phone", "13912345678"),
        lines=[LineInput(product, quantity) for product, quantity in lines],
        payment_method="prepaid",
        address=extra.pop("address", HANGZHOU),
        **extra,
    )
    order = order_create(data=data, actor="test")
    order.refresh_from_db()
    return order


def money_of(order):
    return (
        order.subtotal,
        order.discount_total,
        order.shipping_fee,
        order.tax_total,
        order.total,
    )


def shares(order):
    return [
        (li.discount, li.order_discount_share, li.line_total)
        for li in order.lines.all()
    ]


@pytest.fixture
def tea(db):
    return ProductFactory(
        sku="TEA", price=D("88.00"), category="茶叶", weight_kg=D("0.500")
    )


@pytest.fixture
def cup(db):
    return ProductFactory(
        sku="CUP", price=D("20.00"), category="茶具", weight_kg=D("0.300")
    )


# --- No rules: prices as before ------------------------------------------------------


def test_without_rules_an_order_costs_price_times_quantity_plus_the_given_shipping(
    channel, tea, cup
):
    order = place(channel, (tea, 2), (cup, 1), shipping_fee=D("12.00"))

    assert money_of(order) == (D("196.00"), D("0"), D("12.00"), D("0"), D("208.00"))
    assert order.prices_include_tax
    assert [(li.list_price, li.unit_price) for li in order.lines.all()] == [
        (D("88.00"), D("88.00")),
        (D("20.00"), D("20.00")),
    ]
    assert order.price_explanation["promotions"] == []
    assert order.price_explanation["shipping"] == {"source": "given", "fee": "12.00"}


# --- Price lists ---------------------------------------------------------------------


def test_a_channel_price_in_its_window_replaces_the_catalogue_price(channel, tea):
    now = timezone.now()
    ChannelPriceFactory(
        channel=channel, product=tea, price=D("79.00"), valid_from=now - timedelta(1)
    )
    ChannelPriceFactory(
        channel=ChannelFactory(code="app", name="App", kind=Channel.Kind.APP),
        product=tea,
        price=D("70.00"),
    )

    line = place(channel, (tea, 2)).lines.get()

    assert (line.list_price, line.unit_price, line.line_total) == (
        D("88.00"),
        D("79.00"),
        D("158.00"),
    )


def test_a_channel_price_outside_its_window_is_ignored(channel, tea):
    now = timezone.now()
    ChannelPriceFactory(
        channel=channel, product=tea, price=D("79.00"), valid_until=now - timedelta(1)
    )
    ChannelPriceFactory(
        channel=channel, product=tea, price=D("75.00"), valid_from=now + timedelta(1)
    )

    assert place(channel, (tea, 1)).lines.get().unit_price == D("88.00")


# --- Promotions ------------------------------------------------------------------------


def test_a_percentage_off_discounts_only_the_lines_of_its_category(channel, tea, cup):
    PromotionFactory(kind=K.PERCENT_OFF, percent=D("15"), categories=["茶叶"])

    order = place(channel, (tea, 1), (cup, 1))

    assert shares(order) == [
        (D("13.20"), D("0"), D("74.80")),
        (D("0"), D("0"), D("20.00")),
    ]
    assert money_of(order) == (D("108.00"), D("13.20"), D("0"), D("0"), D("94.80"))


def test_a_fixed_amount_off_is_spread_so_the_shares_add_up_to_the_cent(channel):
    # 10.00 over three lines of 10.00: 3.333… each; rounding each gives 9.99.
    products = [ProductFactory(price=D("10.00")) for _ in range(3)]
    PromotionFactory(kind=K.AMOUNT_OFF, amount=D("10.00"), percent=None)

    order = place(channel, *[(p, 1) for p in products])

    assert [li.order_discount_share for li in order.lines.all()] == [
        D("3.34"),
        D("3.33"),
        D("3.33"),
    ]
    assert money_of(order) == (D("30.00"), D("10.00"), D("0"), D("0"), D("20.00"))


def test_spread_gives_the_left_over_cents_to_the_largest_remainders():
    assert spread(D("1.00"), [D("1"), D("1"), D("1")]) == [
        D("0.34"),
        D("0.33"),
        D("0.33"),
    ]
    assert spread(D("0.05"), [D("10"), D("30")]) == [D("0.01"), D("0.04")]
    assert spread(D("7.77"), [D("0"), D("5")]) == [D("0"), D("7.77")]


def test_a_threshold_discount_applies_once_unless_repeatable(channel, tea):
    once = PromotionFactory(
        kind=K.THRESHOLD, threshold=D("100"), amount=D("20"), percent=None
    )

    assert place(channel, (tea, 3)).discount_total == D("20.00")  # 264.00

    once.repeatable = True
    once.save()
    assert place(channel, (tea, 3), phone="13912345679").discount_total == D("40.00")


def test_a_threshold_discount_does_not_apply_below_its_spend(channel, cup):
    PromotionFactory(kind=K.THRESHOLD, threshold=D("100"), amount=D("20"), percent=None)

    assert place(channel, (cup, 4)).discount_total == D("0")


def test_buy_two_get_one_free_gives_a_unit_free_per_three(channel, tea, cup):
    PromotionFactory(
        kind=K.BUY_X_GET_Y, percent=None, buy_quantity=2, get_quantity=1, products=[cup]
    )

    order = place(channel, (tea, 3), (cup, 7))

    assert shares(order) == [
        (D("0"), D("0"), D("264.00")),
        (D("40.00"), D("0"), D("100.00")),
    ]


def test_free_shipping_over_a_threshold_waives_the_fee(channel, tea, cup):
    PromotionFactory(kind=K.FREE_SHIPPING, percent=None, threshold=D("99"), name="包邮")

    small = place(channel, (cup, 1), shipping_fee=D("8.00"))
    large = place(channel, (tea, 2), shipping_fee=D("8.00"), phone="13912345679")

    assert (small.shipping_fee, small.total) == (D("8.00"), D("28.00"))
    assert (large.shipping_fee, large.total) == (D("0"), D("176.00"))
    assert large.price_explanation["shipping"]["waived_by"] == "包邮"


def test_a_promotion_for_another_channel_or_out_of_its_window_does_not_apply(
    channel, tea
):
    app = ChannelFactory(code="app", name="App", kind=Channel.Kind.APP)
    PromotionFactory(percent=D("50"), channels=[app])
    PromotionFactory(percent=D("50"), valid_until=timezone.now() - timedelta(1))
    PromotionFactory(percent=D("50"), valid_from=timezone.now() + timedelta(1))

    assert place(channel, (tea, 1)).discount_total == D("0")


def test_stackable_promotions_apply_one_after_the_other_by_priority(channel, tea):
    PromotionFactory(percent=D("10"), priority=5, name="九折")
    PromotionFactory(
        kind=K.AMOUNT_OFF, amount=D("10"), percent=None, priority=1, name="立减10"
    )

    order = place(channel, (tea, 1))

    # 10% of 88.00 first, then 10.00 off what is left.
    assert money_of(order)[1:] == (D("18.80"), D("0"), D("0"), D("69.20"))
    assert [p["name"] for p in order.price_explanation["promotions"]] == [
        "九折",
        "立减10",
    ]


def test_an_exclusive_promotion_of_higher_priority_stops_the_others(channel, tea):
    PromotionFactory(percent=D("20"), priority=9, stackable=False, name="独享八折")
    PromotionFactory(percent=D("10"), priority=1)

    order = place(channel, (tea, 1))

    assert order.discount_total == D("17.60")
    assert [p["name"] for p in order.price_explanation["promotions"]] == ["独享八折"]


def test_an_exclusive_promotion_is_skipped_once_another_applied(channel, tea):
    PromotionFactory(percent=D("10"), priority=9, name="九折")
    PromotionFactory(percent=D("50"), priority=1, stackable=False)

    order = place(channel, (tea, 1))

    assert order.discount_total == D("8.80")


# --- Coupons ---------------------------------------------------------------------------


def test_a_coupon_applies_its_promotion_and_is_counted(channel, tea):
    coupon = CouponFactory(code="HELLO10")
    PromotionFactory(
        kind=K.AMOUNT_OFF, amount=D("5"), percent=None, requires_coupon=True
    )

    order = place(channel, (tea, 1), coupon_code="hello10")

    assert order.discount_total == D("10.00")
    assert order.price_explanation["promotions"][0]["coupon"] == "HELLO10"
    coupon.refresh_from_db()
    assert coupon.times_used == 1
    assert CouponRedemption.objects.get().amount == D("10.00")


def test_a_coupon_promotion_does_not_apply_without_its_code(channel, tea):
    CouponFactory(code="HELLO10")

    assert place(channel, (tea, 1)).discount_total == D("0")


def test_an_unknown_coupon_is_refused(channel, tea):
    with translation.override("en"), pytest.raises(OrderError) as caught:
        place(channel, (tea, 1), coupon_code="NOPE")

    assert str(caught.value) == "Unknown coupon code: NOPE"
    assert not Order.objects.exists()


def test_a_coupon_used_up_is_refused(channel, tea):
    CouponFactory(code="ONCE", usage_limit=1)
    place(channel, (tea, 1), coupon_code="ONCE")

    with translation.override("en"), pytest.raises(OrderError) as caught:
        place(channel, (tea, 1), coupon_code="ONCE", phone="13912345679")

    assert str(caught.value) == "Coupon ONCE has been used up."
    assert Order.objects.count() == 1


def test_a_coupon_is_limited_per_customer(channel, tea):
    coupon = CouponFactory(code="TWICE", usage_limit=10, per_customer_limit=2)
    place(channel, (tea, 1), coupon_code="TWICE")
    place(channel, (tea, 1), coupon_code="TWICE")

    with translation.override("en"), pytest.raises(OrderError) as caught:
        place(channel, (tea, 1), coupon_code="TWICE")
    place(channel, (tea, 1), coupon_code="TWICE", phone="13912345679")

    assert str(caught.value) == "Coupon TWICE was already used as often as allowed."
    coupon.refresh_from_db()
    assert coupon.times_used == 3


def test_cancelling_an_order_gives_its_coupon_use_back(channel, tea):
    coupon = CouponFactory(code="ONCE", usage_limit=1, per_customer_limit=1)
    order = place(channel, (tea, 1), coupon_code="ONCE")

    order_cancel(order=order, actor="test")
    again = place(channel, (tea, 1), coupon_code="ONCE")

    assert again.discount_total == D("10.00")
    coupon.refresh_from_db()
    assert coupon.times_used == 1
    assert CouponRedemption.objects.get().order == again


def test_a_coupon_for_other_goods_is_refused(channel, tea, cup):
    CouponFactory(
        code="CUPS",
        promotion=PromotionFactory(
            kind=K.AMOUNT_OFF,
            amount=D("5"),
            percent=None,
            requires_coupon=True,
            products=[cup],
        ),
    )

    with translation.override("en"), pytest.raises(OrderError) as caught:
        place(channel, (tea, 1), coupon_code="CUPS")

    assert str(caught.value) == "Coupon CUPS does not apply to this order."


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_never_use_a_coupon_more_than_its_limit(channel, tea):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for truly concurrent writers")
    coupon = CouponFactory(code="FIRST3", usage_limit=3)
    outcomes = []

    def use(n):
        try:
            place(channel, (tea, 1), coupon_code="FIRST3", phone=f"139{n:08d}")
            outcomes.append("ok")
        except OrderError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=use, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 7
    coupon.refresh_from_db()
    assert coupon.times_used == 3
    assert CouponRedemption.objects.count() == Order.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_of_one_customer_keep_the_per_customer_limit(channel, tea):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for truly concurrent writers")
    place(channel, (tea, 1))  # the customer exists before the rush
    CouponFactory(code="ONEEACH", per_customer_limit=1)
    outcomes = []

    def use():
        try:
            place(channel, (tea, 1), coupon_code="ONEEACH")
            outcomes.append("ok")
        except OrderError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok"] + ["refused"] * 5
    assert Coupon.objects.get().times_used == 1


# --- Shipping fee rules ----------------------------------------------------------------


def test_shipping_is_first_weight_plus_each_started_additional_kilo(channel, tea):
    ShippingRuleFactory(first_fee=D("10.00"), additional_fee=D("5.00"))

    order = place(channel, (tea, 5))  # 2.5 kg: 1 kg + 2 started kilos

    assert order.shipping_fee == D("20.00")
    assert order.total == D("460.00")
    assert order.price_explanation["shipping"]["additional_steps"] == 2


def test_a_rule_for_the_destination_province_wins_over_the_default(channel, cup):
    ShippingRuleFactory(first_fee=D("12.00"), priority=9)
    ShippingRuleFactory(provinces=["江苏", "浙江", "上海"], first_fee=D("6.00"))

    assert place(channel, (cup, 1)).shipping_fee == D("6.00")


def test_remote_provinces_pay_a_surcharge(channel, cup):
    ShippingRuleFactory(
        first_fee=D("10.00"),
        remote_provinces=["新疆", "西藏", "内蒙古", "青海", "宁夏"],
        remote_surcharge=D("15.00"),
    )

    near = place(channel, (cup, 1))
    far = place(channel, (cup, 1), address=URUMQI, phone="13912345679")

    assert (near.shipping_fee, far.shipping_fee) == (D("10.00"), D("25.00"))
    assert far.price_explanation["shipping"]["remote_surcharge"] == "15.00"


def test_shipping_is_free_over_the_rule_threshold(channel, tea, cup):
    ShippingRuleFactory(first_fee=D("10.00"), free_over=D("99.00"))

    assert place(channel, (cup, 1)).shipping_fee == D("10.00")
    assert place(channel, (tea, 2), phone="13912345679").shipping_fee == D("0")


def test_a_fee_given_with_the_order_is_kept_over_the_rules(channel, cup):
    ShippingRuleFactory(first_fee=D("10.00"))

    assert place(channel, (cup, 1), shipping_fee=D("7.00")).shipping_fee == D("7.00")


def test_orders_without_a_carrier_use_the_default_rule(channel, cup):
    ShippingRuleFactory(first_fee=D("30.00"), carrier=CarrierFactory())
    ShippingRuleFactory(first_fee=D("9.00"))

    assert place(channel, (cup, 1)).shipping_fee == D("9.00")


# --- Tax -------------------------------------------------------------------------------


def test_included_vat_is_shown_but_not_added(channel, tea):
    TaxRuleFactory()

    order = place(channel, (tea, 1))

    # 88.00 × 0.13 / 1.13 = 10.1238…
    assert money_of(order) == (D("88.00"), D("0"), D("0"), D("10.12"), D("88.00"))
    assert order.price_explanation["tax"]["included"] is True


def test_exclusive_tax_is_added_to_the_total(channel, tea, settings):
    settings.SHOP_PRICES_INCLUDE_TAX = False
    TaxRuleFactory()

    order = place(channel, (tea, 1))

    assert money_of(order) == (D("88.00"), D("0"), D("0"), D("11.44"), D("99.44"))
    assert not order.prices_include_tax


def test_the_tax_rate_effective_when_the_order_was_placed_applies(
    channel, tea, settings
):
    settings.SHOP_PRICES_INCLUDE_TAX = False
    TaxRuleFactory(
        name="增值税 16%",
        rate=D("0.1600"),
        effective_from=datetime(2018, 5, 1, tzinfo=SHANGHAI),
    )
    TaxRuleFactory(effective_from=datetime(2019, 4, 1, tzinfo=SHANGHAI))
    TaxRuleFactory(
        name="茶叶 9%",
        category="茶叶",
        rate=D("0.0900"),
        effective_from=datetime(2030, 1, 1, tzinfo=SHANGHAI),
    )

    before = place(channel, (tea, 1), placed_at=datetime(2019, 3, 31, tzinfo=SHANGHAI))
    after = place(
        channel,
        (tea, 1),
        placed_at=datetime(2019, 4, 1, tzinfo=SHANGHAI),
        phone="13912345679",
    )

    assert (before.tax_total, after.tax_total) == (D("14.08"), D("11.44"))


# --- Marketplace orders ----------------------------------------------------------------


def test_a_marketplace_order_keeps_its_prices_and_records_our_own(tea):
    taobao = ChannelFactory(code="taobao", name="淘宝", kind=Channel.Kind.MARKETPLACE)
    PromotionFactory(percent=D("10"))
    data = OrderInput(
        channel=taobao,
        customer_name="王五",
        customer_phone="13912345678",
        lines=[LineInput(tea, 2, D("80.00"))],
        payment_method="prepaid",
        address=HANGZHOU,
        shipping_fee=D("5.00"),
        discount_total=D("15.00"),
    )

    order = order_create(data=data, actor="test")

    assert money_of(order) == (D("160.00"), D("15.00"), D("5.00"), D("0"), D("150.00"))
    assert order.lines.get().order_discount_share == D("15.00")
    own = order.price_explanation["own_price"]
    assert (own["total"], own["difference"]) == ("158.40", "-8.40")


def test_a_platform_discount_beyond_the_goods_reduces_its_shipping(tea):
    taobao = ChannelFactory(code="taobao", name="淘宝", kind=Channel.Kind.MARKETPLACE)
    data = OrderInput(
        channel=taobao,
        customer_name="王五",
        customer_phone="13912345678",
        lines=[LineInput(tea, 1, D("10.00"))],
        payment_method="prepaid",
        address=HANGZHOU,
        shipping_fee=D("5.00"),
        discount_total=D("12.00"),
    )

    order = order_create(data=data, actor="test")

    assert (order.discount_total, order.total) == (D("12.00"), D("3.00"))
    assert order.lines.get().order_discount_share == D("10.00")


# --- Rules snapshot and the console --------------------------------------------------


def test_a_rule_saved_after_an_order_applies_to_the_next(channel, tea):
    place(channel, (tea, 1))
    promotion = PromotionFactory(percent=D("10"))

    assert place(channel, (tea, 1)).discount_total == D("8.80")

    promotion.active = False
    promotion.save()
    assert place(channel, (tea, 1)).discount_total == D("0")


def test_pricing_rules_are_read_once_not_per_order(channel, tea, cup):
    PromotionFactory(percent=D("10"), products=[tea], channels=[channel])
    ShippingRuleFactory()
    TaxRuleFactory()
    ChannelPriceFactory(channel=channel, product=cup)
    place(channel, (tea, 1))

    with CaptureQueriesContext(connection) as later:
        place(channel, (tea, 1), (cup, 2))

    tables = ("promotion", "shippingrule", "taxrule", "channelprice")
    reads = [
        q["sql"]
        for q in later.captured_queries
        if q["sql"].startswith("SELECT") and any(t in q["sql"] for t in tables)
    ]
    assert len(reads) == 1  # the version check; the snapshot is not reloaded


def test_the_order_page_explains_the_price(client, staff_user, channel, tea, cup):
    PromotionFactory(percent=D("10"), name="会员九折", categories=["茶叶"])
    ShippingRuleFactory(name="江浙沪", provinces=["浙江"], first_fee=D("6.00"))
    TaxRuleFactory()
    order = place(channel, (tea, 1), (cup, 1))
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)

    page = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Why this price" in text
    assert "会员九折" in text and "−¥8.80" in text
    assert "Rule 江浙沪, 0.800 kg" in text
    assert "增值税 13%" in text


# --- Through the API ---------------------------------------------------------------


@pytest.fixture
def api(channel, tea):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {channel_token_issue(channel=channel)}"
    )
    return client


def api_order(api, external_id, **extra):
    payload = {
        "external_id": external_id,
        "customer": {"name": "张三", "phone": "13800138000"},
        "shipping_address": {
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文三路90号",
        },
        "lines": [{"sku": "TEA", "quantity": 2}],
        "payment_method": "prepaid",
        **extra,
    }
    return api.post(
        "/api/v1/orders/", payload, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )


def test_an_api_order_gets_its_coupon_and_the_default_shipping_rule(api):
    CouponFactory(code="WELCOME")
    ShippingRuleFactory(first_fee=D("8.00"))

    response = api_order(api, "WEB-1", coupon_code="WELCOME")

    assert response.status_code == 201, response.content
    body = response.json()
    # 176.00 − 10.00 + 8.00 (1 kg at the first-weight fee)
    assert (body["total"], body["discount_total"], body["shipping_fee"]) == (
        "174.00",
        "10.00",
        "8.00",
    )


def test_an_api_order_with_a_used_up_coupon_is_refused_with_a_message(api):
    CouponFactory(code="ONCE", usage_limit=1)
    assert api_order(api, "WEB-1", coupon_code="ONCE").status_code == 201

    response = api_order(api, "WEB-2", coupon_code="ONCE")

    assert response.status_code == 400
    assert response.json() == {"detail": "Coupon ONCE has been used up."}
    assert not Order.objects.filter(external_id="WEB-2").exists()
