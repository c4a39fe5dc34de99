"""Reads of payments, shaped for the console pages that show them."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from billing.models import Payment, Refund, RefundLine


def payments_for_order(order) -> QuerySet[Payment]:
    """Return the money recorded for the order, oldest first, with who confirmed it."""
    return (
        Payment.objects.filter(order=order)
        .select_related("confirmed_by")
        .order_by("confirmed_at", "id")
    )


CENT = Decimal("0.01")


def paid_total(order) -> Decimal:
    """Return the money confirmed as received for the order."""
    total = Payment.objects.filter(
        order=order, status=Payment.Status.CONFIRMED
    ).aggregate(total=Sum("amount"))["total"]
    return (total or Decimal("0")).quantize(CENT)  # SQLite sums lose the scale


def refunds_total(order) -> Decimal:
    """Return what is refunded or on its way back (every refund not rejected)."""
    total = (
        Refund.objects.filter(order=order)
        .exclude(status=Refund.Status.REJECTED)
        .aggregate(total=Sum("amount"))["total"]
    )
    return (total or Decimal("0")).quantize(CENT)


def refundable_amount(order) -> Decimal:
    """Return what can still be refunded: paid minus refunds not rejected."""
    return max(paid_total(order) - refunds_total(order), Decimal("0.00"))


def refunds_for_order(order) -> QuerySet[Refund]:
    """Return the order's refunds, oldest first, with their lines and who handled them."""
    return (
        Refund.objects.filter(order=order)
        .select_related("requested_by", "decided_by", "paid_by", "payment")
        .prefetch_related("lines__order_line")
        .order_by("requested_at", "id")
    )


PROVIDER_METHODS = (Payment.Method.ALIPAY, Payment.Method.WECHAT)


@dataclass(frozen=True)
class RefundRoute:
    """How the order's refunds can be paid back: through ``payment``'s provider, or by hand."""

    payment: Payment | None
    # Paid in several payments, one at least through a provider: by hand only.
    split: bool = False


def refund_route(order) -> RefundRoute:
    """Return the Alipay or WeChat Pay payment the order's refunds go back through, if any.

    Only an order paid in one confirmed payment with the provider's trade number
    qualifies: a refund spread over two payments is paid by hand, as are bank
    transfers, cash on delivery and marketplace orders.
    """
    payments = list(
        Payment.objects.filter(order=order, status=Payment.Status.CONFIRMED)
    )
    if len(payments) > 1:
        return RefundRoute(
            None, split=any(p.method in PROVIDER_METHODS for p in payments)
        )
    if payments and payments[0].method in PROVIDER_METHODS:
        return RefundRoute(payments[0] if payments[0].provider_reference else None)
    return RefundRoute(None)


def refunds_provider_processing() -> list[int]:
    """Return the ids of approved refunds a provider is processing (or has not answered),
    and of those left sending (a process that died before recording the answer)."""
    return list(
        Refund.objects.filter(
            status=Refund.Status.APPROVED,
            provider_state__in=(
                Refund.ProviderState.PROCESSING,
                Refund.ProviderState.SENDING,
            ),
        ).values_list("pk", flat=True)
    )


def refunds_list(*, status: str = "") -> QuerySet[Refund]:
    """Return refunds for finance's list, newest first, optionally of one status."""
    qs = Refund.objects.select_related("order").order_by("-requested_at", "-id")
    return qs.filter(status=status) if status else qs


def refunded_quantities(order) -> dict[int, int]:
    """Return units per order line id already refunded or being refunded."""
    rows = (
        RefundLine.objects.filter(refund__order=order)
        .exclude(refund__status=Refund.Status.REJECTED)
        .values("order_line_id")
        .annotate(n=Sum("quantity"))
    )
    return {row["order_line_id"]: row["n"] for row in rows}
