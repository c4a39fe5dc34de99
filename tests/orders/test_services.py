from decimal import Decimal

import pytest
from django.utils import translation

from fulfillment.models import Shipment
from fulfillment.services import fulfillment_start
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services import stock_receive
from orders.exceptions import InvalidTransition, OrderError
from orders.models import Channel, Customer, Order, OrderEvent
from orders.services import (
    LineInput,
    OrderInput,
    order_cancel,
    order_complete,
    order_create,
    order_process,
)
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory
from tracking.models import Notification

S = Order.Status
PS = Order.PaymentStatus
ADDRESS = {
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address_detail": "文三路90号",
}


def order_input(channel, lines, **extra):
    return OrderInput(
        channel=channel,
        customer_name=extra.pop("name", "李四"),
        customer_phone=extra.pop("phone", "13912345678"),
        lines=lines,
        payment_method=extra.pop("payment_method", "cod"),
        address=extra.pop("address", ADDRESS),
        **extra,
    )


def status_moves(order):
    return [
        (e.from_status, e.to_status)
        for e in order.events.filter(kind=OrderEvent.Kind.STATUS)
    ]


def test_create_merges_repeated_skus_and_keeps_price_and_name(channel, warehouse):
    tea = ProductFactory(name="龙井茶 250g", price=Decimal("88.80"))
    cup = ProductFactory(name="茶杯", price=Decimal("19.90"))
    data = order_input(
        channel,
        [LineInput(tea, 2), LineInput(cup, 1), LineInput(tea, 1)],
        shipping_fee=Decimal("12.00"),
    )

    order = order_create(data=data, actor="test")
    tea.name, tea.price = "龙井茶 (新)", Decimal("99.00")
    tea.save()

    lines = [(li.sku, li.name, li.unit_price, li.quantity) for li in order.lines.all()]
    assert lines == [
        (tea.sku, "龙井茶 250g", Decimal("88.80"), 3),
        (cup.sku, "茶杯", Decimal("19.90"), 1),
    ]
    order.refresh_from_db()
    assert [li.line_total for li in order.lines.all()] == [
        Decimal("266.40"),
        Decimal("19.90"),
    ]
    assert order.subtotal == Decimal("286.30")
    assert order.total == Decimal("298.30")
    assert isinstance(order.total, Decimal)


def test_a_channel_price_overrides_the_catalogue_price(channel, stocked_product):
    data = order_input(channel, [LineInput(stocked_product, 2, Decimal("99.50"))])

    order = order_create(data=data, actor="test")

    line = order.lines.get()
    assert (line.unit_price, line.line_total) == (Decimal("99.50"), Decimal("199.00"))


def test_customer_is_matched_by_normalised_phone_across_channels(
    place_order, stocked_product
):
    taobao = ChannelFactory(code="taobao", name="淘宝", kind=Channel.Kind.MARKETPLACE)

    first = place_order(phone="13800138000")
    second = place_order(phone="+86 138 0013 8000", channel=taobao, name="张三丰")

    assert Customer.objects.count() == 1
    assert first.customer_id == second.customer_id
    customer = Customer.objects.get()
    assert (customer.phone, customer.name) == ("+8613800138000", "张三")
    assert second.recipient_phone == "+8613800138000"


def test_strangers_who_typed_the_same_invalid_phone_stay_two_customers(place_order):
    first = place_order(phone="12345", name="李四")
    second = place_order(phone="12345", name="王五")

    assert first.customer_id != second.customer_id
    assert Customer.objects.filter(phone="").count() == 2


def test_an_order_without_lines_is_refused(channel):
    with translation.override("en"), pytest.raises(OrderError) as caught:
        order_create(data=order_input(channel, []), actor="test")

    assert str(caught.value) == "An order needs at least one line."
    assert not Order.objects.exists()


def test_a_product_not_for_sale_is_refused(channel):
    old = ProductFactory(sku="OLD-1", active=False)

    with translation.override("en"), pytest.raises(OrderError) as caught:
        order_create(data=order_input(channel, [LineInput(old, 1)]), actor="test")

    assert str(caught.value) == "Not for sale: OLD-1"


