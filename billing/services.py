"""Confirming money received, for prepaid orders and cash on delivery."""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

# Cash on delivery lives in billing/cod.py; callers still find it here.
from billing.cod import cod_collection_record  # noqa: F401
from billing.exceptions import RefundError
from billing.journal import (
    journal_payment_post,
    journal_payments_post_bulk,
    journal_refund_post,
)
from billing.models import Payment, Refund, RefundLine
from billing.selectors import paid_total, refundable_amount, refunds_total
from config.bulk import bulk_insert
from orders.events import Actor, actor_fields, order_event_record
from orders.exceptions import OrderError
from orders.lifecycle import order_lock
from orders.models import Order, OrderEvent
from orders.services import order_payment_received
from tracking.notifications import notification_queue_for_order

S = Order.Status


def _confirmed_total(order) -> Decimal:
    return order.payments.filter(status=Payment.Status.CONFIRMED).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0")


@transaction.atomic
def payment_confirm(
    *,
    order: Order,
    method: str,
    amount: Decimal,
    actor: Actor,
    reference: str = "",
    note: str = "",
) -> Payment:
    """Record money received for the order; a full payment moves a waiting order on.

    A payment for a cancelled order is kept for finance to review, not applied.
    """
    order = order_lock(order)
    if amount <= 0:
        raise OrderError(_("The amount must be greater than zero."))
    if reference:
        existing = Payment.objects.filter(
            method=method, provider_reference=reference
        ).first()
        if existing:
            if existing.order_id != order.pk:
                raise OrderError(_("This payment reference belongs to another order."))
            return existing  # the same notification again
    if order.is_cod and method != Payment.Method.COD:
        raise OrderError(
            _("This order is paid cash on delivery; record the collection instead.")
        )
    status = (
        Payment.Status.REVIEW
        if order.status == S.CANCELLED
        else Payment.Status.CONFIRMED
    )
    payment = Payment.objects.create(
        order=order,
        method=method,
        amount=amount,
        provider_reference=reference,
        note=note,
        status=status,
        confirmed_by=actor_fields(actor)["actor"],
    )
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=_("%(method)s payment of %(amount)s recorded%(review)s")
        % {
            "method": payment.get_method_display(),
            "amount": amount,
            "review": _(" (held for review: order is cancelled)")
            if status == "review"
            else "",
        },
        data={"payment": payment.pk, "reference": reference},
    )
    if status == Payment.Status.CONFIRMED:
        journal_payment_post(payment=payment)
        order_payment_received(
            order=order,
            paid_in_full=_confirmed_total(order) >= order.total,
            actor=actor,
        )
    return payment


@transaction.atomic
def payments_record_marketplace(
    *, paid: list[tuple[Order, Decimal]], actor: Actor
) -> int:
    """Record, in bulk, money the customers paid on the marketplace; return how many.

    The reference is the platform's order id, so the same order paid twice (a file
    imported again) is stored once.
    """
    wanted = {
        f"{order.channel.code}:{order.external_id}": (order, amount)
        for order, amount in paid
        if amount > 0
    }
    known = set(
        Payment.objects.filter(
            method=Payment.Method.MARKETPLACE, provider_reference__in=wanted
        )
        .exclude(provider_reference="")  # the unique index's condition, so it is used
        .values_list("provider_reference", flat=True)
    )
    payments = [
        Payment(
            order=order,
            method=Payment.Method.MARKETPLACE,
            amount=amount,
            provider_reference=reference,
            confirmed_by=actor_fields(actor)["actor"],
        )
        for reference, (order, amount) in wanted.items()
        if reference not in known
    ]
    # With their ids set, the payments go to the journal as they are, not read back.
    bulk_insert(Payment, payments, set_ids=True)
    journal_payments_post_bulk(payments=payments)
    bulk_insert(
        OrderEvent,
        [
            OrderEvent(
                order=payment.order,
                kind=OrderEvent.Kind.PAYMENT,
                message=_("Paid on %(channel)s: %(amount)s")
                % {"channel": payment.order.channel.name, "amount": payment.amount},
                data={"reference": payment.provider_reference},
                **actor_fields(actor),
            )
            for payment in payments
        ],
    )
    return len(payments)


