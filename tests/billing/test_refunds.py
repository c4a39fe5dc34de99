"""Refunds handed to finance: never more than was paid, one per source, paid with a reference."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from billing.exceptions import RefundError
from billing.models import Payment, Refund
from billing.selectors import refundable_amount
from billing.services import (
    order_line_refund_value,
    payment_confirm,
    refund_approve,
    refund_mark_paid,
    refund_reject,
    refund_request,
)
from orders.models import Order, OrderEvent
from orders.roles import CUSTOMER_SERVICE, FINANCE
from tracking.models import Notification

D = Decimal


@pytest.fixture
def paid_order(place_order):
    """An order of 2 × ¥128.00, paid in full."""
    order = place_order(quantity=2)
    payment_confirm(
        order=order, method=Payment.Method.ALIPAY, amount=D("256.00"), actor="test"
    )
    order.refresh_from_db()
    return order


def test_a_refund_request_records_its_lines_and_an_event(paid_order, staff_user):
    line = paid_order.lines.get()

    refund = refund_request(
        order=paid_order,
        amount=D("128.00"),
        lines=[(line, 1)],
        reason="破损",
        source=Refund.Source.GOODWILL,
        actor=staff_user,
    )

    assert (refund.status, refund.amount, refund.requested_by) == (
        Refund.Status.REQUESTED,
        D("128.00"),
        staff_user,
    )
    assert [(rl.order_line, rl.quantity, rl.amount) for rl in refund.lines.all()] == [
        (line, 1, D("128.00"))
    ]
    assert OrderEvent.objects.filter(
        order=paid_order, kind=OrderEvent.Kind.PAYMENT, data__refund=refund.pk
    ).exists()
    assert refundable_amount(paid_order) == D("128.00")


def test_a_refund_never_exceeds_what_was_paid_less_earlier_refunds(paid_order):
    refund_request(
        order=paid_order,
        amount=D("200.00"),
        reason="",
        source=Refund.Source.GOODWILL,
        actor="test",
    )

    with translation.override("en"), pytest.raises(RefundError) as caught:
        refund_request(
            order=paid_order,
            amount=D("56.01"),
            reason="",
            source=Refund.Source.GOODWILL,
            actor="test",
        )

    assert str(caught.value) == (
        "At most ¥56.00 can be refunded: ¥256.00 paid, ¥200.00 already refunded"
        " or requested."
    )
    assert caught.value.field == "amount"
    assert Refund.objects.count() == 1


def test_an_unpaid_order_cannot_be_refunded(place_order):
    order = place_order()

    with pytest.raises(RefundError):
        refund_request(
            order=order,
            amount=D("1.00"),
            reason="",
            source=Refund.Source.CANCELLATION,
            actor="test",
        )


def test_a_rejected_refund_frees_its_amount_again(paid_order, staff_user):
    refund = refund_request(
        order=paid_order,
        amount=D("256.00"),
        reason="",
        source=Refund.Source.LOST_PARCEL,
        source_ref="shipment:1",
        actor="test",
    )
    refund_reject(refund=refund, actor=staff_user, note="包裹已找到")

    again = refund_request(
        order=paid_order,
        amount=D("256.00"),
        reason="",
        source=Refund.Source.LOST_PARCEL,
        source_ref="shipment:1",
        actor="test",
    )

    assert again.pk != refund.pk
    assert refundable_amount(paid_order) == D("0")


def test_the_same_source_asked_twice_gives_the_same_refund(paid_order):
    def ask():
        return refund_request(
            order=paid_order,
            amount=D("128.00"),
            reason="丢件",
            source=Refund.Source.LOST_PARCEL,
            source_ref="shipment:9",
            actor="carrier:sf",
        )

    assert ask().pk == ask().pk
    assert Refund.objects.count() == 1


def test_finance_approves_and_pays_back_with_a_reference(paid_order, staff_user):
    refund = refund_request(
        order=paid_order,
        amount=D("256.00"),
        reason="",
        source=Refund.Source.GOODWILL,
        actor="test",
    )
    with translation.override("en"), pytest.raises(RefundError) as caught:
        refund_mark_paid(refund=refund, reference="ALI-R1", actor=staff_user)
    assert str(caught.value) == "Only an approved refund can be marked paid."

    refund_approve(refund=refund, actor=staff_user)
    refund = refund_mark_paid(refund=refund, reference="ALI-R1", actor=staff_user)

    assert (refund.status, refund.provider_reference, refund.paid_by) == (
        Refund.Status.PAID,
        "ALI-R1",
        staff_user,
    )
    paid_order.refresh_from_db()
    assert paid_order.payment_status == Order.PaymentStatus.REFUNDED
    assert Notification.objects.filter(
        order=paid_order, template="refund_paid"
    ).exists()


def test_line_values_share_the_order_discount_and_add_up_to_the_line():
    class Line:
        quantity = 3
        line_total = D("100.00")
        order_discount_share = D("10.00")

    parts = [
        order_line_refund_value(order_line=Line, quantity=1, before=before)
        for before in range(3)
    ]

    assert parts == [D("30.00"), D("30.00"), D("30.00")]
    Line.line_total = D("100.01")
    parts = [
        order_line_refund_value(order_line=Line, quantity=1, before=before)
        for before in range(3)
    ]
    assert sum(parts) == D("90.01")


@pytest.fixture
def refund(paid_order):
    return refund_request(
        order=paid_order,
        amount=D("50.00"),
        reason="",
        source=Refund.Source.GOODWILL,
        actor="test",
    )


def test_the_order_page_shows_refunds_and_finance_buttons(client, member, refund):
    client.force_login(member(FINANCE))

    page = client.get(refund.order.get_absolute_url()).content.decode()

    assert reverse("billing:refund_approve", args=[refund.pk]) in page
    response = client.post(reverse("billing:refund_approve", args=[refund.pk]))
    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.status == Refund.Status.APPROVED


def test_customer_service_cannot_approve_refunds(client, member, refund):
    client.force_login(member(CUSTOMER_SERVICE))

    response = client.post(reverse("billing:refund_approve", args=[refund.pk]))

    assert response.status_code == 403
    refund.refresh_from_db()
    assert refund.status == Refund.Status.REQUESTED


def test_cancelling_a_paid_order_hands_the_whole_payment_to_finance(
    paid_order, staff_user
):
    from inventory.models import StockLevel
    from orders.services import order_cancel

    order_cancel(order=paid_order, actor=staff_user, reason="买家不要了")

    refund = Refund.objects.get(order=paid_order)
    assert (refund.source, refund.amount, refund.source_ref, refund.reason) == (
        Refund.Source.CANCELLATION,
        D("256.00"),
        f"order:{paid_order.pk}",
        "买家不要了",
    )
    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (10, 0)


def test_cancelling_during_picking_stops_the_parcels_and_refunds(
    paid_order, staff_user, stock_ledger_errors
):
    from fulfillment.models import Shipment
    from fulfillment.services import fulfillment_start
    from orders.services import order_cancel

    (parcel,) = fulfillment_start(order=paid_order, actor=staff_user)
    order_cancel(order=paid_order, actor=staff_user)

    parcel.refresh_from_db()
    assert parcel.status == Shipment.Status.CANCELLED
    assert Refund.objects.get(order=paid_order).amount == D("256.00")
    assert stock_ledger_errors() == []


def test_cancelling_an_unpaid_order_requests_no_refund(place_order, staff_user):
    from orders.services import order_cancel

    order = place_order()
    order_cancel(order=order, actor=staff_user)

    assert not Refund.objects.exists()


def test_customer_service_asks_finance_for_a_goodwill_refund(
    client, member, paid_order
):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(CUSTOMER_SERVICE))
    url = reverse("billing:refund_request", args=[paid_order.number])
    assert url in client.get(paid_order.get_absolute_url()).text

    too_much = client.post(url, {"amount": "300.00", "reason": "快递慢"}, follow=True)
    client.post(url, {"amount": "20.00", "reason": "快递慢"})

    assert (
        "At most ¥256.00 can be refunded: ¥256.00 paid, ¥0.00 already refunded"
        " or requested." in too_much.text
    )
    refund = Refund.objects.get()
    assert (refund.source, refund.amount, refund.requested_by.username) == (
        Refund.Source.GOODWILL,
        D("20.00"),
        f"user-{CUSTOMER_SERVICE}",
    )
