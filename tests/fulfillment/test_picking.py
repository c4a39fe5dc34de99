import pytest
from django.utils import translation

from fulfillment.exceptions import ShipmentError
from fulfillment.models import PickList, Shipment, ShortPick
from fulfillment.picking import (
    pick_list_create,
    pick_lists_for_orders,
    short_pick_report,
)
from fulfillment.picking_selectors import pick_list_rows, wave_candidates
from inventory.models import StockLevel, StockMovement
from inventory.services import bin_location_set, stock_receive
from orders.models import Order
from orders.services import LineInput, OrderInput, order_cancel, order_create
from tests.factories.inventory import ProductFactory, WarehouseFactory

S = Order.Status


@pytest.fixture
def shelf(warehouse, stocked_product):
    """Two products with bins: the stocked one at B-02, a second at A-01."""
    other = ProductFactory(sku="MUG-01", name="马克杯")
    stock_receive(product=other, warehouse=warehouse, quantity=10, actor="test")
    bin_location_set(
        product=stocked_product, warehouse=warehouse, code="b-02", actor="test"
    )
    bin_location_set(product=other, warehouse=warehouse, code="A-01", actor="test")
    return stocked_product, other


def two_line_order(channel, first, second, *, quantities=(1, 1)):
    return order_create(
        data=OrderInput(
            channel=channel,
            customer_name="李四",
            customer_phone="13900139000",
            customer_email="li@example.com",
            lines=[LineInput(first, quantities[0]), LineInput(second, quantities[1])],
            payment_method="cod",
            address={
                "province": "广东省",
                "city": "深圳市",
                "district": "南山区",
                "address_detail": "科技园路2号",
                "postal_code": "518000",
            },
        ),
        actor="test",
    )


def test_a_wave_groups_lines_by_sku_sorted_by_bin_with_units_per_order(
    place_order, channel, shelf, warehouse, staff_user
):
    tee, mug = shelf
    first = place_order(payment_method="cod", quantity=2)
    second = two_line_order(channel, tee, mug, quantities=(1, 3))

    pick_list = pick_list_create(
        warehouse=warehouse, orders=[first, second], actor=staff_user
    )

    rows = pick_list_rows(pick_list)
    assert [(r.bin, r.sku, r.total) for r in rows] == [
        ("A-01", "MUG-01", 3),
        ("B-02", tee.sku, 3),
    ]
    assert rows[0].per_order == [(2, second.number, 3)]
    assert rows[1].per_order == [(1, first.number, 2), (2, second.number, 1)]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (S.IN_FULFILLMENT, S.IN_FULFILLMENT)
    assert pick_list.number.startswith("PL") and pick_list.parcels.count() == 2


def test_wave_candidates_put_single_item_orders_first(
    place_order, channel, shelf, warehouse
):
    tee, mug = shelf
    multi = two_line_order(channel, tee, mug)
    single = place_order(payment_method="cod", quantity=1)

    orders = wave_candidates(warehouse=warehouse, single_first=True)

    assert [o.number for o in orders] == [single.number, multi.number]
    assert [
        o.number for o in wave_candidates(warehouse=warehouse, single_first=False)
    ] == [
        multi.number,
        single.number,
    ]


def test_an_order_on_a_pick_list_is_not_offered_for_another_wave(
    place_order, warehouse, staff_user
):
    order = place_order(payment_method="cod")
    pick_list_create(warehouse=warehouse, orders=[order], actor=staff_user)

    assert wave_candidates(warehouse=warehouse) == []
    with translation.override("en"), pytest.raises(ShipmentError) as caught:
        pick_list_create(warehouse=warehouse, orders=[order], actor=staff_user)
    assert str(caught.value) == "No parcel to pick in 杭州仓 among these orders."


def test_print_pick_lists_for_selected_orders_makes_one_list_per_warehouse(
    place_order, staff_user
):
    orders = [place_order(payment_method="cod") for _ in range(3)]

    [pick_list] = pick_lists_for_orders(orders=orders, actor=staff_user)

    assert pick_list.parcels.count() == 3
    with translation.override("en"), pytest.raises(ShipmentError) as caught:
        pick_lists_for_orders(orders=orders, actor=staff_user)
    assert str(caught.value) == "None of the selected orders has anything left to pick."


