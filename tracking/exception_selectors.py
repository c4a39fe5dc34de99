"""Reads for the exceptions queue, the transit-standard screen and the dashboard."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from fulfillment.models import Carrier, Shipment
from orders.models import OrderEvent
from tracking.models import CarrierClaim, ParcelException, TransitStandard

K = ParcelException.Kind
# Parcels counted in the dashboard's rates: shipped within this many days.
RATE_WINDOW_DAYS = 30


def exceptions_queue(
    *, status: str = "open", kind: str = "", carrier_id=None, q: str = ""
) -> QuerySet[ParcelException]:
    """Return the exceptions to work on, oldest problem first, with parcel, order and carrier."""
    qs = ParcelException.objects.select_related(
        "shipment__order", "shipment__carrier", "replacement"
    ).annotate(claim_count=Count("claims"))
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if carrier_id:
        qs = qs.filter(shipment__carrier_id=carrier_id)
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(shipment__tracking_number__icontains=q)
            | Q(shipment__order__number__icontains=q)
            | Q(shipment__order__recipient_name__icontains=q)
        )
    return qs.order_by("since", "id")


def exception_counts() -> dict[str, int]:
    """Return the number of open exceptions per kind (every kind present, zero or not)."""
    counts = dict.fromkeys(K.values, 0)
    rows = (
        ParcelException.objects.filter(status=ParcelException.Status.OPEN)
        .values_list("kind")
        .annotate(n=Count("id"))
    )
    counts.update(dict(rows))
    return counts


def exception_for_console(pk: int) -> ParcelException | None:
    """Return one exception with its parcel, order, claims and its actions on the order timeline."""
    exception = (
        ParcelException.objects.filter(pk=pk)
        .select_related(
            "shipment__order__customer",
            "shipment__carrier",
            "shipment__warehouse",
            "replacement",
            "closed_by",
        )
        .prefetch_related(
            Prefetch(
                "claims", queryset=CarrierClaim.objects.select_related("filed_by")
            ),
            "shipment__lines__order_line",
        )
        .first()
    )
    if exception is not None:
        exception.timeline = list(
            OrderEvent.objects.filter(
                order_id=exception.shipment.order_id, data__exception=exception.pk
            )
            .select_related("actor")
            .order_by("-created_at", "-id")
        )
    return exception


def carriers_for_filter() -> QuerySet[Carrier]:
    return Carrier.objects.order_by("name")


def transit_standards() -> QuerySet[TransitStandard]:
    return TransitStandard.objects.select_related("carrier").order_by(
        "carrier__name", "origin_province", "destination_province", "-source"
    )


@dataclass(frozen=True)
class CarrierExceptionRow:
    carrier: str
    shipped: int
    delayed: int
    failed_attempt: int
    returned: int
    lost: int
    open: int

    @property
    def total(self) -> int:
        return self.delayed + self.failed_attempt + self.returned + self.lost

    @property
    def rate(self) -> float:
        """Share of the parcels shipped in the window that had an exception (0–1)."""
        return self.total / self.shipped if self.shipped else 0.0

    @property
    def percent(self) -> float:
        return round(self.rate * 100, 1)


@dataclass(frozen=True)
class ExceptionPanel:
    open_by_kind: dict[str, int]
    rows: list[CarrierExceptionRow]


def carrier_exception_stats(
    *, now: datetime | None = None, days: int = RATE_WINDOW_DAYS
) -> ExceptionPanel:
    """Return the open exceptions per kind and, per carrier, the parcels shipped in the
    window, how many had each kind of exception, and how many are open. Two queries.

    A parcel counts once per kind however often it was flagged; refused parcels count
    as returned.
    """
    since = (now or timezone.now()) - timedelta(days=days)
    shipped = {
        row["carrier_id"]: row
        for row in Shipment.objects.filter(shipped_at__gte=since, carrier__isnull=False)
        .values("carrier_id", "carrier__name")
        .annotate(n=Count("id"))
    }
    window = Q(shipment__shipped_at__gte=since)
    is_open = Q(status=ParcelException.Status.OPEN)

    def parcels(*kinds):
        return Count("shipment", filter=window & Q(kind__in=kinds), distinct=True)

    rows = list(
        ParcelException.objects.filter(shipment__carrier__isnull=False)
        .values("shipment__carrier_id", "shipment__carrier__name")
        .annotate(
            delayed=parcels(K.DELAYED),
            failed_attempt=parcels(K.FAILED_ATTEMPT),
            returned=parcels(K.REFUSED, K.RETURNED),
            lost=parcels(K.LOST),
            open=Count("id", filter=is_open),
            **{
                f"open_{kind}": Count("id", filter=is_open & Q(kind=kind))
                for kind in K.values
            },
        )
    )
    open_by_kind = {kind: sum(row[f"open_{kind}"] for row in rows) for kind in K.values}
    result = [
        CarrierExceptionRow(
            carrier=row["shipment__carrier__name"],
            shipped=shipped.pop(row["shipment__carrier_id"], {}).get("n", 0),
            delayed=row["delayed"],
            failed_attempt=row["failed_attempt"],
            returned=row["returned"],
            lost=row["lost"],
            open=row["open"],
        )
        for row in rows
    ]
    result += [
        CarrierExceptionRow(row["carrier__name"], row["n"], 0, 0, 0, 0, 0)
        for row in shipped.values()
    ]
    return ExceptionPanel(
        open_by_kind=open_by_kind,
        rows=sorted(result, key=lambda r: (-r.rate, r.carrier)),
    )
