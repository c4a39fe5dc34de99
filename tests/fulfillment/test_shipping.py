import pytest
from django.utils import translation

from fulfillment.exceptions import ShipmentError
from fulfillment.models import Shipment
from fulfillment.services import fulfillment_start, shipment_ship
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services import Demand, stock_receive, stock_reserve
from orders.exceptions import InvalidTransition
from orders.models import Order, OrderEvent
from orders.services import LineInput, OrderInput, order_create, order_process
from tests.factories.fulfillment import CarrierFactory
from tests.factories.inventory import ProductFactory, WarehouseFactory
from tracking.models import Notification
from tracking.services import tracking_event_record

S = Order.Status


def moves(order):
    return [
        (e.from_status, e.to_status)
        for e in order.events.filter(kind=OrderEvent.Kind.STATUS)
    ]


def test_start_picking_makes_one_parcel_with_the_reserved_lines(
    place_order, staff_user
):
    order = place_order(payment_method="cod", quantity=3)

    [parcel] = fulfillment_start(order=order, actor=staff_user)

    assert (parcel.status, parcel.warehouse.code) == (Shipment.Status.PICKING, "hz")
    assert [(li.order_line.sku, li.quantity) for li in parcel.lines.all()] == [
        (order.lines.get().sku, 3)
    ]
    order.refresh_from_db()
    assert order.status == S.IN_FULFILLMENT


def test_start_picking_an_unpaid_order_is_refused(place_order, staff_user):
    order = place_order()

    with translation.override("en"), pytest.raises(InvalidTransition) as caught:
        fulfillment_start(order=order, actor=staff_user)

    assert str(caught.value) == (
        f"Order {order.number} cannot go from “Awaiting payment” to “In fulfilment”."
    )
    assert not Shipment.objects.exists()


def test_shipping_consumes_the_reservation(place_order, carrier, staff_user):
    order = place_order(payment_method="cod", quantity=2)
    [parcel] = fulfillment_start(order=order, actor=staff_user)

    parcel = shipment_ship(
        shipment=parcel, carrier=carrier, tracking_number=" sf123 ", actor=staff_user
    )

    assert (parcel.status, parcel.tracking_number, parcel.shipped_by) == (
        Shipment.Status.SHIPPED,
        "SF123",
        staff_user,
    )
    assert parcel.shipped_at is not None
    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (8, 0)
    assert not Reservation.objects.exists()
    shipped = StockMovement.objects.get(kind=StockMovement.Kind.SHIPPED)
    assert (shipped.order, shipped.on_hand_delta, shipped.reserved_delta) == (
        order,
        -2,
        -2,
    )
    order.refresh_from_db()
    assert order.status == S.SHIPPED
    assert moves(order)[-1] == ("in_fulfillment", "shipped")
    told = Notification.objects.filter(order=order, template="shipped")
    assert sorted(told.values_list("channel", flat=True)) == ["email", "sms"]
    assert told.first().payload["tracking_number"] == "SF123"


def test_a_parcel_ships_only_once(place_order, ship, carrier, staff_user):
    order = place_order(payment_method="cod")
    [parcel] = ship(order)

    with translation.override("en"), pytest.raises(ShipmentError) as caught:
        shipment_ship(
            shipment=parcel, carrier=carrier, tracking_number="SF999", actor=staff_user
        )

    assert str(caught.value) == "This parcel has already left or was cancelled."
    assert StockLevel.objects.get().on_hand == 9


def test_a_tracking_number_is_used_on_one_parcel_only(
    place_order, ship, carrier, staff_user
):
    [first] = ship(place_order(payment_method="cod"))
    other = place_order(payment_method="cod")
    [parcel] = fulfillment_start(order=other, actor=staff_user)

    with translation.override("en"), pytest.raises(ShipmentError) as caught:
        shipment_ship(
            shipment=parcel,
            carrier=carrier,
            tracking_number=first.tracking_number.lower(),
            actor=staff_user,
        )

    assert str(caught.value) == (
        f"Tracking number {first.tracking_number} is already used on another parcel."
    )
    parcel.refresh_from_db()
    assert parcel.status == Shipment.Status.PICKING
    # Another carrier may use the same number.
    yto = CarrierFactory(code="yto", name="圆通速递")
    shipment_ship(
        shipment=parcel,
        carrier=yto,
        tracking_number=first.tracking_number,
        actor=staff_user,
    )


def test_a_parcel_needs_a_tracking_number(place_order, carrier, staff_user):
    order = place_order(payment_method="cod")
    [parcel] = fulfillment_start(order=order, actor=staff_user)

    with translation.override("en"), pytest.raises(ShipmentError) as caught:
        shipment_ship(
            shipment=parcel, carrier=carrier, tracking_number="  ", actor=staff_user
        )

    assert str(caught.value) == "Enter the tracking number."


def test_parcels_from_two_warehouses_ship_partially_then_fully(
    channel, warehouse, carrier, staff_user
):
    # Reservation keeps an order in one warehouse, so an order split over two is
    # reached only when stock is reserved per product, as a clerk's split would.
    shanghai = WarehouseFactory(code="sh", name="上海仓", priority=5)
    tea, cup = ProductFactory(sku="TEA-9"), ProductFactory(sku="CUP-9")
    stock_receive(product=tea, warehouse=warehouse, quantity=5, actor="test")
    stock_receive(product=cup, warehouse=shanghai, quantity=5, actor="test")
    order = order_create(
        data=OrderInput(
            channel=channel,
            customer_name="王五",
            customer_phone="13700137000",
            lines=[LineInput(tea, 1), LineInput(cup, 2)],
            payment_method="cod",
            address={
                "province": "上海市",
                "city": "上海市",
                "district": "徐汇区",
                "address_detail": "漕溪北路1号",
            },
        ),
        actor="test",
    )
    assert order.status == S.BACKORDERED
    stock_reserve(
        demands=[Demand(order, {tea.pk: 1}), Demand(order, {cup.pk: 2})], actor="test"
    )
    order = order_process(order=order, actor=staff_user)
    assert order.status == S.READY_TO_FULFILL

    hz_parcel, sh_parcel = sorted(
        fulfillment_start(order=order, actor=staff_user), key=lambda p: p.warehouse_id
    )
    shipment_ship(
        shipment=hz_parcel, carrier=carrier, tracking_number="SF1", actor=staff_user
    )
    order.refresh_from_db()
    assert order.status == S.PARTIALLY_SHIPPED

    shipment_ship(
        shipment=sh_parcel, carrier=carrier, tracking_number="SF2", actor=staff_user
    )
    order.refresh_from_db()
    assert order.status == S.SHIPPED

    for parcel, expected in ((hz_parcel, S.SHIPPED), (sh_parcel, S.DELIVERED)):
        tracking_event_record(
            shipment=parcel, status="delivered", description="已签收", actor="sf"
        )
        order.refresh_from_db()
        assert order.status == expected
    assert moves(order)[-3:] == [
        ("in_fulfillment", "partially_shipped"),
        ("partially_shipped", "shipped"),
        ("shipped", "delivered"),
    ]
    assert Notification.objects.filter(template="shipped", channel="sms").count() == 2
    assert [(lv.on_hand, lv.reserved) for lv in StockLevel.objects.order_by("pk")] == [
        (4, 0),
        (3, 0),
    ]
