from datetime import UTC, datetime
from decimal import Decimal

import pytest

from inventory.models import StockLevel
from inventory.services import stock_receive
from orders.bulk import BulkItem, orders_create_bulk
from orders.models import Customer, Order
from orders.services import LineInput, OrderInput
from tests.factories.inventory import ProductFactory

ADDRESS = {
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "address_detail": "科技园路1号",
}


def item(channel, product, n, *, quantity=1, paid=True, phone=None, address=ADDRESS):
    return BulkItem(
        data=OrderInput(
            channel=channel,
            external_id=f"TB-{n}",
            customer_name=f"买家{n}",
            customer_phone=phone or f"1380013{n:04d}",
            lines=[LineInput(product, quantity, Decimal("10.00"))],
            payment_method="prepaid",
            address=address,
            shipping_fee=Decimal("5.00"),
        ),
        paid=paid,
    )


def test_bulk_orders_follow_the_same_rules_as_single_orders(channel, stocked_product):
    items = [
        item(channel, stocked_product, 1),
        item(channel, stocked_product, 2, paid=False),
        item(channel, stocked_product, 3, phone="12345"),
    ]
    result = orders_create_bulk(items=items, actor="import")
    statuses = {o.external_id: o.status for o in Order.objects.all()}
    assert statuses == {
        "TB-1": Order.Status.READY_TO_FULFILL,
        "TB-2": Order.Status.AWAITING_PAYMENT,
        "TB-3": Order.Status.NEEDS_CORRECTION,
    }
    assert result.errors == {}
    first = Order.objects.get(external_id="TB-1")
    assert first.total == Decimal("15.00")
    assert [e.to_status for e in first.events.all()] == ["received", "ready_to_fulfill"]


def test_bulk_reservation_never_oversells_and_backorders_the_latest(channel, warehouse):
    product = ProductFactory()
    stock_receive(product=product, warehouse=warehouse, quantity=3, actor="test")
    items = [item(channel, product, n, quantity=2) for n in range(3)]
    orders_create_bulk(items=items, actor="import")
    level = StockLevel.objects.get(product=product)
    assert (level.on_hand, level.reserved) == (3, 2)
    assert Order.objects.filter(status=Order.Status.BACKORDERED).count() == 2


def test_customers_are_matched_by_phone_and_created_once(channel, stocked_product):
    items = [item(channel, stocked_product, n, phone="13800138000") for n in range(3)]
    orders_create_bulk(items=items, actor="import")
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_bad_item_is_reported_by_index_and_the_rest_land(
    channel, stocked_product, quantity
):
    items = [
        item(channel, stocked_product, 1),
        item(channel, stocked_product, 2, quantity=quantity),
    ]
    result = orders_create_bulk(items=items, actor="import")
    assert list(result.errors) == [1]
    assert Order.objects.count() == 1


def test_orders_that_draw_the_same_number_get_different_ones(monkeypatch, channel):
    from orders import bulk

    draws = iter(["260101000001", "260101000001", "260101000002", "260101000003"])
    monkeypatch.setattr(bulk, "new_order_number", lambda placed_at, lane: next(draws))
    orders = [Order(channel=channel), Order(channel=channel), Order(channel=channel)]

    bulk._allot_numbers(orders)

    assert len({order.number for order in orders}) == 3


def test_numbers_drawn_in_a_lane_end_in_that_lane():
    from orders.services import new_order_number

    placed_at = datetime(2026, 11, 11, 12, tzinfo=UTC)
    numbers = [new_order_number(placed_at, lane=(1, 3)) for _ in range(200)]

    assert {n[:6] for n in numbers} == {"261111"}
    assert all(len(n) == 12 and int(n[6:]) % 3 == 1 for n in numbers)


def test_a_number_taken_by_a_concurrent_writer_is_drawn_again(
    monkeypatch, channel, stocked_product
):
    from orders import bulk
    from tests.factories.orders import OrderFactory

    OrderFactory(channel=channel, number="260101000001")
    # The first draw clashes with a row another writer inserted after our check.
    draws = iter(["260101000001", "260101000002"])
    monkeypatch.setattr(bulk, "new_order_number", lambda placed_at, lane: next(draws))
    monkeypatch.setattr(bulk, "_allot_numbers", _draw_without_checking(bulk))
    data = OrderInput(
        channel=channel,
        customer_name="张三",
        customer_phone="13800138000",
        lines=[LineInput(stocked_product, 1)],
        payment_method="cod",
        address={
            "province": "广东省",
            "city": "深圳市",
            "district": "南山区",
            "address_detail": "科技园路1号",
        },
    )

    result = orders_create_bulk(items=[BulkItem(data=data)], actor="test")

    assert [o.number for o in result.orders] == ["260101000002"]
    assert Order.objects.filter(number="260101000002").exists()


def _draw_without_checking(bulk):
    def draw(orders, lane):
        for order in orders:
            order.number = bulk.new_order_number(order.placed_at, lane=lane)

    return draw


def test_a_customer_added_by_a_concurrent_writer_is_kept_and_matched(
    monkeypatch, channel, stocked_product
):
    from orders import bulk

    theirs = Customer.objects.create(name="先来的", phone="+8613800138000")
    # Our look-up ran before the other writer committed: it saw no customer.
    real_filter = Customer.objects.filter
    calls = []

    def look_up_before_them(*args, **kwargs):
        calls.append(kwargs)
        found = real_filter(*args, **kwargs)
        return found.none() if len(calls) == 1 else found

    monkeypatch.setattr(bulk.Customer.objects, "filter", look_up_before_them)
    items = [item(channel, stocked_product, 1, phone="13800138000")]

    result = orders_create_bulk(items=items, actor="import")

    assert result.orders[0].customer_id == theirs.pk
    assert Customer.objects.count() == 1