def test_a_prepaid_order_waits_for_payment_without_reserving(place_order):
    order = place_order(payment_method="prepaid")

    assert (order.status, order.payment_status) == (S.AWAITING_PAYMENT, PS.UNPAID)
    assert status_moves(order) == [("received", "awaiting_payment")]
    assert not Reservation.objects.exists()
    assert StockLevel.objects.get().reserved == 0


def test_a_cod_order_goes_straight_to_ready_to_fulfill(place_order):
    order = place_order(payment_method="cod", quantity=3)

    assert (order.status, order.payment_status) == (S.READY_TO_FULFILL, PS.COD_PENDING)
    assert status_moves(order) == [("received", "ready_to_fulfill")]
    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (10, 3)
    assert Reservation.objects.get(order=order).quantity == 3


def test_short_stock_backorders_until_stock_arrives(channel, warehouse, staff_user):
    product = ProductFactory(sku="TEA-1")
    stock_receive(product=product, warehouse=warehouse, quantity=2, actor="test")

    with translation.override("en"):
        order = order_create(
            data=order_input(channel, [LineInput(product, 5)]), actor="test"
        )

    assert order.status == S.BACKORDERED
    event = order.events.get(to_status=S.BACKORDERED)
    assert event.message == "Not enough stock: TEA-1 short by 3"
    assert event.data == {"shortages": [{"sku": "TEA-1", "wanted": 5, "available": 2}]}
    assert StockLevel.objects.get().reserved == 0

    stock_receive(product=product, warehouse=warehouse, quantity=3, actor=staff_user)
    order = order_process(order=order, actor=staff_user)

    assert order.status == S.READY_TO_FULFILL
    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (5, 5)
    assert status_moves(order)[-1] == ("backordered", "ready_to_fulfill")


def test_processing_a_backorder_still_short_records_the_shortage_again(
    channel, warehouse
):
    product = ProductFactory(sku="TEA-2")
    order = order_create(data=order_input(channel, [LineInput(product, 1)]), actor="x")

    with translation.override("en"):
        order = order_process(order=order, actor="test")

    assert order.status == S.BACKORDERED
    last = order.events.order_by("id").last()
    assert (last.kind, last.message) == (
        OrderEvent.Kind.STOCK,
        "Not enough stock: TEA-2 short by 1",
    )


def test_every_shortage_is_reported_at_once(channel, warehouse):
    tea = ProductFactory(sku="TEA-3")
    cup = ProductFactory(sku="CUP-3")
    pot = ProductFactory(sku="POT-3")
    stock_receive(product=tea, warehouse=warehouse, quantity=1, actor="test")
    stock_receive(product=pot, warehouse=warehouse, quantity=9, actor="test")
    lines = [LineInput(tea, 4), LineInput(cup, 2), LineInput(pot, 1)]

    with translation.override("en"):
        order = order_create(data=order_input(channel, lines), actor="test")

    event = order.events.get(to_status=S.BACKORDERED)
    assert event.message == "Not enough stock: TEA-3 short by 3; CUP-3 short by 2"
    assert event.data["shortages"] == [
        {"sku": "TEA-3", "wanted": 4, "available": 1},
        {"sku": "CUP-3", "wanted": 2, "available": 0},
    ]
    # Nothing is held back for a part of the order.
    assert not Reservation.objects.exists()
    assert StockLevel.objects.get(product=pot).reserved == 0


def test_cancel_releases_reserved_stock_and_stops_picking(place_order, staff_user):
    order = place_order(payment_method="cod", quantity=2)
    [parcel] = fulfillment_start(order=order, actor=staff_user)

    with translation.override("en"):
        order = order_cancel(order=order, actor=staff_user, reason="客户不要了")

    assert order.status == S.CANCELLED
    parcel.refresh_from_db()
    assert parcel.status == Shipment.Status.CANCELLED
    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (10, 0)
    assert not Reservation.objects.exists()
    released = StockMovement.objects.get(kind=StockMovement.Kind.RELEASED)
    assert (released.order, released.reserved_delta, released.actor) == (
        order,
        -2,
        staff_user,
    )
    cancelled = order.events.get(to_status=S.CANCELLED)
    assert (cancelled.from_status, cancelled.message, cancelled.actor) == (
        S.IN_FULFILLMENT,
        "客户不要了",
        staff_user,
    )
    stopped = order.events.get(kind=OrderEvent.Kind.SHIPMENT)
    assert stopped.message == "Picking stopped for 1 parcel(s)."
    assert set(
        Notification.objects.filter(
            order=order, template="order_cancelled"
        ).values_list("channel", flat=True)
    ) == {"sms", "email"}