def test_a_short_pick_writes_the_units_off_and_reallocates_the_last_order(
    place_order, warehouse, stocked_product, staff_user, stock_ledger_errors
):
    first = place_order(payment_method="cod", quantity=2)
    last = place_order(payment_method="cod", quantity=1)
    pick_list = pick_list_create(
        warehouse=warehouse, orders=[first, last], actor=staff_user
    )

    short = short_pick_report(
        pick_list=pick_list,
        product=stocked_product,
        quantity=1,
        reason=ShortPick.Reason.DAMAGED,
        actor=staff_user,
    )

    assert short.orders == [last.number]
    level = StockLevel.objects.get(product=stocked_product, warehouse=warehouse)
    # 10 received, 1 written off; first (2) still reserved, last reserved again (1).
    assert (level.on_hand, level.reserved) == (9, 3)
    adjustment = StockMovement.objects.get(kind=StockMovement.Kind.ADJUSTED)
    assert (adjustment.on_hand_delta, adjustment.reference) == (-1, pick_list.number)
    last.refresh_from_db()
    first.refresh_from_db()
    assert (first.status, last.status) == (S.IN_FULFILLMENT, S.READY_TO_FULFILL)
    assert last.shipments.get().status == Shipment.Status.CANCELLED
    assert [r.sku for r in pick_list_rows(pick_list)] == [stocked_product.sku]
    assert pick_list_rows(pick_list)[0].total == 2
    assert stock_ledger_errors() == []


def test_a_short_pick_of_the_last_units_backorders_the_order(
    place_order, warehouse, staff_user, stock_ledger_errors
):
    scarce = ProductFactory(sku="RARE-1")
    stock_receive(product=scarce, warehouse=warehouse, quantity=1, actor="test")
    order = place_order(payment_method="cod", product=scarce)
    pick_list = pick_list_create(warehouse=warehouse, orders=[order], actor=staff_user)

    short_pick_report(
        pick_list=pick_list,
        product=scarce,
        quantity=1,
        reason=ShortPick.Reason.MISSING,
        actor=staff_user,
    )

    order.refresh_from_db()
    assert order.status == S.BACKORDERED
    level = StockLevel.objects.get(product=scarce, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (0, 0)
    assert stock_ledger_errors() == []


def test_a_short_pick_of_more_than_the_list_asks_for_is_refused(
    place_order, warehouse, stocked_product, staff_user
):
    order = place_order(payment_method="cod", quantity=2)
    pick_list = pick_list_create(warehouse=warehouse, orders=[order], actor=staff_user)

    with translation.override("en"), pytest.raises(ShipmentError) as caught:
        short_pick_report(
            pick_list=pick_list,
            product=stocked_product,
            quantity=3,
            reason="missing",
            actor=staff_user,
        )

    assert str(caught.value) == (
        f"Pick list {pick_list.number} asks for only 2 of {stocked_product.sku}."
    )
    assert not ShortPick.objects.exists()
    assert StockLevel.objects.get().on_hand == 10


def test_a_wave_can_span_two_warehouses_of_an_order_only_one_at_a_time(
    place_order, warehouse, staff_user
):
    other = WarehouseFactory(code="sz", name="深圳仓", priority=2)
    order = place_order(payment_method="cod")

    with translation.override("en"), pytest.raises(ShipmentError):
        pick_list_create(warehouse=other, orders=[order], actor=staff_user)

    assert not PickList.objects.exists()


def test_cancelling_an_order_on_a_pick_list_drops_it_from_the_rows(
    place_order, warehouse, staff_user
):
    keep = place_order(payment_method="cod", quantity=1)
    gone = place_order(payment_method="cod", quantity=2)
    pick_list = pick_list_create(
        warehouse=warehouse, orders=[keep, gone], actor=staff_user
    )

    order_cancel(order=gone, actor=staff_user, reason="客户取消")

    [row] = pick_list_rows(pick_list)
    assert row.per_order == [(1, keep.number, 1)]