# --- Refunds ------------------------------------------------------------------

RS = Refund.Status
CENT = Decimal("0.01")


def order_line_refund_value(*, order_line, quantity: int, before: int = 0) -> Decimal:
    """Return what ``quantity`` units of the line are worth back, after ``before`` units already went back.

    The line's amount net of its own discount and its share of the order's
    discounts, spread over the units so the parts add up exactly to the line.
    """
    net = order_line.line_total - order_line.order_discount_share
    per = net / order_line.quantity

    def upto(units):
        return (per * units).quantize(CENT, rounding=ROUND_HALF_UP)

    if before + quantity >= order_line.quantity:
        return net - upto(before)
    return upto(before + quantity) - upto(before)


@transaction.atomic
def refund_request(
    *,
    order: Order,
    amount: Decimal,
    lines: Sequence[tuple] = (),
    reason: str,
    source: str,
    source_ref: str = "",
    actor: Actor,
    shipping_amount: Decimal = Decimal("0"),
) -> Refund:
    """Ask finance to pay money back for the order; never more than was paid and not yet refunded.

    ``lines`` are ``(order_line, quantity)`` or ``(order_line, quantity, amount)``
    for the goods concerned (the amount is worked out from the line's prices when
    left out). ``source_ref`` names what asked ("return:12", "shipment:7"): asking
    again for the same one returns the refund already requested.
    """
    order = order_lock(order)
    if source not in Refund.Source.values:
        raise RefundError(_("Unknown refund source."), field="source")
    if source_ref:
        existing = (
            Refund.objects.filter(source=source, source_ref=source_ref)
            .exclude(status=RS.REJECTED)
            .first()
        )
        if existing:
            if existing.order_id != order.pk:
                raise RefundError(
                    _("This source is already refunded on another order."),
                    field="source_ref",
                )
            return existing
    amount = Decimal(amount)
    shipping_amount = Decimal(shipping_amount or 0)
    if amount <= 0:
        raise RefundError(_("The amount must be greater than zero."), field="amount")
    if shipping_amount < 0 or shipping_amount > amount:
        raise RefundError(
            _("The shipping part must be between zero and the amount."),
            field="shipping_amount",
        )
    left = refundable_amount(order)
    if amount > left:
        raise RefundError(
            _(
                "At most ¥%(left)s can be refunded: ¥%(paid)s paid, ¥%(refunded)s"
                " already refunded or requested."
            )
            % {
                "left": left,
                "paid": paid_total(order),
                "refunded": refunds_total(order),
            },
            field="amount",
        )
    refund_lines = []
    for item in lines:
        order_line, quantity = item[0], int(item[1])
        if order_line.order_id != order.pk:
            raise RefundError(_("A line is not on this order."), field="lines")
        if quantity <= 0 or quantity > order_line.quantity:
            raise RefundError(
                _("%(sku)s: refund between 1 and %(max)d units.")
                % {"sku": order_line.sku, "max": order_line.quantity},
                field="lines",
            )
        line_amount = (
            Decimal(item[2])
            if len(item) > 2
            else order_line_refund_value(order_line=order_line, quantity=quantity)
        )
        refund_lines.append((order_line, quantity, line_amount))
    who = actor_fields(actor)
    refund = Refund.objects.create(
        order=order,
        amount=amount,
        shipping_amount=shipping_amount,
        reason=reason[:300],
        source=source,
        source_ref=source_ref,
        requested_by=who["actor"],
        requested_by_label=who["actor_label"],
    )
    RefundLine.objects.bulk_create(
        RefundLine(refund=refund, order_line=line, quantity=quantity, amount=value)
        for line, quantity, value in refund_lines
    )
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=_("Refund of ¥%(amount)s requested (%(source)s): %(reason)s")
        % {"amount": amount, "source": refund.get_source_display(), "reason": reason},
        data={"refund": refund.pk, "source_ref": source_ref},
    )
    return refund


