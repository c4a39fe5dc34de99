"""Reads for shipping: orders by ship-by deadline, and the parcels bulk actions print."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When
from django.utils import timezone

from fulfillment.models import Shipment
from orders.models import Order

S = Order.Status
# Orders whose goods have not all left yet: the ship-by clock is still running.
NOT_YET_SHIPPED = (
    S.REVIEW,
    S.BACKORDERED,
    S.READY_TO_FULFILL,
    S.IN_FULFILLMENT,
    S.PARTIALLY_SHIPPED,
)


def shop_day_end(now: datetime | None = None) -> datetime:
    """Return the end of the shop's day (midnight after ``now``, in the shop's time zone)."""
    local = timezone.localtime(now or timezone.now(), timezone.get_default_timezone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def orders_due_to_ship(*, now: datetime | None = None) -> QuerySet[Order]:
    """Return unshipped orders due by the end of today, overdue first, with ``overdue``."""
    now = now or timezone.now()
    return (
        Order.objects.filter(status__in=NOT_YET_SHIPPED, ship_by__lt=shop_day_end(now))
        .select_related("channel", "carrier")
        .annotate(
            overdue=Case(
                When(ship_by__lt=now, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("ship_by", "id")
    )


@dataclass(frozen=True)
class ShipByCounts:
    due_today: int  # due by the end of today and not yet late
    overdue: int


def ship_by_counts(*, now: datetime | None = None) -> ShipByCounts:
    """Return how many unshipped orders are due today and how many are late (one query)."""
    now = now or timezone.now()
    row = Order.objects.filter(status__in=NOT_YET_SHIPPED).aggregate(
        overdue=Count("id", filter=Q(ship_by__lt=now)),
        due_today=Count(
            "id", filter=Q(ship_by__gte=now, ship_by__lt=shop_day_end(now))
        ),
    )
    return ShipByCounts(due_today=row["due_today"], overdue=row["overdue"])


def shipments_with_labels(ids) -> list[Shipment]:
    """Return the parcels for their labels, in the order of ``ids``."""
    parcels = (
        Shipment.objects.filter(pk__in=ids)
        .select_related("order", "warehouse", "carrier", "service")
        .in_bulk()
    )
    return [parcels[pk] for pk in ids if pk in parcels]
