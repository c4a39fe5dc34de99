"""Cash on delivery per parcel: the split on the labels, collection by scan and by staff."""

import io
from decimal import Decimal

import pytest
from django.utils import translation
from pypdf import PdfReader

from billing.cod import cod_amount_left, cod_collection_record
from billing.forms import CodCollectionForm
from billing.models import CodCollection, Payment
from fulfillment.cod import cod_parcel_amounts
from fulfillment.labels import labels_pdf
from orders.exceptions import OrderError
from orders.models import Order, OrderEvent
from orders.services import order_complete
from tracking.models import TrackingEvent
from tracking.services import tracking_event_record

S = Order.Status
PS = Order.PaymentStatus


def deliver(parcel, **extra):
    extra.setdefault("source", TrackingEvent.Source.KUAIDI100)
    return tracking_event_record(
        shipment=parcel,
        status="delivered",
        description="已签收",
        actor="carrier:sf",
        **extra,
    )


def test_each_parcel_of_a_split_order_carries_its_share_summing_exactly(
    split_cod_order,
):
    order, (first, second) = split_cod_order

    amounts = cod_parcel_amounts(order)

    assert sum(amounts.values()) == order.total
    value_first = sum(
        line.order_line.line_total for line in first.lines.select_related("order_line")
    )
    goods = sum(line.line_total for line in order.lines.all())
    expected_first = (order.total * value_first / goods).quantize(Decimal("0.01"))
    assert amounts[first.pk] == expected_first
    assert amounts[second.pk] == order.total - expected_first
    assert amounts[first.pk] > 0 and amounts[second.pk] > 0


def test_each_label_prints_its_own_parcels_cod_amount(split_cod_order):
    order, parcels = split_cod_order
    amounts = cod_parcel_amounts(order)

    pages = [
        page.extract_text() for page in PdfReader(io.BytesIO(labels_pdf(parcels))).pages
    ]

    for parcel, text in zip(parcels, pages, strict=True):
        assert f"¥{amounts[parcel.pk]:.2f}" in text
        assert f"¥{order.total:.2f}" not in text


def test_the_shares_add_up_exactly_where_rounding_each_would_not(split_cod_order):
    order, (first, second) = split_cod_order
    order.total = Decimal("100.00")  # a third of the value in each unit of B
    order.subtotal = order.total + order.discount_total - order.shipping_fee
    Order.objects.filter(pk=order.pk).update(total=order.total, subtotal=order.subtotal)

    amounts = cod_parcel_amounts(order)

    assert amounts[first.pk] + amounts[second.pk] == Decimal("100.00")


def test_a_carriers_delivered_scan_records_the_parcels_cash(split_cod_order):
    order, (first, second) = split_cod_order
    dues = cod_parcel_amounts(order)

    deliver(first)

    collection = CodCollection.objects.get(shipment=first)
    assert (collection.amount, collection.amount_due, collection.source) == (
        dues[first.pk],
        dues[first.pk],
        CodCollection.Source.SCAN,
    )
    assert collection.payment.method == Payment.Method.COD
    order.refresh_from_db()
    assert order.payment_status == PS.COD_PENDING  # the second parcel still out

    deliver(second)

    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.DELIVERED, PS.COD_COLLECTED)
    assert sum(c.amount for c in order.cod_collections.all()) == order.total
    assert order.events.filter(
        kind=OrderEvent.Kind.PAYMENT, data__to=PS.COD_COLLECTED
    ).exists()


def test_a_delivered_scan_reporting_the_amount_records_that_amount(place_order, ship):
    order = place_order(payment_method="cod")
    [parcel] = ship(order)

    deliver(parcel, raw={"cod_amount": "120.00"})

    assert CodCollection.objects.get().amount == Decimal("120.00")


def test_the_same_delivered_scan_twice_records_the_cash_once(place_order, ship):
    order = place_order(payment_method="cod")
    [parcel] = ship(order)

    deliver(parcel)
    deliver(parcel, location="深圳")

    assert CodCollection.objects.count() == 1
    assert Payment.objects.get().amount == order.total


def test_a_delivered_scan_typed_by_staff_leaves_the_cash_to_finance(place_order, ship):
    order = place_order(payment_method="cod")
    [parcel] = ship(order)

    deliver(parcel, source=TrackingEvent.Source.MANUAL)

    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.DELIVERED, PS.COD_PENDING)
    assert not CodCollection.objects.exists()


def test_staff_record_the_cash_collected_and_the_order_can_close(
    place_order, ship, staff_user
):
    order = place_order(payment_method="cod")
    [parcel] = ship(order)
    deliver(parcel, source=TrackingEvent.Source.MANUAL)

    payment = cod_collection_record(
        order=order, amount=Decimal("128.00"), actor=staff_user, note="快递员交款"
    )

    collection = CodCollection.objects.get()
    assert (collection.shipment, collection.amount, collection.recorded_by) == (
        parcel,
        Decimal("128.00"),
        staff_user,
    )
    assert (collection.source, collection.payment) == ("staff", payment)
    order = order_complete(order=order, actor=staff_user)
    assert (order.status, order.payment_status) == (S.COMPLETED, PS.COD_COLLECTED)


def test_staff_amount_for_two_parcels_is_spread_by_their_dues(
    split_cod_order, staff_user
):
    order, (first, second) = split_cod_order
    dues = cod_parcel_amounts(order)

    cod_collection_record(order=order, amount=order.total, actor=staff_user)

    got = {c.shipment_id: c.amount for c in CodCollection.objects.all()}
    assert got == {first.pk: dues[first.pk], second.pk: dues[second.pk]}
    order.refresh_from_db()
    assert order.payment_status == PS.COD_COLLECTED


def test_cash_for_a_parcel_is_recorded_once(place_order, ship, staff_user):
    order = place_order(payment_method="cod")
    [parcel] = ship(order)
    cod_collection_record(order=order, amount=order.total, actor=staff_user)

    with translation.override("en"), pytest.raises(OrderError) as caught:
        cod_collection_record(
            order=order, amount=order.total, actor=staff_user, shipment=parcel
        )

    assert str(caught.value) == (
        f"The cash for parcel {parcel.tracking_number} is already recorded."
    )
    with translation.override("en"), pytest.raises(OrderError) as caught:
        cod_collection_record(order=order, amount=order.total, actor=staff_user)
    assert str(caught.value) == "No parcel of this order has cash left to record."


def test_the_cash_form_offers_what_the_parcels_not_yet_recorded_carry(
    split_cod_order,
):
    order, (first, second) = split_cod_order
    dues = cod_parcel_amounts(order)
    assert cod_amount_left(order) == order.total

    deliver(first)

    assert cod_amount_left(order) == dues[second.pk]
    assert CodCollectionForm.for_order(order).initial["amount"] == dues[second.pk]
