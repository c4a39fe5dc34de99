"""Backorder choices that change lines keep the price breakdown adding up, tax included."""

from decimal import Decimal

import pytest

from inventory.services import stock_receive
from orders.models import Order, Promotion
from orders.pricing import rules_forget
from orders.services import (
    LineInput,
    OrderInput,
    order_backorder_cancel_lines,
    order_backorder_substitute,
    order_create,
)
from tests.factories.inventory import ProductFactory
from tests.factories.pricing import PromotionFactory, TaxRuleFactory

D = Decimal


@pytest.fixture(autouse=True)
def fresh_rules():
    rules_forget()
    yield
    rules_forget()


@pytest.fixture
def short_taxed_order(channel, warehouse):
    """A: 100.00, none in stock; B: 50.00 less 10% off; 满100减15 spread; VAT 13% inside."""
    a = ProductFactory(sku="A", price=D("100.00"))
    b = ProductFactory(sku="B", price=D("50.00"))
    stock_receive(product=b, warehouse=warehouse, quantity=10, actor="t")
    PromotionFactory(kind=Promotion.Kind.PERCENT_OFF, percent=D("10"), products=[b])
    PromotionFactory(
        kind=Promotion.Kind.AMOUNT_OFF,
        amount=D("15.00"),
        threshold=D("100"),
        percent=None,
    )
    TaxRuleFactory()
    order = order_create(
        data=OrderInput(
            channel=channel,
            customer_name="张三",
            customer_phone="13800138000",
            lines=[LineInput(a, 1), LineInput(b, 1)],
            payment_method="cod",
            address={
                "province": "广东省",
                "city": "深圳市",
                "district": "南山区",
                "address_detail": "科技园路1号",
            },
        ),
        actor="t",
    )
    order.refresh_from_db()
    assert order.status == Order.Status.BACKORDERED
    # A net 100 − 10.53 share; B net 45 − 4.47 share: 130.00.
    assert (order.subtotal, order.discount_total, order.total) == (
        D("150.00"),
        D("20.00"),
        D("130.00"),
    )
    return order


def _adds_up(order):
    why = order.price_explanation
    assert order.total == order.subtotal - order.discount_total + order.shipping_fee
    assert why["totals"] == {
        "subtotal": str(order.subtotal),
        "discount_total": str(order.discount_total),
        "shipping_fee": str(order.shipping_fee),
        "tax_total": str(order.tax_total),
        "total": str(order.total),
    }
    assert sum(D(li["tax"]) for li in why["lines"]) == order.tax_total


def test_cancelling_short_lines_of_a_taxed_discounted_order_keeps_the_parts_adding_up(
    short_taxed_order, staff_user
):
    order = order_backorder_cancel_lines(order=short_taxed_order, actor=staff_user)
    order = Order.objects.get(pk=order.pk)

    (line,) = order.lines.all()
    assert (order.subtotal, order.discount_total) == (
        D("50.00"),
        line.discount + line.order_discount_share,
    )
    assert order.total == D("50.00") - line.discount - line.order_discount_share
    # VAT inside the remaining goods: net × 0.13 / 1.13, rounded half up.
    net = order.total
    assert order.tax_total == (net * D("0.13") / D("1.13")).quantize(D("0.01"))
    _adds_up(order)
    event = order.events.filter(data__backorder_choice="lines_cancelled").get()
    assert D(event.data["old_total"]) - D(event.data["total"]) == D("130.00") - net


def test_substituting_a_taxed_line_recomputes_tax_and_totals(
    short_taxed_order, warehouse, staff_user
):
    c = ProductFactory(sku="C", price=D("80.00"))
    stock_receive(product=c, warehouse=warehouse, quantity=5, actor="t")

    order_backorder_substitute(
        order=short_taxed_order,
        line=short_taxed_order.lines.get(sku="A"),
        product=c,
        unit_price=D("80.00"),
        actor=staff_user,
    )
    order = Order.objects.get(pk=short_taxed_order.pk)

    assert order.status == Order.Status.READY_TO_FULFILL
    assert order.subtotal == D("130.00")
    assert order.discount_total == D("20.00")  # shares kept with their lines
    assert order.total == D("110.00")
    _adds_up(order)