def _refund_lock(refund: Refund) -> Refund:
    refund = Refund.objects.select_related("order").get(pk=refund.pk)
    order_lock(refund.order)  # the order first, as refund_request does
    return Refund.objects.select_for_update().select_related("order").get(pk=refund.pk)


@transaction.atomic
def refund_approve(*, refund: Refund, actor: Actor) -> Refund:
    """Agree to pay the refund back."""
    refund = _refund_lock(refund)
    if refund.status != RS.REQUESTED:
        raise RefundError(_("Only a requested refund can be approved."))
    refund.status = RS.APPROVED
    refund.decided_at = timezone.now()
    refund.decided_by = actor_fields(actor)["actor"]
    refund.save(update_fields=["status", "decided_at", "decided_by"])
    order_event_record(
        order=refund.order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=_("Refund of ¥%(amount)s approved") % {"amount": refund.amount},
        data={"refund": refund.pk},
    )
    return refund


@transaction.atomic
def refund_reject(*, refund: Refund, actor: Actor, note: str = "") -> Refund:
    """Refuse the refund; its amount can be refunded another way later."""
    refund = _refund_lock(refund)
    if refund.status not in (RS.REQUESTED, RS.APPROVED):
        raise RefundError(_("A paid or rejected refund cannot be rejected."))
    if refund.provider_state in (
        Refund.ProviderState.SENDING,
        Refund.ProviderState.PROCESSING,
    ):
        # The money may already be on its way back.
        raise RefundError(
            _("The payment provider is processing this refund; it cannot be rejected.")
        )
    refund.status = RS.REJECTED
    refund.note = note[:300]
    refund.decided_at = timezone.now()
    refund.decided_by = actor_fields(actor)["actor"]
    refund.save(update_fields=["status", "note", "decided_at", "decided_by"])
    order_event_record(
        order=refund.order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=_("Refund of ¥%(amount)s rejected: %(note)s")
        % {"amount": refund.amount, "note": note},
        data={"refund": refund.pk},
    )
    return refund


@transaction.atomic
def refund_mark_paid(*, refund: Refund, reference: str, actor: Actor) -> Refund:
    """Record that finance paid the refund back, with the transfer's reference."""
    refund = _refund_lock(refund)
    reference = reference.strip()
    if not reference:
        raise RefundError(
            _("Enter the reference of the money sent back."), field="reference"
        )
    if refund.status != RS.APPROVED:
        raise RefundError(_("Only an approved refund can be marked paid."))
    refund.status = RS.PAID
    refund.provider_reference = reference[:100]
    refund.paid_at = timezone.now()
    refund.paid_by = actor_fields(actor)["actor"]
    refund.save(update_fields=["status", "provider_reference", "paid_at", "paid_by"])
    journal_refund_post(refund=refund)
    order = refund.order
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=_("Refund of ¥%(amount)s paid, reference %(reference)s")
        % {"amount": refund.amount, "reference": reference},
        # "refund_status" marks the money going back (an outbound webhook event).
        data={"refund": refund.pk, "refund_status": RS.PAID},
    )
    paid_back = order.refunds.filter(status=RS.PAID).aggregate(t=Sum("amount"))["t"]
    if paid_back >= paid_total(order) and (
        order.payment_status != Order.PaymentStatus.REFUNDED
    ):
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=actor,
            message=_("Everything paid has been refunded."),
            data={"from": order.payment_status, "to": Order.PaymentStatus.REFUNDED},
        )
        order.payment_status = Order.PaymentStatus.REFUNDED
        order.save(update_fields=["payment_status", "updated_at"])
    notification_queue_for_order(
        order=order,
        template="refund_paid",
        key=f"refund-{refund.pk}",
        extra={"amount": str(refund.amount)},
    )
    return refund
