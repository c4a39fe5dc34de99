"""Provider notifications applied once, the finance review queue, unpaid orders cancelled."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.exceptions import RefundError
from billing.journal import journal_payment_post
from billing.models import Payment, PaymentNotification
from billing.providers import CLOSED, PAID, NotificationRejected, ProviderNotification
from billing.selectors import paid_total, refundable_amount
from billing.services import payment_confirm, refund_request
from orders.events import Actor, actor_fields, order_event_record
from orders.exceptions import OrderError
from orders.lifecycle import order_lock
from orders.models import Order, OrderEvent
from orders.services import order_cancel, order_payment_received

S = Order.Status
PS = Order.PaymentStatus
O = PaymentNotification.Outcome  # noqa: E741


def payment_notification_reject(
    *, provider: str, error: NotificationRejected
) -> PaymentNotification:
    """Keep a notification that failed verification, for the record; nothing is applied."""
    return PaymentNotification.objects.create(
        provider=provider,
        verified=False,
        outcome=O.REJECTED,
        message=str(error)[:300],
        raw_payload=error.payload,
        headers=error.headers,
    )


def payment_notification_receive(
    *, provider: str, method: str, notification: ProviderNotification
) -> PaymentNotification:
    """Apply a verified provider notification once; a repeat returns the first one.

    A paid notification whose amount is not what the order still owes, or for an
    order that is cancelled, is held for finance review instead of being applied.
    """
    try:
        with transaction.atomic():
            return _receive(provider=provider, method=method, n=notification)
    except IntegrityError:
        # The same notification, taken at the same moment by another request.
        return PaymentNotification.objects.get(
            provider=provider,
            trade_no=notification.trade_no,
            trade_status=notification.trade_status,
            verified=True,
        )


def _receive(*, provider, method, n: ProviderNotification) -> PaymentNotification:
    seen = PaymentNotification.objects.filter(
        provider=provider,
        trade_no=n.trade_no,
        trade_status=n.trade_status,
        verified=True,
    ).first()
    if seen:
        return seen
    record = PaymentNotification(
        provider=provider,
        trade_no=n.trade_no,
        trade_status=n.trade_status,
        out_trade_no=n.out_trade_no,
        amount=n.amount,
        verified=True,
        raw_payload=n.raw_payload,
        headers=n.headers,
    )
    order = Order.objects.filter(number=n.out_trade_no).first()
    actor = f"provider:{provider}"
    if order is None:
        record.outcome = O.UNKNOWN_ORDER
        record.message = _("No order with this number.")
    elif n.meaning == CLOSED:
        record.order, record.outcome = order, O.CLOSED
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=actor,
            message=_("%(provider)s trade %(trade)s closed (%(status)s)")
            % {
                "provider": record.get_provider_display(),
                "trade": n.trade_no,
                "status": n.trade_status,
            },
            data={"trade_no": n.trade_no, "trade_status": n.trade_status},
        )
    elif n.meaning != PAID:
        record.order, record.outcome = order, O.IGNORED
    else:
        record.order = order_lock(order)
        try:
            _apply_paid(record=record, method=method, n=n, actor=actor)
        except OrderError as error:
            # e.g. the trade number is already recorded on another order.
            record.outcome, record.message = O.IGNORED, str(error)[:300]
    record.full_clean(validate_constraints=False)
    record.save()
    return record


def _apply_paid(*, record, method, n: ProviderNotification, actor) -> None:
    order = record.order
    owed = order.total - paid_total(order)
    if not n.amount or n.amount <= 0:
        record.outcome = O.IGNORED
        record.message = _("No amount in the notification.")
    elif order.status == S.CANCELLED:
        # payment_confirm holds money for a cancelled order for review.
        record.payment = payment_confirm(
            order=order,
            method=method,
            amount=n.amount,
            reference=n.trade_no,
            actor=actor,
        )
        record.outcome = O.REVIEW
        record.message = _("The order is cancelled.")
    elif n.amount != owed:
        record.payment = _payment_hold(
            order=order,
            method=method,
            amount=n.amount,
            reference=n.trade_no,
            reason=_("amount %(amount)s, the order owes %(owed)s")
            % {"amount": n.amount, "owed": owed},
            actor=actor,
        )
        record.outcome = O.REVIEW
        record.message = _("Amount %(amount)s does not match %(owed)s owed.") % {
            "amount": n.amount,
            "owed": owed,
        }
    else:
        record.payment = payment_confirm(
            order=order,
            method=method,
            amount=n.amount,
            reference=n.trade_no,
            actor=actor,
        )
        record.outcome = (
            O.APPLIED if record.payment.status == Payment.Status.CONFIRMED else O.REVIEW
        )


def _payment_hold(*, order, method, amount, reference, reason, actor) -> Payment:
    existing = Payment.objects.filter(
        method=method, provider_reference=reference
    ).first()
    if existing:
        return existing
    payment = Payment.objects.create(
        order=order,
        method=method,
        amount=amount,
        provider_reference=reference,
        status=Payment.Status.REVIEW,
        note=str(reason)[:300],
    )
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=_("%(method)s payment of %(amount)s held for review: %(reason)s")
        % {"method": payment.get_method_display(), "amount": amount, "reason": reason},
        data={"payment": payment.pk, "reference": reference},
    )
    return payment


@transaction.atomic
def payment_review_accept(*, payment: Payment, actor: Actor, note: str = "") -> Payment:
    """Apply a payment finance has checked; for a cancelled order, pay it back."""
    order = order_lock(payment.order)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != Payment.Status.REVIEW:
        raise OrderError(_("This payment is not waiting for review."))
    payment.status = Payment.Status.CONFIRMED
    payment.confirmed_at = timezone.now()
    payment.confirmed_by = actor_fields(actor)["actor"]
    if note:
        payment.note = note[:300]
    payment.save(update_fields=["status", "confirmed_at", "confirmed_by", "note"])
    journal_payment_post(payment=payment)
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=_("Payment of %(amount)s accepted after review%(note)s")
        % {"amount": payment.amount, "note": f": {note}" if note else ""},
        data={"payment": payment.pk, "review": "accepted"},
    )
    if order.status == S.CANCELLED:
        left = refundable_amount(order)
        if left > 0:
            try:
                refund_request(
                    order=order,
                    amount=min(left, payment.amount),
                    reason=_("Paid after the order was cancelled."),
                    source="cancellation",
                    source_ref=f"payment:{payment.pk}",
                    actor=actor,
                )
            except RefundError as error:
                raise OrderError(str(error)) from error
    else:
        order_payment_received(
            order=order, paid_in_full=paid_total(order) >= order.total, actor=actor
        )
    return payment


@transaction.atomic
def payment_review_reject(*, payment: Payment, actor: Actor, reason: str) -> Payment:
    """Void a payment finance will not apply (not received, sent back outside the system)."""
    order = order_lock(payment.order)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != Payment.Status.REVIEW:
        raise OrderError(_("This payment is not waiting for review."))
    if not reason.strip():
        raise OrderError(_("Say why the payment is rejected."))
    payment.status = Payment.Status.VOID
    payment.note = reason[:300]
    payment.save(update_fields=["status", "note"])
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=_("Payment of %(amount)s rejected after review: %(reason)s")
        % {"amount": payment.amount, "reason": reason},
        data={"payment": payment.pk, "review": "rejected"},
    )
    return payment


def unpaid_orders_cancel(*, now: datetime | None = None, limit: int = 500) -> int:
    """Cancel prepaid orders left unpaid longer than UNPAID_ORDER_CANCEL_HOURS; return how many.

    Each order is cancelled in its own transaction (order_cancel releases its
    stock and tells the customer); an order paid meanwhile is left alone.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.UNPAID_ORDER_CANCEL_HOURS)
    ids = list(
        Order.objects.filter(
            status=S.AWAITING_PAYMENT,
            payment_status=PS.UNPAID,
            placed_at__lt=cutoff,
        )
        .exclude(payment_method=Order.PaymentMethod.COD)
        .exclude(payments__status=Payment.Status.REVIEW)
        .order_by("placed_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    cancelled = 0
    for order_id in ids:
        with transaction.atomic():
            order = order_lock(Order(pk=order_id))
            if order.status != S.AWAITING_PAYMENT or order.payment_status != PS.UNPAID:
                continue
            if paid_total(order) > Decimal("0"):
                continue  # part paid: a person decides
            order_cancel(
                order=order,
                actor="system",
                reason=_("Not paid within %(hours)s hours.")
                % {"hours": settings.UNPAID_ORDER_CANCEL_HOURS},
            )
            cancelled += 1
    return cancelled
