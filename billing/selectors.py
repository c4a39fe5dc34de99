"""Reads of payments, shaped for the console pages that show them."""

from django.db.models import QuerySet

from billing.models import Payment


def payments_for_order(order) -> QuerySet[Payment]:
    """Return the money recorded for the order, oldest first, with who confirmed it."""
    return (
        Payment.objects.filter(order=order)
        .select_related("confirmed_by")
        .order_by("confirmed_at", "id")
    )