def test_cancel_of_an_unpaid_order_has_nothing_to_release(place_order):
    order = place_order()

    order = order_cancel(order=order, actor="customer")

    assert order.status == S.CANCELLED
    assert not StockMovement.objects.filter(kind=StockMovement.Kind.RELEASED).exists()
    assert not order.events.filter(kind=OrderEvent.Kind.SHIPMENT).exists()


def test_cancel_after_shipping_is_refused(place_order, ship, staff_user):
    order = place_order(payment_method="cod")
    ship(order)
    events_before = OrderEvent.objects.count()

    with translation.override("en"), pytest.raises(InvalidTransition) as caught:
        order_cancel(order=order, actor=staff_user)

    assert str(caught.value) == (
        f"Order {order.number} cannot go from “Shipped” to “Cancelled”."
    )
    order.refresh_from_db()
    assert order.status == S.SHIPPED
    assert Shipment.objects.get().status == Shipment.Status.SHIPPED
    assert OrderEvent.objects.count() == events_before
    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (9, 0)


def test_complete_refuses_unpaid_cod_until_the_cash_is_collected(
    place_order, ship, staff_user
):
    from billing.services import cod_collection_record
    from tracking.services import tracking_event_record

    order = place_order(payment_method="cod")
    [parcel] = ship(order)
    tracking_event_record(
        shipment=parcel, status="delivered", description="已签收", actor="carrier:sf"
    )
    order.refresh_from_db()
    assert order.status == S.DELIVERED

    with translation.override("en"), pytest.raises(OrderError) as caught:
        order_complete(order=order, actor=staff_user)

    assert str(caught.value) == (
        f"Order {order.number} cannot be completed before its payment is settled."
    )
    order.refresh_from_db()
    assert order.status == S.DELIVERED

    cod_collection_record(order=order, amount=order.total, actor=staff_user)
    order = order_complete(order=order, actor=staff_user)

    assert (order.status, order.payment_status) == (S.COMPLETED, PS.COD_COLLECTED)
    assert status_moves(order)[-1] == ("delivered", "completed")


def test_complete_before_delivery_is_refused(place_order, staff_user):
    from billing.services import payment_confirm

    order = place_order()
    payment_confirm(order=order, method="alipay", amount=order.total, actor=staff_user)

    with pytest.raises(InvalidTransition):
        order_complete(order=order, actor=staff_user)


def test_the_stock_ledger_adds_up_after_a_whole_flow(
    place_order, ship, staff_user, warehouse, stock_ledger_errors
):
    from billing.services import payment_confirm
    from tracking.services import tracking_event_record

    paid = place_order(quantity=2)
    payment_confirm(order=paid, method="wechat", amount=paid.total, actor=staff_user)
    [parcel] = ship(paid)
    tracking_event_record(
        shipment=parcel, status="delivered", description="已签收", actor="carrier:sf"
    )
    order_complete(order=paid, actor=staff_user)
    cancelled = place_order(payment_method="cod", quantity=3)
    order_cancel(order=cancelled, actor=staff_user)
    waiting = place_order(payment_method="cod", quantity=9)
    assert waiting.status == S.BACKORDERED
    stock_receive(
        product=waiting.lines.get().product,
        warehouse=warehouse,
        quantity=4,
        actor=staff_user,
    )
    waiting = order_process(order=waiting, actor=staff_user)
    fulfillment_start(order=waiting, actor=staff_user)

    waiting.refresh_from_db()
    assert waiting.status == S.IN_FULFILLMENT
    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (12, 9)
    assert stock_ledger_errors() == []


def test_an_event_names_a_non_staff_actor_in_the_readers_language(place_order):
    order = place_order()
    event = OrderEvent(order=order, kind=OrderEvent.Kind.NOTE, actor_label="channel:jd")

    with translation.override("en"):
        assert event.who == "channel jd"
        assert OrderEvent(order=order, kind=OrderEvent.Kind.NOTE).who == "system"
    with translation.override("zh-hans"):
        assert event.who != "channel jd"
