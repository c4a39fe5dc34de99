"""Refunds paid back through Alipay or WeChat Pay.

A provider is called outside any database transaction, so a slow gateway never
holds the order's and the refund's row locks: one transaction marks the refund as
being sent, the HTTP call runs, a second transaction records the answer. Our refund
number is the same on every attempt and both providers pay one number back once,
so a retry after a lost or doubtful answer never refunds twice. An answer we cannot
trust (no answer, a bad signature) leaves the refund processing: only asking the
provider tells whether the money moved, and the check task asks.
"""

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from billing.exceptions import RefundError
from billing.models import Refund
from billing.providers import (
    REFUND_FAILED,
    REFUND_PROCESSING,
    REFUNDED,
    ProviderRefund,
    ProviderRefundResult,
    RefundUnanswered,
    provider_get,
)
from billing.selectors import refund_route
from billing.services import _refund_lock, refund_mark_paid
from orders.events import Actor, order_event_record
from orders.models import OrderEvent

logger = logging.getLogger(__name__)

RS = Refund.Status
PS = Refund.ProviderState


class RefundStillProcessing(Exception):
    """The provider has not finished the refund yet; the check task asks again later."""


def refund_provider_send(*, refund: Refund, actor: Actor) -> Refund:
    """Pay an approved refund back through the provider the order was paid with.

    Return the refund, paid or still processing; raise ``RefundError`` with the
    provider's reason when it refuses (the reason stays on the refund).
    """
    with transaction.atomic():
        refund = _refund_lock(refund)
        if refund.status != RS.APPROVED:
            raise RefundError(_("Only an approved refund can be paid back."))
        if refund.payment_id is None:
            route = refund_route(refund.order)
            if route.payment is None:
                raise RefundError(
                    _(
                        "This order was paid in several payments: pay the refund"
                        " back by hand and mark it paid."
                    )
                    if route.split
                    else _(
                        "This order was not paid through Alipay or WeChat Pay: pay"
                        " the refund back by hand and mark it paid."
                    )
                )
            refund.payment = route.payment
        refund.provider_state = PS.SENDING
        refund.save(update_fields=["payment", "provider_state"])
    provider = provider_get(refund.payment.method)
    try:
        answer = provider.refund(_provider_refund(refund))
    except RefundUnanswered as error:
        answer = error
    except Exception as error:
        # Whatever went wrong, the request may have reached the provider: the
        # refund must not stay "sending", which no check ever looks at again.
        logger.exception("refund %s: %s failed unexpectedly", refund.pk, provider.code)
        answer = RefundUnanswered(
            _("No answer we can read from %(provider)s (%(error)s).")
            % {
                "provider": refund.payment.get_method_display(),
                "error": type(error).__name__,
            }
        )
    refund = _refund_provider_record(refund=refund, answer=answer, actor=actor)
    if refund.provider_state == PS.FAILED:
        raise RefundError(
            _("%(provider)s did not refund: %(message)s")
            % {
                "provider": refund.payment.get_method_display(),
                "message": refund.provider_message,
            }
        )
    return refund


def refund_provider_check(*, refund_id: int, last_try: bool = False) -> Refund:
    """Ask the provider where a refund it was processing stands; record what it says.

    Raise ``RefundStillProcessing`` or ``RefundUnanswered`` so the task asks again
    later, unless this is its ``last_try`` (the periodic check goes on from there).

    A refund left *sending* (the process died between the call and recording its
    answer) is asked about too, but only "refunded" is recorded for it: the send
    may still be under way, and its own answer is recorded when it comes.
    """
    refund = Refund.objects.select_related("order", "payment").get(pk=refund_id)
    if refund.status != RS.APPROVED or refund.provider_state not in (
        PS.PROCESSING,
        PS.SENDING,
    ):
        return refund  # answered meanwhile: nothing to ask
    provider = provider_get(refund.payment.method)
    if refund.provider_state == PS.SENDING:
        try:
            answer = provider.refund_query(_provider_refund(refund))
        except RefundUnanswered:
            return refund  # the periodic check asks again
        if answer.meaning != REFUNDED:
            return refund  # finance may send it again (the same number)
        return _refund_provider_record(
            refund=refund, answer=answer, actor=f"provider:{provider.code}"
        )
    try:
        answer = provider.refund_query(_provider_refund(refund))
    except RefundUnanswered as error:
        if not last_try:
            raise
        answer = error
    actor = f"provider:{provider.code}"
    refund = _refund_provider_record(refund=refund, answer=answer, actor=actor)
    if refund.provider_state == PS.PROCESSING and not last_try:
        raise RefundStillProcessing(refund.pk)
    return refund


def _provider_refund(refund: Refund) -> ProviderRefund:
    return ProviderRefund(
        refund_no=refund.provider_refund_no,
        trade_no=refund.payment.provider_reference,
        amount=refund.amount,
        total=refund.payment.amount,
        reason=refund.reason,
    )


@transaction.atomic
def _refund_provider_record(
    *, refund: Refund, answer: ProviderRefundResult | RefundUnanswered, actor: Actor
) -> Refund:
    """Record the provider's answer (or that there was none we trust) on the refund."""
    refund = _refund_lock(refund)
    provider = refund.payment.get_method_display()
    if isinstance(answer, RefundUnanswered):
        state, message = PS.PROCESSING, str(answer)
    else:
        state, message = _STATES[answer.meaning], answer.message
    if refund.status != RS.APPROVED:
        # Paid by hand (or rejected) while the provider was asked.
        if state == PS.REFUNDED and refund.provider_state != PS.REFUNDED:
            refund.provider_state = PS.REFUNDED
            refund.provider_message = answer.reference
            refund.save(update_fields=["provider_state", "provider_message"])
            order_event_record(
                order=refund.order,
                kind=OrderEvent.Kind.PAYMENT,
                actor=actor,
                message=_(
                    "%(provider)s refunded ¥%(amount)s (%(reference)s) for a refund"
                    " already %(status)s: check that the customer was not paid twice."
                )
                % {
                    "provider": provider,
                    "amount": refund.amount,
                    "reference": answer.reference,
                    "status": refund.get_status_display(),
                },
                data={"refund": refund.pk, "reference": answer.reference},
            )
        return refund
    changed = state != refund.provider_state
    refund.provider_state = state
    refund.provider_message = message[:300]
    refund.save(update_fields=["provider_state", "provider_message"])
    if state == PS.REFUNDED:
        return refund_mark_paid(
            refund=refund,
            reference=answer.reference or refund.provider_refund_no,
            actor=actor,
        )
    if state == PS.PROCESSING:
        if changed:  # just sent; a check already under way retries by itself
            order_event_record(
                order=refund.order,
                kind=OrderEvent.Kind.PAYMENT,
                actor=actor,
                message=_(
                    "Refund of ¥%(amount)s sent to %(provider)s, not confirmed yet:"
                    " %(message)s"
                )
                % {"amount": refund.amount, "provider": provider, "message": message},
                data={"refund": refund.pk},
            )
            from billing.tasks import provider_refund_check_task

            transaction.on_commit(
                lambda: provider_refund_check_task.apply_async(
                    args=[refund.pk], countdown=60
                )
            )
        return refund
    order_event_record(
        order=refund.order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=_("%(provider)s did not refund ¥%(amount)s: %(message)s")
        % {"amount": refund.amount, "provider": provider, "message": message},
        data={"refund": refund.pk},
    )
    return refund


_STATES = {
    REFUNDED: PS.REFUNDED,
    REFUND_PROCESSING: PS.PROCESSING,
    REFUND_FAILED: PS.FAILED,
}
