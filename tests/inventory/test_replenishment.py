"""Low-stock alerts and reorder suggestions from sales velocity, lead time and safety stock."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import StockLevel, StockMovement
from inventory.selectors import backorders_owed, replenishment_rows
from inventory.services import stock_receive
from orders.models import Order
from tests.factories.inventory import ProductFactory, WarehouseFactory


@pytest.fixture
def history(settings, warehouse, place_order):
    """A product sold 30 units in the last 30 days (and 30 more before), 12 owed."""
    settings.REPLENISHMENT_VELOCITY_DAYS = 30
    settings.REPLENISHMENT_REVIEW_DAYS = 14
    product = ProductFactory(sku="TEA-LOW", safety_stock=5, lead_time_days=10)
    stock_receive(product=product, warehouse=warehouse, quantity=70, actor="test")
    place_order(product=product, quantity=30, payment_method="cod")
    place_order(product=product, quantity=30, payment_method="cod")
    # The first sale was 40 days ago: outside the velocity window.
    first = StockMovement.objects.filter(product=product, kind="reserved").earliest(
        "pk"
    )
    StockMovement.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    backordered = place_order(product=product, quantity=12, payment_method="cod")
    assert backordered.status == Order.Status.BACKORDERED
    return product


def test_reorder_point_and_suggestion_follow_the_formula(history, warehouse):
    row = next(r for r in replenishment_rows() if r.level.product == history)

    # v = 30 / 30 = 1 a day; ROP = ⌈1 × 10 + 5⌉ = 15; available 10, owed 12: net −2;
    # suggested = ⌈1 × (10 + 14) + 5⌉ − (−2) = 31.
    assert (row.sold, row.velocity, row.owed, row.available) == (30, 1, 12, 10)
    assert (row.reorder_point, row.low, row.suggested) == (15, True, 31)


def test_a_reorder_point_set_on_the_level_wins(history, warehouse):
    StockLevel.objects.filter(product=history).update(reorder_point=0)
    stock_receive(product=history, warehouse=warehouse, quantity=20, actor="test")
    # The backorder is not filled here (no commit), so 30 available, 12 owed: net 18.

    row = next(r for r in replenishment_rows() if r.level.product == history)

    assert (row.reorder_point, row.manual, row.low, row.suggested) == (
        0,
        True,
        False,
        0,
    )


def test_a_product_without_sales_or_safety_stock_is_not_low(warehouse):
    product = ProductFactory(safety_stock=0)
    StockLevel.objects.create(product=product, warehouse=warehouse)

    (row,) = replenishment_rows()

    assert (row.velocity, row.reorder_point, row.low, row.suggested) == (
        0,
        0,
        False,
        0,
    )


def test_backorders_are_owed_on_the_first_warehouse_only(history, warehouse):
    backup = WarehouseFactory(code="sh", name="上海仓", priority=5)
    stock_receive(product=history, warehouse=backup, quantity=1, actor="test")

    rows = {
        r.level.warehouse.code: r
        for r in replenishment_rows()
        if r.level.product == history
    }

    assert (rows["hz"].owed, rows["sh"].owed) == (12, 0)


def test_low_stock_comes_first_and_can_be_listed_alone(
    history, warehouse, stocked_product
):
    plenty = ProductFactory(sku="AAA-PLENTY")
    stock_receive(product=plenty, warehouse=warehouse, quantity=50, actor="test")

    assert [r.level.product.sku for r in replenishment_rows()] == [
        "TEA-LOW",
        "AAA-PLENTY",
        stocked_product.sku,
    ]
    assert [r.level.product.sku for r in replenishment_rows(low_only=True)] == [
        "TEA-LOW"
    ]


def test_the_backorder_list_says_what_is_owed_to_whom(history, place_order):
    later = place_order(product=history, quantity=11, payment_method="cod")

    (group,) = backorders_owed()

    assert group.product == history
    assert [(e.line.order.customer.name, e.owed) for e in group.entries] == [
        ("张三", 12),
        ("张三", 11),
    ]
    assert group.entries[1].line.order == later
    assert (group.owed, group.available, group.short) == (23, 10, 13)
    assert group.entries[0].waiting_since is not None


def test_a_split_order_still_owes_its_missing_units_on_the_backorder_list(
    place_order, stocked_product, staff_user
):
    from orders.services import order_backorder_split

    order = place_order(payment_method="cod", quantity=12)
    order_backorder_split(order=order, actor=staff_user)

    (group,) = backorders_owed()

    assert [(e.line.order, e.owed) for e in group.entries] == [(order, 2)]
    assert (group.owed, group.available, group.short) == (2, 0, 2)
