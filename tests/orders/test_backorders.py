"""Staff choices for a backordered order: wait, split, substitute a product, cancel short lines."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.utils import translation

from inventory.models import Reservation, StockLevel
from inventory.services import stock_receive
from orders.exceptions import OrderError
from orders.models import Order, OrderEvent
from orders.roles import OWNER, WAREHOUSE
from orders.services import (
    LineInput,
    OrderInput,
    order_backorder_cancel_lines,
    order_backorder_split,
    order_backorder_substitute,
    order_backorder_wait,
    order_create,
    order_payment_received,
)
from tests.factories.inventory import ProductFactory, WarehouseFactory
from tracking.models import Notification

S = Order.Status


@pytest.fixture
def short_order(channel, warehouse):
    """A paid order for 5 × A (3 in stock, 60.00 each) and 2 × B (in stock, 40.00 each)."""
    a = ProductFactory(sku="A", price=Decimal("60.00"))
    b = ProductFactory(sku="B", price=Decimal("40.00"))
    stock_receive(product=a, warehouse=warehouse, quantity=3, actor="t")
    stock_receive(product=b, warehouse=warehouse, quantity=10, actor="t")
    order = order_create(
        data=OrderInput(
            channel=channel,
            customer_name="张三",
            customer_phone="13800138000",
            customer_email="buyer@example.com",
            lines=[LineInput(a, 5), LineInput(b, 2)],
            payment_method="prepaid",
            address={
                "province": "广东省",
                "city": "深圳市",
                "district": "南山区",
                "address_detail": "科技园路1号",
            },
        ),
        actor="test",
    )
    order = order_payment_received(order=order, paid_in_full=True, actor="test")
    assert order.status == S.BACKORDERED
    return order


def told(order, template):
    return sorted(
        Notification.objects.filter(order=order, template=template).values_list(
            "channel", flat=True
        )
    )


def reserved(order):
    return {
        r.product.sku: r.quantity
        for r in Reservation.objects.filter(order=order).select_related("product")
    }


def test_waiting_keeps_the_order_backordered_and_tells_the_customer(
    short_order, staff_user
):
    order = order_backorder_wait(order=short_order, actor=staff_user)

    assert order.status == S.BACKORDERED
    event = order.events.latest("id")
    assert (event.kind, event.data, event.actor) == (
        OrderEvent.Kind.STOCK,
        {"backorder_choice": "wait"},
        staff_user,
    )
    assert told(order, "backorder_wait") == ["email", "sms"]
    assert not Reservation.objects.exists()


def test_splitting_reserves_what_is_there_and_owes_the_rest(
    short_order, staff_user, ship, stock_ledger_errors
):
    order = order_backorder_split(order=short_order, actor=staff_user)

    assert order.status == S.READY_TO_FULFILL
    assert reserved(order) == {"A": 3, "B": 2}
    assert {line.sku: line.backordered_quantity for line in order.lines.all()} == {
        "A": 2,
        "B": 0,
    }
    assert order.events.latest("id").data == {
        "backorder_choice": "split",
        "owed": [{"sku": "A", "quantity": 2}],
    }
    assert told(order, "backorder_split") == ["email", "sms"]
    ship(order)
    order.refresh_from_db()
    assert order.status == S.PARTIALLY_SHIPPED
    assert StockLevel.objects.filter(reserved__gt=0).count() == 0
    assert stock_ledger_errors() == []


def test_splitting_when_nothing_is_in_stock_is_refused(channel, warehouse, staff_user):
    product = ProductFactory(sku="NONE")
    stock_receive(product=product, warehouse=warehouse, quantity=1, actor="t")
    order = order_create(
        data=OrderInput(
            channel=channel,
            customer_name="张三",
            customer_phone="13800138000",
            lines=[LineInput(product, 2)],
            payment_method="cod",
            address={
                "province": "广东省",
                "city": "深圳市",
                "district": "南山区",
                "address_detail": "科技园路1号",
            },
        ),
        actor="test",
    )
    StockLevel.objects.filter(product=product).update(on_hand=0)

    with translation.override("en"), pytest.raises(OrderError) as caught:
        order_backorder_split(order=order, actor=staff_user)

    assert (
        str(caught.value)
        == "Nothing of this order is in stock yet; it cannot be split."
    )
    assert not Reservation.objects.exists()


def test_substituting_a_product_keeps_the_price_and_reserves_again(
    short_order, warehouse, staff_user, stock_ledger_errors
):
    c = ProductFactory(sku="C", price=Decimal("99.00"))
    stock_receive(product=c, warehouse=warehouse, quantity=10, actor="t")
    line = short_order.lines.get(sku="A")
    total = short_order.total

    order = order_backorder_substitute(
        order=short_order, line=line, product=c, actor=staff_user
    )

    assert order.status == S.READY_TO_FULFILL
    line.refresh_from_db()
    assert (line.sku, line.product, line.unit_price) == ("C", c, Decimal("60.00"))
    order.refresh_from_db()
    assert order.total == total
    assert reserved(order) == {"C": 5, "B": 2}
    assert told(order, "backorder_substitute") == ["email", "sms"]
    assert stock_ledger_errors() == []


def test_substituting_at_a_new_price_recomputes_the_totals(
    short_order, warehouse, staff_user
):
    c = ProductFactory(sku="C", price=Decimal("99.00"))
    stock_receive(product=c, warehouse=warehouse, quantity=10, actor="t")
    line = short_order.lines.get(sku="A")

    order_backorder_substitute(
        order=short_order,
        line=line,
        product=c,
        unit_price=Decimal("50.00"),
        actor=staff_user,
    )

    order = Order.objects.get(pk=short_order.pk)
    assert order.lines.get(sku="C").line_total == Decimal("250.00")
    assert order.subtotal == Decimal("330.00")
    assert order.total == order.subtotal - order.discount_total + order.shipping_fee


def test_cancelling_the_short_lines_recomputes_totals_and_notes_the_refund(
    short_order, staff_user, stock_ledger_errors
):
    order = order_backorder_cancel_lines(order=short_order, actor=staff_user)

    assert order.status == S.READY_TO_FULFILL
    order = Order.objects.get(pk=order.pk)
    assert [line.sku for line in order.lines.all()] == ["B"]
    assert (order.subtotal, order.total) == (Decimal("80.00"), Decimal("80.00"))
    event = order.events.filter(data__backorder_choice="lines_cancelled").get()
    assert event.data["refund_due"] == "300.00"
    assert event.data["removed"] == [
        {"sku": "A", "quantity": 5, "line_total": "300.00"}
    ]
    assert reserved(order) == {"B": 2}
    assert told(order, "backorder_lines_cancelled") == ["email", "sms"]
    assert stock_ledger_errors() == []


def test_cancelling_every_line_is_refused(channel, warehouse, staff_user):
    product = ProductFactory(sku="ONE")
    order = order_create(
        data=OrderInput(
            channel=channel,
            customer_name="张三",
            customer_phone="13800138000",
            lines=[LineInput(product, 2)],
            payment_method="cod",
            address={
                "province": "广东省",
                "city": "深圳市",
                "district": "南山区",
                "address_detail": "科技园路1号",
            },
        ),
        actor="test",
    )

    with translation.override("en"), pytest.raises(OrderError) as caught:
        order_backorder_cancel_lines(order=order, actor=staff_user)

    assert str(caught.value) == (
        "Every line is short: cancel the order instead of its lines."
    )


def test_backorder_choices_are_refused_for_an_order_not_waiting_for_stock(
    place_order, staff_user
):
    order = place_order(payment_method="cod")

    with translation.override("en"), pytest.raises(OrderError) as caught:
        order_backorder_wait(order=order, actor=staff_user)

    assert str(caught.value) == f"Order {order.number} is not waiting for stock."


# --- Console ----------------------------------------------------------------------


@pytest.fixture
def console(client, member):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(OWNER))
    return client


def said(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_order_page_offers_the_backorder_choices(console, short_order):
    page = console.get(short_order.get_absolute_url()).content.decode()

    for name in (
        "backorder_wait",
        "backorder_split",
        "backorder_substitute",
        "backorder_cancel_lines",
    ):
        assert f'id="action-{name}"' in page


def test_the_split_button_readies_the_order(console, short_order):
    response = console.post(f"/console/orders/{short_order.number}/backorder/split/")

    assert said(response) == [f"Order {short_order.number} is now “Ready to fulfil”."]


def test_the_substitute_form_takes_a_sku(console, short_order, warehouse):
    c = ProductFactory(sku="C")
    stock_receive(product=c, warehouse=warehouse, quantity=10, actor="t")
    line = short_order.lines.get(sku="A")

    response = console.post(
        f"/console/orders/{short_order.number}/backorder/substitute/",
        {"line": line.pk, "sku": "c", "unit_price": ""},
    )

    assert said(response) == [f"Order {short_order.number} is now “Ready to fulfil”."]
    line.refresh_from_db()
    assert line.sku == "C"


def test_warehouse_staff_move_an_order_to_another_warehouse_from_its_page(
    client, member, place_order, stocked_product, stock_ledger_errors
):
    sh = WarehouseFactory(code="sh", name="上海仓", priority=5)
    stock_receive(product=stocked_product, warehouse=sh, quantity=5, actor="t")
    order = place_order(payment_method="cod", quantity=2)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))
    assert (
        'id="action-reallocate"'
        in client.get(order.get_absolute_url()).content.decode()
    )

    response = client.post(
        f"/console/orders/{order.number}/reallocate/", {"warehouse": sh.pk}
    )

    assert said(response) == ["Reservation moved to 上海仓."]
    assert reserved(order) == {stocked_product.sku: 2}
    assert Reservation.objects.get().warehouse == sh
    assert stock_ledger_errors() == []


def test_customer_service_cannot_move_stock_between_warehouses(
    client, member, place_order
):
    from orders.roles import CUSTOMER_SERVICE

    order = place_order(payment_method="cod")
    client.force_login(member(CUSTOMER_SERVICE))

    response = client.post(f"/console/orders/{order.number}/reallocate/", {})

    assert response.status_code == 403


def test_the_owed_rest_of_a_split_order_is_reserved_and_shipped_later(
    short_order, staff_user, warehouse, ship, stock_ledger_errors
):
    from orders.services import order_backorder_remainder_fill

    order = order_backorder_split(order=short_order, actor=staff_user)
    ship(order)
    assert order_backorder_remainder_fill(order=order, actor=staff_user) == 0
    stock_receive(
        product=order.lines.get(sku="A").product,
        warehouse=warehouse,
        quantity=5,
        actor="t",
    )

    assert order_backorder_remainder_fill(order=order, actor=staff_user) == 2

    assert reserved(order) == {"A": 2}
    assert order.lines.get(sku="A").backordered_quantity == 0
    ship(order)
    order.refresh_from_db()
    assert order.status == S.SHIPPED
    assert stock_ledger_errors() == []


def test_the_owed_items_wait_until_the_first_parcel_has_shipped(
    short_order, staff_user
):
    from orders.services import order_backorder_remainder_fill

    order = order_backorder_split(order=short_order, actor=staff_user)

    with translation.override("en"), pytest.raises(OrderError) as caught:
        order_backorder_remainder_fill(order=order, actor=staff_user)

    assert str(caught.value) == (
        "The owed items can be reserved once the first parcel has shipped."
    )
