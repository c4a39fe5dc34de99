from decimal import Decimal

import pytest
from django.utils import translation

from billing.models import Payment
from billing.services import cod_collection_record, payment_confirm
from inventory.models import Reservation, StockLevel, StockMovement
from orders.exceptions import OrderError
from orders.models import Order, OrderEvent
from orders.services import order_cancel
from tracking.models import Notification

S = Order.Status
PS = Order.PaymentStatus


def test_payment_readies_a_waiting_order_with_stock_reserved(place_order, staff_user):
    order = place_order(quantity=2)

    payment = payment_confirm(
        order=order,
        method=Payment.Method.ALIPAY,
        amount=Decimal("256.00"),
        reference="ALI-2026-1",
        actor=staff_user,
    )

    assert (payment.status, payment.confirmed_by) == (
        Payment.Status.CONFIRMED,
        staff_user,
    )
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.READY_TO_FULFILL, PS.PAID)
    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (10, 2)
    assert Reservation.objects.get(order=order).quantity == 2
    reserved = StockMovement.objects.get(kind=StockMovement.Kind.RESERVED)
    assert (reserved.order, reserved.reserved_delta) == (order, 2)
    assert Notification.objects.filter(
        order=order, template="payment_received"
    ).exists()


def test_a_part_payment_leaves_the_order_waiting(place_order, staff_user):
    order = place_order(quantity=2)

    payment_confirm(
        order=order, method="wechat", amount=Decimal("100.00"), actor=staff_user
    )

    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.AWAITING_PAYMENT, PS.UNPAID)
    assert not Reservation.objects.exists()

    payment_confirm(
        order=order, method="wechat", amount=Decimal("156.00"), actor=staff_user
    )

    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.READY_TO_FULFILL, PS.PAID)


def test_the_same_provider_reference_is_applied_once(place_order, staff_user):
    order = place_order()

    first = payment_confirm(
        order=order, method="alipay", amount=order.total, reference="A1", actor="psp"
    )
    again = payment_confirm(
        order=order, method="alipay", amount=order.total, reference="A1", actor="psp"
    )

    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert (
        order.events.filter(kind=OrderEvent.Kind.PAYMENT).count() == 2
    )  # recorded + paid
    assert StockLevel.objects.get().reserved == 1
    assert StockMovement.objects.filter(kind="reserved").count() == 1


def test_a_reference_of_another_order_is_refused(place_order):
    first, second = place_order(), place_order()
    payment_confirm(
        order=first, method="alipay", amount=first.total, reference="A2", actor="psp"
    )

    with translation.override("en"), pytest.raises(OrderError) as caught:
        payment_confirm(
            order=second,
            method="alipay",
            amount=second.total,
            reference="A2",
            actor="psp",
        )

    assert str(caught.value) == "This payment reference belongs to another order."
    second.refresh_from_db()
    assert second.status == S.AWAITING_PAYMENT


def test_a_payment_for_a_cancelled_order_is_held_for_review(place_order, staff_user):
    order = place_order()
    order_cancel(order=order, actor="customer")

    with translation.override("en"):
        payment = payment_confirm(
            order=order, method="alipay", amount=order.total, actor=staff_user
        )

    assert payment.status == Payment.Status.REVIEW
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.CANCELLED, PS.UNPAID)
    assert not Reservation.objects.exists()
    event = order.events.filter(kind=OrderEvent.Kind.PAYMENT).get()
    assert event.message == (
        "Alipay payment of 128.00 recorded (held for review: order is cancelled)"
    )


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1.00")])
def test_an_amount_of_nothing_is_refused(place_order, amount):
    order = place_order()

    with translation.override("en"), pytest.raises(OrderError) as caught:
        payment_confirm(order=order, method="alipay", amount=amount, actor="x")

    assert str(caught.value) == "The amount must be greater than zero."
    assert not Payment.objects.exists()


def test_a_cod_order_takes_only_the_cash_collection(place_order):
    order = place_order(payment_method="cod")

    with translation.override("en"), pytest.raises(OrderError) as caught:
        payment_confirm(order=order, method="alipay", amount=order.total, actor="x")

    assert str(caught.value) == (
        "This order is paid cash on delivery; record the collection instead."
    )


def test_cash_is_collected_only_after_the_parcel_left(place_order, staff_user):
    order = place_order(payment_method="cod")

    with translation.override("en"), pytest.raises(OrderError) as caught:
        cod_collection_record(order=order, amount=order.total, actor=staff_user)

    assert str(caught.value) == "Cash is collected when the parcel is delivered."


def test_cash_collected_settles_a_shipped_cod_order(place_order, ship, staff_user):
    order = place_order(payment_method="cod")
    ship(order)

    payment = cod_collection_record(order=order, amount=order.total, actor=staff_user)

    assert (payment.method, payment.amount) == ("cod", Decimal("128.00"))
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.SHIPPED, PS.COD_COLLECTED)


def test_a_prepaid_order_has_no_cash_to_collect(place_order, staff_user):
    order = place_order()

    with translation.override("en"), pytest.raises(OrderError) as caught:
        cod_collection_record(order=order, amount=order.total, actor=staff_user)

    assert str(caught.value) == "This order is not cash on delivery."
