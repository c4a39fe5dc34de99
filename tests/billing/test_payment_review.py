"""The finance review queue: held payments accepted (applied) or rejected, by finance only."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from billing.models import JournalEntry, Payment, Refund
from billing.payments import payment_review_accept
from billing.services import payment_confirm
from orders.exceptions import OrderError
from orders.models import Order, OrderEvent
from orders.roles import CUSTOMER_SERVICE, FINANCE
from orders.services import order_cancel

S = Order.Status
PS = Order.PaymentStatus


@pytest.fixture
def finance(client, member):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(FINANCE))
    return client


def said(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def held(order, amount, reference="T1"):
    """A provider payment held for review, as a mismatched notification leaves it."""
    return Payment.objects.create(
        order=order,
        method="alipay",
        amount=amount,
        provider_reference=reference,
        status=Payment.Status.REVIEW,
        note="amount differs",
    )


def test_queue_lists_held_payments(finance, place_order):
    order = place_order()
    held(order, Decimal("1.00"))

    response = finance.get(reverse("billing:review_list"))

    assert response.status_code == 200
    assert order.number in response.text
    assert "¥1.00" in response.text


def test_queue_is_for_finance_only(client, member):
    client.force_login(member(CUSTOMER_SERVICE))

    assert client.get(reverse("billing:review_list")).status_code == 403


def test_accepting_applies_the_payment_and_records_who(finance, place_order):
    order = place_order()
    payment = held(order, order.total)

    response = finance.post(
        reverse("billing:review_accept", args=[payment.pk]),
        {"note": "bank statement checked"},
    )

    assert response.status_code == 302
    assert said(response) == ["Payment accepted."]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CONFIRMED
    assert payment.confirmed_by.username == f"user-{FINANCE}"
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.READY_TO_FULFILL, PS.PAID)
    event = order.events.get(data__review="accepted")
    assert event.actor.username == f"user-{FINANCE}"
    assert event.message == (
        f"Payment of {order.total} accepted after review: bank statement checked"
    )
    entry = JournalEntry.objects.get(source=f"payment:{payment.pk}")
    assert sum(line.debit for line in entry.lines.all()) == order.total


def test_rejecting_voids_the_payment_with_the_reason(finance, place_order):
    order = place_order()
    payment = held(order, Decimal("1.00"))

    response = finance.post(
        reverse("billing:review_reject", args=[payment.pk]), {"note": "test payment"}
    )

    assert said(response) == ["Payment rejected."]
    payment.refresh_from_db()
    assert (payment.status, payment.note) == (Payment.Status.VOID, "test payment")
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.AWAITING_PAYMENT, PS.UNPAID)
    event = order.events.get(data__review="rejected")
    assert (event.kind, event.actor.username) == (
        OrderEvent.Kind.PAYMENT,
        f"user-{FINANCE}",
    )


def test_rejecting_needs_a_reason(finance, place_order):
    payment = held(place_order(), Decimal("1.00"))

    response = finance.post(reverse("billing:review_reject", args=[payment.pk]))

    assert said(response) == ["Say why the payment is rejected."]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REVIEW


def test_a_decided_payment_cannot_be_decided_again(place_order, staff_user):
    payment = held(place_order(), Decimal("1.00"))
    payment_review_accept(payment=payment, actor=staff_user)

    with pytest.raises(OrderError, match="^This payment is not waiting for review.$"):
        payment_review_accept(payment=payment, actor=staff_user)


def test_accepting_money_for_a_cancelled_order_asks_for_its_refund(
    finance, place_order
):
    order = place_order()
    order_cancel(order=order, actor="test")
    payment = payment_confirm(
        order=order, method="alipay", amount=order.total, reference="T9", actor="psp"
    )
    assert payment.status == Payment.Status.REVIEW

    finance.post(reverse("billing:review_accept", args=[payment.pk]))

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CONFIRMED
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.source, refund.source_ref) == (
        order.total,
        "cancellation",
        f"payment:{payment.pk}",
    )
    order.refresh_from_db()
    assert order.status == S.CANCELLED
