"""Confirming money received, for prepaid orders and cash on delivery."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from billing.models import Payment
from config.bulk import bulk_insert
from orders.events import Actor, actor_fields, order_event_record
from orders.exceptions import OrderError
from orders.lifecycle import order_lock
from orders.models import Order, OrderEvent
from orders.services import order_payment_received

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
        order_payment_received(
            order=order,
            paid_in_full=_confirmed_total(order) >= order.total,
            actor=actor,
        )
    return payment


@transaction.atomic
def cod_collection_record(
    *, order: Order, amount: Decimal, actor: Actor, note=""
) -> Payment:
    """Record the cash the courier collected on delivery."""
    order = order_lock(order)
    if not order.is_cod:
        raise OrderError(_("This order is not cash on delivery."))
    if order.status not in (S.SHIPPED, S.DELIVERED):
        raise OrderError(_("Cash is collected when the parcel is delivered."))
    return payment_confirm(
        order=order, method=Payment.Method.COD, amount=amount, actor=actor, note=note
    )


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
    bulk_insert(Payment, payments)
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
