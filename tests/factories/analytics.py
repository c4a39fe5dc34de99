"""The small fixed data set the analytics figures are checked against.

tests/orders/test_analytics.py lists it in a table with the figures it gives.
"""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fulfillment.models import Shipment
from fulfillment.picking_models import Packing
from fulfillment.return_models import ReturnLine, ReturnRequest
from inventory.services import stock_receive
from orders.models import Channel, Order, OrderEvent
from tests.factories.fulfillment import CarrierFactory
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory, OrderFactory, OrderLineFactory
from tracking.models import ParcelException

SH = ZoneInfo("Asia/Shanghai")
S = Order.Status
D = Decimal


def at(day, hour, minute=0):
    return datetime(2026, *day, hour, minute, tzinfo=SH)


def status(order, when, from_status, to_status, **data):
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.STATUS,
        from_status=from_status,
        to_status=to_status,
        created_at=when,
        data=data,
    )


def parcel(order, warehouse, carrier, *, picked, packed, shipped, number):
    shipment = Shipment.objects.create(
        order=order,
        warehouse=warehouse,
        carrier=carrier,
        tracking_number=number,
        status=Shipment.Status.SHIPPED,
        shipped_at=shipped,
    )
    Packing.objects.create(shipment=shipment, started_at=picked, packed_at=packed)
    return shipment


def analytics_week(warehouse):
    """Build the week of the analytics tests (see tests/orders/test_analytics.py)."""
    web = ChannelFactory(code="web", name="官网")
    taobao = ChannelFactory(code="taobao", name="淘宝", kind=Channel.Kind.MARKETPLACE)
    tea = ProductFactory(sku="TEA-1", name="红茶", price=D("50.00"))
    cup = ProductFactory(sku="CUP-1", name="茶杯", price=D("30.00"))
    pot = ProductFactory(sku="POT-1", name="茶壶", price=D("80.00"))
    for product, units in ((tea, 40), (cup, 9), (pot, 20)):
        stock_receive(product=product, warehouse=warehouse, quantity=units, actor="t")
    carrier = CarrierFactory()

    def order(name, channel, placed, state, product, quantity, province="广东省"):
        made = OrderFactory(
            number=name,
            channel=channel,
            placed_at=placed,
            status=state,
            province=province,
            subtotal=product.price * quantity,
            total=product.price * quantity,
        )
        OrderLineFactory(order=made, product=product, quantity=quantity)
        return made

    a = order("A", web, at((11, 3), 23, 30), S.DELIVERED, tea, 2)
    b = order("B", web, at((11, 3), 10, 15), S.SHIPPED, cup, 3, province="浙江省")
    c = order("C", taobao, at((11, 5), 10, 40), S.READY_TO_FULFILL, tea, 3)
    d = order("D", taobao, at((11, 5), 14, 0), S.CANCELLED, tea, 1)
    order("F", web, at((10, 28), 12, 0), S.DELIVERED, tea, 4)

    # A: validated after 10 minutes, paid and reserved 2 hours later, picked 8 h
    # later, packed in 0.5 h, shipped 6 h later, delivered 48 h later.
    status(a, at((11, 3), 23, 40), S.RECEIVED, S.AWAITING_PAYMENT)
    status(a, at((11, 4), 1, 40), S.AWAITING_PAYMENT, S.READY_TO_FULFILL)
    status(a, at((11, 4), 9, 0), S.READY_TO_FULFILL, S.IN_FULFILLMENT)
    a_parcel = parcel(
        a,
        warehouse,
        carrier,
        picked=at((11, 4), 9, 40),
        packed=at((11, 4), 10, 10),
        shipped=at((11, 4), 16, 10),
        number="SF1",
    )
    status(a, at((11, 4), 16, 10), S.IN_FULFILLMENT, S.SHIPPED)
    status(a, at((11, 6), 16, 10), S.SHIPPED, S.DELIVERED)
    ParcelException.objects.create(
        shipment=a_parcel,
        kind=ParcelException.Kind.LOST,
        reason="no scan",
        since=at((11, 5), 0),
    )
    # B (cash on delivery): valid and reserved after 30 minutes, picked 4 h later,
    # packed in 1.5 h, shipped 2 h later; still on its way.
    status(b, at((11, 3), 10, 45), S.RECEIVED, S.READY_TO_FULFILL)
    parcel(
        b,
        warehouse,
        carrier,
        picked=at((11, 3), 14, 45),
        packed=at((11, 3), 16, 15),
        shipped=at((11, 3), 18, 15),
        number="SF2",
    )
    status(b, at((11, 3), 18, 15), S.IN_FULFILLMENT, S.SHIPPED)
    # C: a wrong phone held it 50 minutes, review took 2 h of which 1 h short of TEA.
    phone = {"code": "phone_invalid", "field": "recipient_phone"}
    street = {"code": "detail_missing", "field": "address_detail"}
    status(c, at((11, 5), 10, 50), S.RECEIVED, S.NEEDS_CORRECTION, problems=[phone])
    status(c, at((11, 5), 11, 40), S.NEEDS_CORRECTION, S.REVIEW)
    status(
        c,
        at((11, 5), 12, 40),
        S.REVIEW,
        S.BACKORDERED,
        shortages=[{"sku": "TEA-1", "wanted": 3, "available": 0}],
    )
    status(c, at((11, 5), 13, 40), S.BACKORDERED, S.READY_TO_FULFILL)
    # D was held for two problems, then cancelled.
    status(
        d,
        at((11, 5), 14, 5),
        S.RECEIVED,
        S.NEEDS_CORRECTION,
        problems=[phone, street],
    )
    status(d, at((11, 5), 15, 0), S.NEEDS_CORRECTION, S.CANCELLED)
    # One TEA of A came back damaged; a return of B's cups was rejected.
    for number, source, reason, state in (
        ("R1", a, ReturnRequest.Reason.DAMAGED, ReturnRequest.Status.COMPLETED),
        ("R2", b, ReturnRequest.Reason.CHANGED_MIND, ReturnRequest.Status.REJECTED),
    ):
        request = ReturnRequest.objects.create(
            number=number,
            order=source,
            reason=reason,
            status=state,
            warehouse=warehouse,
        )
        ReturnLine.objects.create(
            return_request=request, order_line=source.lines.get(), quantity=1
        )
    return {"web": web, "taobao": taobao, "orders": {"A": a, "B": b, "C": c}}
