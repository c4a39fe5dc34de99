"""Reads for the finance review queue."""

from django.db.models import Prefetch, QuerySet

from billing.models import Payment, PaymentNotification


def payments_in_review() -> QuerySet[Payment]:
    """Return payments held for finance review, oldest first, with their order and notice."""
    return (
        Payment.objects.filter(status=Payment.Status.REVIEW)
        .select_related("order")
        .prefetch_related(
            Prefetch(
                "notifications",
                queryset=PaymentNotification.objects.order_by("-received_at"),
            )
        )
        .order_by("confirmed_at", "id")
    )
