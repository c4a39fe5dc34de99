import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import translation

from inventory.exceptions import StockError
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services import (
    stock_receive,
    stock_release_for_order,
    stock_reserve_for_order,
)
from orders.models import Order
from tests.factories.inventory import ProductFactory, WarehouseFactory

S = Order.Status


def test_receiving_stock_adds_on_hand_and_writes_a_movement(warehouse, staff_user):
    product = ProductFactory()

    stock_receive(product=product, warehouse=warehouse, quantity=4, actor=staff_user)
    level = stock_receive(product=product, warehouse=warehouse, quantity=3, actor="x")

    assert (level.on_hand, level.reserved) == (7, 0)
    movements = StockMovement.objects.filter(product=product).order_by("id")
    assert [(m.kind, m.on_hand_delta, m.actor) for m in movements] == [
        ("received", 4, staff_user),
        ("received", 3, None),
    ]


@pytest.mark.parametrize("quantity", [0, -2])
def test_receiving_nothing_or_less_is_refused(warehouse, quantity):
    product = ProductFactory()

    with translation.override("en"), pytest.raises(StockError) as caught:
        stock_receive(
            product=product, warehouse=warehouse, quantity=quantity, actor="x"
        )

    assert str(caught.value) == "Quantity received must be a positive whole number."
    assert not StockMovement.objects.exists()


def test_reserving_writes_level_reservation_and_movement(place_order):
    order = place_order(payment_method="cod", quantity=4)

    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved, level.available) == (10, 4, 6)
    reservation = Reservation.objects.get()
    assert (reservation.order, reservation.warehouse, reservation.quantity) == (
        order,
        level.warehouse,
        4,
    )
    movement = StockMovement.objects.get(kind=StockMovement.Kind.RESERVED)
    assert (movement.order, movement.on_hand_delta, movement.reserved_delta) == (
        order,
        0,
        4,
    )


def test_reserving_twice_for_one_order_holds_the_stock_once(place_order):
    order = place_order(payment_method="cod", quantity=2)

    assert stock_reserve_for_order(order=order, actor="test") == []

    assert StockLevel.objects.get().reserved == 2
    assert Reservation.objects.count() == 1


def test_warehouses_are_tried_by_priority(channel, warehouse, place_order):
    product = ProductFactory()
    backup = WarehouseFactory(code="sh", name="上海仓", priority=5)
    stock_receive(product=product, warehouse=backup, quantity=5, actor="test")
    stock_receive(product=product, warehouse=warehouse, quantity=5, actor="test")

    first = place_order(payment_method="cod", quantity=3, product=product)
    second = place_order(payment_method="cod", quantity=3, product=product)

    assert first.reservations.get().warehouse == warehouse  # priority 1
    assert second.reservations.get().warehouse == backup
    levels = {lv.warehouse.code: lv.reserved for lv in StockLevel.objects.all()}
    assert levels == {"hz": 3, "sh": 3}


def test_an_inactive_warehouse_is_not_reserved_from(place_order, warehouse):
    warehouse.active = False
    warehouse.save()

    order = place_order(payment_method="cod")

    assert order.status == S.BACKORDERED
    assert StockLevel.objects.get().reserved == 0


def test_release_gives_back_every_reserved_unit(place_order, staff_user):
    order = place_order(payment_method="cod", quantity=3)

    assert stock_release_for_order(order=order, actor=staff_user) == 3
    assert stock_release_for_order(order=order, actor=staff_user) == 0

    assert StockLevel.objects.get().reserved == 0
    assert not Reservation.objects.exists()
    assert StockMovement.objects.filter(kind="released").count() == 1


def test_the_ledger_matches_every_stock_level(place_order, stock_ledger_errors):
    place_order(payment_method="cod", quantity=2)
    cancelled = place_order(payment_method="cod", quantity=5)
    stock_release_for_order(order=cancelled, actor="test")

    assert stock_ledger_errors() == []


def test_the_ledger_check_notices_a_level_changed_behind_its_back(
    stocked_product, stock_ledger_errors
):
    StockLevel.objects.update(on_hand=F("on_hand") + 1)

    assert len(stock_ledger_errors()) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"reserved": F("on_hand") + 1},
        {"reserved": -1},
        {"on_hand": 2, "reserved": 3},
    ],
    ids=["reserved-over-on-hand", "negative-reserved", "on-hand-under-reserved"],
)
def test_the_database_refuses_impossible_stock_levels(stocked_product, change):
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(product=stocked_product).update(**change)

    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (10, 0)


def test_the_database_refuses_a_second_level_for_the_same_place(
    stocked_product, warehouse
):
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.create(product=stocked_product, warehouse=warehouse)
