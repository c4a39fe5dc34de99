"""Goods-in, adjustments, returns and stocktakes: each a movement, backorders filled after."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from inventory.exceptions import StockError
from inventory.models import StockLevel, StockMovement
from inventory.services import (
    stock_adjust,
    stock_receive,
    stock_return,
    stocktake_post,
)
from orders.models import Order
from tests.factories.inventory import ProductFactory, WarehouseFactory
from tracking.models import Notification

S = Order.Status
K = StockMovement.Kind


@pytest.fixture
def empty_product(warehouse):
    """A product with a stock row in the default warehouse and no units."""
    product = ProductFactory(sku="MUG-001", name="马克杯")
    StockLevel.objects.create(product=product, warehouse=warehouse)
    return product


def test_goods_in_writes_a_movement_with_who_why_and_reference(warehouse, staff_user):
    product = ProductFactory()

    level = stock_receive(
        product=product,
        warehouse=warehouse,
        quantity=12,
        actor=staff_user,
        reason="春季补货",
        reference="供应商送货单 DN-889",
    )

    assert (level.on_hand, level.reserved) == (12, 0)
    movement = StockMovement.objects.get(product=product)
    assert (
        movement.kind,
        movement.on_hand_delta,
        movement.actor,
        movement.reason,
        movement.reference,
    ) == (K.RECEIVED, 12, staff_user, "春季补货", "供应商送货单 DN-889")


def test_goods_in_fills_the_oldest_backorder_first(
    place_order,
    empty_product,
    warehouse,
    staff_user,
    django_capture_on_commit_callbacks,
    stock_ledger_errors,
):
    now = timezone.now()
    # Created first but placed later: the fill goes by placed_at, not by id.
    newer = place_order(
        product=empty_product,
        quantity=3,
        payment_method="cod",
        placed_at=now - timedelta(hours=1),
    )
    older = place_order(
        product=empty_product,
        quantity=3,
        payment_method="cod",
        placed_at=now - timedelta(days=2),
    )
    assert (newer.status, older.status) == (S.BACKORDERED, S.BACKORDERED)

    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(
            product=empty_product, warehouse=warehouse, quantity=4, actor=staff_user
        )

    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, newer.status) == (S.READY_TO_FULFILL, S.BACKORDERED)
    level = StockLevel.objects.get(product=empty_product)
    assert (level.on_hand, level.reserved) == (4, 3)
    assert older.reservations.get().quantity == 3
    assert stock_ledger_errors() == []
    filled = Notification.objects.filter(order=older, template="backorder_filled")
    assert sorted(filled.values_list("channel", flat=True)) == ["email", "sms"]
    assert not Notification.objects.filter(
        order=newer, template="backorder_filled"
    ).exists()


def test_filling_backorders_twice_fills_nothing_twice(
    place_order, empty_product, warehouse, django_capture_on_commit_callbacks
):
    from orders.services import backorders_fill

    order = place_order(product=empty_product, quantity=2, payment_method="cod")
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(
            product=empty_product, warehouse=warehouse, quantity=5, actor="test"
        )

    assert backorders_fill(product_ids=[empty_product.pk]) == []

    order.refresh_from_db()
    assert order.status == S.READY_TO_FULFILL
    assert StockLevel.objects.get(product=empty_product).reserved == 2
    assert StockMovement.objects.filter(kind=K.RESERVED).count() == 1


def test_an_order_no_warehouse_can_serve_is_not_retried(
    place_order, empty_product, warehouse, django_capture_on_commit_callbacks
):
    order = place_order(product=empty_product, quantity=5, payment_method="cod")
    events = order.events.count()

    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(
            product=empty_product, warehouse=warehouse, quantity=2, actor="test"
        )

    order.refresh_from_db()
    assert order.status == S.BACKORDERED
    assert order.events.count() == events


def test_adjusting_up_and_down_writes_adjusted_movements(stocked_product, warehouse):
    stock_adjust(
        product=stocked_product,
        warehouse=warehouse,
        delta=2,
        reason="找到两件",
        actor="test",
    )
    level = stock_adjust(
        product=stocked_product,
        warehouse=warehouse,
        delta=-5,
        reason="破损",
        actor="test",
    )

    assert level.on_hand == 7
    adjusted = StockMovement.objects.filter(kind=K.ADJUSTED).order_by("pk")
    assert [(m.on_hand_delta, m.reason) for m in adjusted] == [
        (2, "找到两件"),
        (-5, "破损"),
    ]


def test_adjusting_below_the_reserved_units_is_refused(
    place_order, stocked_product, warehouse, stock_ledger_errors
):
    place_order(payment_method="cod", quantity=8)

    with translation.override("en"), pytest.raises(StockError) as caught:
        stock_adjust(
            product=stocked_product,
            warehouse=warehouse,
            delta=-3,
            reason="lost",
            actor="test",
        )

    assert str(caught.value) == (
        f"Cannot take 3 of {stocked_product.sku} out of 杭州仓: only 2 are not "
        "reserved for orders."
    )
    level = StockLevel.objects.get(product=stocked_product)
    assert (level.on_hand, level.reserved) == (10, 8)
    assert not StockMovement.objects.filter(kind=K.ADJUSTED).exists()
    assert stock_ledger_errors() == []


@pytest.mark.parametrize(
    ("delta", "reason", "message"),
    [
        (0, "x", "An adjustment must change the stock by at least one unit."),
        (1, " ", "Say why the stock is adjusted."),
    ],
)
def test_an_adjustment_needs_units_and_a_reason(
    stocked_product, warehouse, delta, reason, message
):
    with translation.override("en"), pytest.raises(StockError) as caught:
        stock_adjust(
            product=stocked_product,
            warehouse=warehouse,
            delta=delta,
            reason=reason,
            actor="test",
        )

    assert str(caught.value) == message


def test_a_return_puts_goods_back_on_hand_against_the_order(
    place_order, stocked_product, warehouse, ship, stock_ledger_errors
):
    order = place_order(payment_method="cod", quantity=2)
    ship(order)

    with translation.override("en"):
        level = stock_return(
            product=stocked_product,
            warehouse=warehouse,
            quantity=1,
            actor="test",
            order=order,
        )

    assert (level.on_hand, level.reserved) == (9, 0)
    movement = StockMovement.objects.get(kind=K.RETURNED)
    assert (movement.order, movement.on_hand_delta, movement.reason) == (
        order,
        1,
        f"Returned from order {order.number}",
    )
    assert stock_ledger_errors() == []


def test_a_return_of_a_product_not_on_the_order_is_refused(place_order, warehouse):
    order = place_order(payment_method="cod", quantity=1)
    other = ProductFactory()

    with translation.override("en"), pytest.raises(StockError) as caught:
        stock_return(
            product=other, warehouse=warehouse, quantity=1, actor="x", order=order
        )

    assert str(caught.value) == f"Order {order.number} has no {other.sku} to return."


def test_a_stocktake_posts_each_difference_as_a_movement(
    stocked_product, warehouse, staff_user, stock_ledger_errors
):
    found = ProductFactory()
    same = ProductFactory()
    stock_receive(product=same, warehouse=warehouse, quantity=4, actor="test")

    movements = stocktake_post(
        warehouse=warehouse,
        counts={stocked_product: 7, found: 5, same: 4},
        actor=staff_user,
        reference="盘点表 11月",
    )

    assert sorted((m.product_id, m.on_hand_delta) for m in movements) == sorted(
        [(stocked_product.pk, -3), (found.pk, 5)]
    )
    assert {(m.kind, m.actor, m.reference) for m in movements} == {
        (K.STOCKTAKE, staff_user, "盘点表 11月")
    }
    levels = dict(
        StockLevel.objects.filter(warehouse=warehouse).values_list(
            "product_id", "on_hand"
        )
    )
    assert levels == {stocked_product.pk: 7, found.pk: 5, same.pk: 4}
    assert stock_ledger_errors() == []


def test_a_stocktake_below_the_reservations_is_refused_whole(
    place_order, stocked_product, warehouse
):
    place_order(payment_method="cod", quantity=6)
    other = ProductFactory()

    with translation.override("en"), pytest.raises(StockError) as caught:
        stocktake_post(
            warehouse=warehouse, counts={other: 3, stocked_product: 4}, actor="x"
        )

    assert str(caught.value) == (
        "Counted fewer units than are reserved for orders; re-allocate or cancel "
        f"those orders first: {stocked_product.sku} counted 4, reserved 6"
    )
    assert not StockMovement.objects.filter(kind=K.STOCKTAKE).exists()
    assert StockLevel.objects.get(product=stocked_product).on_hand == 10


def test_a_stocktake_fills_backorders_when_it_finds_units(
    place_order, empty_product, django_capture_on_commit_callbacks
):
    order = place_order(product=empty_product, quantity=2, payment_method="cod")
    backup = WarehouseFactory(code="sh", name="上海仓", priority=5)

    with django_capture_on_commit_callbacks(execute=True):
        stocktake_post(warehouse=backup, counts={empty_product: 2}, actor="x")

    order.refresh_from_db()
    assert order.status == S.READY_TO_FULFILL
    assert order.reservations.get().warehouse == backup


def test_the_periodic_sweep_fills_what_a_lost_message_left_waiting(
    place_order, empty_product, warehouse
):
    from inventory.tasks import backorders_sweep

    order = place_order(product=empty_product, quantity=2, payment_method="cod")
    # Received without the after-commit fill (as if the broker lost the message).
    stock_receive(product=empty_product, warehouse=warehouse, quantity=2, actor="x")

    assert backorders_sweep() == 1

    order.refresh_from_db()
    assert order.status == S.READY_TO_FULFILL


def test_goods_in_without_backorders_queues_no_fill(
    stocked_product, warehouse, django_capture_on_commit_callbacks, monkeypatch
):
    from inventory import tasks

    queued = []
    monkeypatch.setattr(tasks.backorders_fill, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(
            product=stocked_product, warehouse=warehouse, quantity=1, actor="x"
        )

    assert queued == []
