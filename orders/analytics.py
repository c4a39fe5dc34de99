"""Reads behind the analytics pages (数据分析): peaks, products, channels, process, exceptions.

Every figure is aggregated in the database (GROUP BY) over the orders placed in a
period, counted in the shop's time zone (``TIME_ZONE``, Asia/Shanghai): an order placed
at 23:30 Shanghai time belongs to that Shanghai day and hour, not to the UTC one.
"Orders" are the orders placed in the period that were not cancelled; "revenue" is
their totals. The process view alone reads OrderStageTimes, a per-order copy of
the stage times that a beat task refreshes (orders.analytics_services), because the
timelines themselves are too long to read per page view at a million orders, and
the products and exceptions pages read DailyFigures, each shop day's counts per
channel, refreshed with it (``day_counts_read`` counts them from the orders).
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    ExtractIsoWeekDay,
    TruncDate,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fulfillment.models import Shipment
from fulfillment.return_models import ReturnLine, ReturnRequest
from inventory.selectors import products_with_available
from orders.analytics_models import DailyFigures, OrderStageTimes
from orders.models import Order, OrderEvent, OrderLine
from orders.selectors import shop_day_start
from orders.validation import problem_message
from tracking.models import ParcelException

S = Order.Status
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# Forecast: seasonal naive, each weekday the mean of that weekday in the last N weeks.
FORECAST_WEEKS = 4
FORECAST_DAYS = 7
TOP_PRODUCTS = 10


@dataclass(frozen=True)
class Period:
    """Shop days ``date_from``..``date_to`` (both included), optionally one channel."""

    date_from: date
    date_to: date
    channel: object = None  # a Channel, or None for all

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    @property
    def start(self) -> datetime:
        return shop_day_start(self.date_from)

    @property
    def end(self) -> datetime:
        return shop_day_start(self.date_to + timedelta(days=1))

    def previous(self) -> "Period":
        """Return the period of equal length just before this one."""
        return Period(
            self.date_from - timedelta(days=self.days),
            self.date_from - timedelta(days=1),
            self.channel,
        )

    def orders(self) -> QuerySet[Order]:
        """Return the orders placed in the period (and channel), cancelled ones left out."""
        orders = Order.objects.order_by().filter(
            placed_at__gte=self.start, placed_at__lt=self.end
        )
        if self.channel is not None:
            orders = orders.filter(channel=self.channel)
        return orders.exclude(status=S.CANCELLED)


def share(part, whole) -> Decimal | None:
    """Return part ÷ whole as a percentage with one decimal, None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _revenue():
    return Coalesce(Sum("total"), Value(ZERO), output_field=DecimalField())


def money(value) -> Decimal:
    """Return a sum as yuan and fen (SQLite hands sums back without the .00)."""
    return Decimal(value).quantize(CENT)


# --- Peaks: hour of day × day of week, per day, forecast -----------------------------


@dataclass
class Cell:
    orders: int = 0
    revenue: Decimal = ZERO


def sales_by_weekday_hour(period: Period) -> list[list[Cell]]:
    """Return orders and revenue per [weekday 0=Monday][hour 0..23], shop time."""
    grid = [[Cell() for _hour in range(24)] for _day in range(7)]
    rows = (
        period.orders()
        .annotate(weekday=ExtractIsoWeekDay("placed_at"), hour=ExtractHour("placed_at"))
        .values("weekday", "hour")
        .annotate(orders=Count("id"), revenue=_revenue())
    )
    for row in rows:
        grid[row["weekday"] - 1][row["hour"]] = Cell(
            row["orders"], money(row["revenue"])
        )
    return grid


@dataclass
class Day:
    day: date
    orders: int = 0
    revenue: Decimal = ZERO


def sales_by_day(period: Period) -> list[Day]:
    """Return orders and revenue of every shop day of the period, days without orders too."""
    rows = {
        row["day"]: row
        for row in period.orders()
        .annotate(day=TruncDate("placed_at"))
        .values("day")
        .annotate(orders=Count("id"), revenue=_revenue())
    }
    days = []
    for offset in range(period.days):
        day = period.date_from + timedelta(days=offset)
        row = rows.get(day, {})
        days.append(Day(day, row.get("orders", 0), money(row.get("revenue", ZERO))))
    return days


@dataclass
class Forecast:
    day: date
    orders: Decimal  # expected orders, one decimal
    history: list[int]  # the same weekday in each of the last FORECAST_WEEKS weeks


def order_forecast(*, today: date, channel=None) -> list[Forecast]:
    """Return the expected orders of the FORECAST_DAYS days after ``today``.

    Seasonal naive by weekday: a day's forecast is the mean of the orders of the
    same weekday in the last FORECAST_WEEKS full weeks before today (today, still
    running, is left out).
    """
    history = Period(
        today - timedelta(days=7 * FORECAST_WEEKS), today - timedelta(days=1), channel
    )
    days = sales_by_day(history)
    forecasts = []
    for offset in range(1, FORECAST_DAYS + 1):
        day = today + timedelta(days=offset)
        same_weekday = [d.orders for d in days if d.day.weekday() == day.weekday()]
        mean = Decimal(sum(same_weekday)) / len(same_weekday)
        forecasts.append(
            Forecast(day, mean.quantize(Decimal("0.1"), ROUND_HALF_UP), same_weekday)
        )
    return forecasts


# --- Products -------------------------------------------------------------------


@dataclass
class ProductSales:
    product_id: int
    sku: str
    name: str
    quantity: int
    revenue: Decimal
    previous_quantity: int = 0
    previous_revenue: Decimal = ZERO
    available: int = 0
    cover_days: Decimal | None = None  # None: nothing sold, the stock lasts for ever

    @property
    def quantity_trend(self) -> Decimal | None:
        """Return the change against the previous period in percent (None: new)."""
        return _trend(self.quantity, self.previous_quantity)

    @property
    def revenue_trend(self) -> Decimal | None:
        return _trend(self.revenue, self.previous_revenue)


def _trend(now, before) -> Decimal | None:
    if not before:
        return None
    return (Decimal(now - before) * 100 / Decimal(before)).quantize(Decimal("0.1"))


def stock_cover_days(available: int, sold: int, days: int) -> Decimal | None:
    """Return the days the available stock lasts at the period's daily velocity.

    Velocity is units sold in the period ÷ its days; None when nothing sold.
    """
    if sold <= 0:
        return None
    return (Decimal(max(available, 0)) * days / sold).quantize(Decimal("0.1"))


@dataclass
class ProductReport:
    by_quantity: list[ProductSales]
    by_revenue: list[ProductSales]
    slow_movers: list[ProductSales]


def product_report(period: Period, *, top: int = TOP_PRODUCTS) -> ProductReport:
    """Return the top SKUs by units and by revenue with their trend against the previous
    period of equal length, the slowest movers on sale, and each one's stock cover."""
    now = period_counts(period).products
    before = period_counts(period.previous()).products
    rows = [
        ProductSales(
            product_id=pid,
            sku=row["sku"],
            name=row["name"],
            quantity=row["quantity"],
            revenue=row["revenue"],
            previous_quantity=before.get(pid, {}).get("quantity", 0),
            previous_revenue=before.get(pid, {}).get("revenue", ZERO),
        )
        for pid, row in now.items()
    ]
    by_quantity = sorted(rows, key=lambda r: (-r.quantity, r.sku))[:top]
    by_revenue = sorted(rows, key=lambda r: (-r.revenue, r.sku))[:top]
    # One read of every product on sale with its available units (a shop has
    # thousands of products, not millions): the slow movers are those with the
    # fewest units sold (none at all first), the most stock first among equals,
    # that is the money lying still.
    on_sale = {
        p["pk"]: p
        for p in products_with_available().values("pk", "sku", "name", "available")
    }
    slow = sorted(
        (p for p in on_sale.values() if p["available"] > 0),
        key=lambda p: (
            now.get(p["pk"], {}).get("quantity", 0),
            -p["available"],
            p["sku"],
        ),
    )[:top]
    slow_rows = [
        ProductSales(
            product_id=p["pk"],
            sku=p["sku"],
            name=p["name"],
            quantity=now.get(p["pk"], {}).get("quantity", 0),
            revenue=now.get(p["pk"], {}).get("revenue", ZERO),
            previous_quantity=before.get(p["pk"], {}).get("quantity", 0),
            previous_revenue=before.get(p["pk"], {}).get("revenue", ZERO),
            available=p["available"],
        )
        for p in slow
    ]
    for row in by_quantity + by_revenue:
        row.available = on_sale.get(row.product_id, {}).get("available", 0)
    for row in by_quantity + by_revenue + slow_rows:
        row.cover_days = stock_cover_days(row.available, row.quantity, period.days)
    return ProductReport(by_quantity, by_revenue, slow_rows)


# --- Channels -------------------------------------------------------------------


@dataclass
class ChannelSales:
    code: str
    name: str
    orders: int
    revenue: Decimal
    order_share: Decimal | None
    revenue_share: Decimal | None

    @property
    def average_order_value(self) -> Decimal:
        return (self.revenue / self.orders).quantize(CENT)


def channel_mix(period: Period) -> list[ChannelSales]:
    """Return each channel's orders, revenue, shares of the whole and average order value."""
    rows = list(
        period.orders()
        .values("channel__code", "channel__name")
        .annotate(orders=Count("id"), revenue=_revenue())
        .order_by("-revenue", "channel__code")
    )
    orders = sum(r["orders"] for r in rows)
    revenue = sum((r["revenue"] for r in rows), ZERO)
    return [
        ChannelSales(
            code=r["channel__code"],
            name=r["channel__name"],
            orders=r["orders"],
            revenue=money(r["revenue"]),
            order_share=share(r["orders"], orders),
            revenue_share=share(r["revenue"], revenue),
        )
        for r in rows
    ]


# --- Process (流程梳理) ------------------------------------------------------------

# The stages an order goes through; each lasts until the next one's milestone
# (delivered lasts until the order is closed).
STAGES = (
    ("received", _("Received")),
    ("validated", _("Validated")),
    ("paid", _("Paid")),
    ("allocated", _("Stock allocated")),
    ("picked", _("Picked")),
    ("packed", _("Packed")),
    ("shipped", _("Shipped")),
    ("delivered", _("Delivered")),
)
STAGE_KEYS = [key for key, _label in STAGES]
# What each stage waits for, as the page explains it.
STAGE_WAITS_FOR = {
    "received": _("checking the contact and address details (and their correction)"),
    "validated": _("the payment (cash on delivery goes straight on)"),
    "paid": _("review and stock (backorders)"),
    "allocated": _("picking to start at the pack station"),
    "picked": _("the goods to be packed"),
    "packed": _("handing to the carrier"),
    "shipped": _("delivery"),
    "delivered": _("the order to be closed"),
}

PAST_VALIDATION = [S.AWAITING_PAYMENT, S.REVIEW, S.BACKORDERED, S.READY_TO_FULFILL]
PAST_PAYMENT = [S.REVIEW, S.BACKORDERED, S.READY_TO_FULFILL]


def _first_status(statuses):
    return Min(
        "events__created_at",
        filter=Q(events__kind=OrderEvent.Kind.STATUS, events__to_status__in=statuses),
    )


# When each stage began: the order was placed; first left validation; first moved
# past payment; stock first reserved; its first parcel reached the pack station
# (packing started: picking is done); a parcel packed; goods left; delivered; closed.
# Min() is unaffected by the rows the two joins (events, parcels) multiply.
MILESTONES = {
    "received": F("placed_at"),
    "validated": _first_status(PAST_VALIDATION),
    "paid": _first_status(PAST_PAYMENT),
    "allocated": _first_status([S.READY_TO_FULFILL]),
    "picked": Min("shipments__packing__started_at"),
    "packed": Min("shipments__packing__packed_at"),
    "shipped": _first_status([S.PARTIALLY_SHIPPED, S.SHIPPED]),
    "delivered": _first_status([S.DELIVERED]),
    "closed": _first_status([S.COMPLETED]),
}
STAGE_ENDS = dict(zip(STAGE_KEYS, [*STAGE_KEYS[1:], "closed"], strict=True))

# The statuses an order is in while it waits in a stage. In fulfilment, the
# parcels' packing tells whether it is still being picked, packed or waits to ship.
STAGE_OF_STATUS = {
    S.RECEIVED: "received",
    S.NEEDS_CORRECTION: "received",
    S.AWAITING_PAYMENT: "validated",
    S.REVIEW: "paid",
    S.BACKORDERED: "paid",
    S.READY_TO_FULFILL: "allocated",
    S.IN_FULFILLMENT: "allocated",
    S.PARTIALLY_SHIPPED: "shipped",
    S.SHIPPED: "shipped",
    S.DELIVERED: "delivered",
}


def stage_targets() -> dict[str, float]:
    """Return each stage's target time in hours (ANALYTICS_STAGE_TARGET_HOURS)."""
    return {
        key: float(settings.ANALYTICS_STAGE_TARGET_HOURS[key]) for key in STAGE_KEYS
    }


def _with_milestones(orders: QuerySet[Order]):
    return (
        orders.order_by()
        .values("pk", "status", "channel_id", "placed_at", "updated_at")
        .annotate(**{f"at_{key}": expr for key, expr in MILESTONES.items()})
    )


def _current_stage(row) -> str:
    stage = STAGE_OF_STATUS.get(row["status"], "")
    if row["status"] == S.IN_FULFILLMENT:
        if row["at_packed"]:
            stage = "packed"
        elif row["at_picked"]:
            stage = "picked"
    return stage


def stage_times_read(orders: QuerySet[Order]) -> list[OrderStageTimes]:
    """Return the orders' stage times worked out from their timelines (unsaved)."""
    rows = []
    for row in _with_milestones(orders):
        stage = _current_stage(row)
        times = OrderStageTimes(
            order_id=row["pk"],
            channel_id=row["channel_id"],
            status=row["status"],
            stage=stage,
            stage_since=(row[f"at_{stage}"] or row["placed_at"]) if stage else None,
            placed_at=row["placed_at"],
            order_updated_at=row["updated_at"],
        )
        for key in STAGE_KEYS:
            begun, ended = row[f"at_{key}"], row[f"at_{STAGE_ENDS[key]}"]
            if begun and ended and ended >= begun:
                setattr(times, f"{key}_seconds", int((ended - begun).total_seconds()))
        rows.append(times)
    return rows


@dataclass
class StageFigures:
    key: str
    label: str
    waits_for: str
    target_hours: float
    finished: int = 0  # orders of the period that went through the stage
    median_hours: float | None = None
    p90_hours: float | None = None
    now: int = 0  # orders in the stage now
    over_target: int = 0  # of them, in it longer than the target
    slowest: bool = False


@dataclass
class ProcessReport:
    stages: list[StageFigures] = field(default_factory=list)

    @property
    def slowest(self) -> StageFigures | None:
        return next((s for s in self.stages if s.slowest), None)


def _nth(histogram: list[tuple[float, int]], n: int) -> float:
    """Return the n-th smallest value (1-based) of a sorted (value, count) histogram."""
    seen = 0
    for value, count in histogram:
        seen += count
        if seen >= n:
            return value
    raise IndexError(n)


def _median(histogram, total) -> float:
    if total % 2:
        return _nth(histogram, total // 2 + 1)
    return round((_nth(histogram, total // 2) + _nth(histogram, total // 2 + 1)) / 2, 1)


def _percentile(histogram, total, p: int) -> float:
    """Return the p-th percentile by the nearest-rank method (a value that occurred)."""
    return _nth(histogram, max(math.ceil(p / 100 * total), 1))


def process_report(period: Period, *, now: datetime | None = None) -> ProcessReport:
    """Return per stage the median and 90th-percentile hours spent in it by the orders
    placed in the period, and how many orders (of the channel) wait in it now and
    how many of those longer than its target.

    Read from OrderStageTimes, as of its last refresh. Each stage's times are
    grouped by tenths of an hour in the database (the page shows hours to one
    decimal), so the medians come from a histogram, not from every order. A stage
    an order passed straight through (cash on delivery waits for no payment) counts
    with 0 hours. The slowest stage is the one with the highest median.
    """
    now = now or timezone.now()
    targets = stage_targets()
    placed = OrderStageTimes.objects.filter(
        placed_at__gte=period.start, placed_at__lt=period.end
    ).exclude(status=S.CANCELLED)
    waiting = OrderStageTimes.objects.exclude(stage="")
    if period.channel is not None:
        placed = placed.filter(channel=period.channel)
        waiting = waiting.filter(channel=period.channel)
    counts = waiting.aggregate(
        **{
            f"{key}_{what}": Count("pk", filter=condition)
            for key in STAGE_KEYS
            for what, condition in (
                ("now", Q(stage=key)),
                (
                    "over",
                    Q(
                        stage=key,
                        stage_since__lt=now - timedelta(hours=targets[key]),
                    ),
                ),
            )
        }
    )
    report = ProcessReport()
    for key, label in STAGES:
        seconds = f"{key}_seconds"
        # Whole tenths of an hour, rounded: (s + 180) // 360.
        histogram = [
            (row["tenths"] / 10, row["n"])
            for row in placed.filter(**{f"{seconds}__isnull": False})
            .values(tenths=(F(seconds) + 180) / 360)
            .annotate(n=Count("pk"))
            .order_by("tenths")
        ]
        total = sum(n for _value, n in histogram)
        report.stages.append(
            StageFigures(
                key=key,
                label=str(label),
                waits_for=str(STAGE_WAITS_FOR[key]),
                target_hours=targets[key],
                finished=total,
                median_hours=_median(histogram, total) if total else None,
                p90_hours=_percentile(histogram, total, 90) if total else None,
                now=counts[f"{key}_now"],
                over_target=counts[f"{key}_over"],
            )
        )
    timed = [s for s in report.stages if s.median_hours]
    if timed:
        max(timed, key=lambda s: s.median_hours).slowest = True
    return report


@dataclass
class StuckOrder:
    order: Order
    since: datetime
    hours: float
    over_target: bool


def orders_in_stage(
    stage: str, *, channel=None, now: datetime | None = None, limit: int = 200
) -> list[StuckOrder]:
    """Return the orders waiting in a stage (as of the last refresh of OrderStageTimes),
    longest waiting first, at most ``limit``."""
    now = now or timezone.now()
    target = timedelta(hours=stage_targets()[stage])
    waiting = OrderStageTimes.objects.filter(stage=stage)
    if channel is not None:
        waiting = waiting.filter(channel=channel)
    return [
        StuckOrder(
            row.order,
            row.stage_since,
            round((now - row.stage_since).total_seconds() / 3600, 1),
            now - row.stage_since > target,
        )
        for row in waiting.select_related("order__channel").order_by(
            "stage_since", "order_id"
        )[:limit]
    ]


# --- Exceptions -----------------------------------------------------------------


@dataclass
class Rate:
    """Of ``total`` things, ``count`` went wrong; grouped by ``key`` (labels)."""

    key: tuple
    total: int
    count: int

    @property
    def rate(self) -> Decimal | None:
        return share(self.count, self.total)


@dataclass
class ExceptionReport:
    corrections: list[Rate]  # (channel,) held for correction ÷ orders
    correction_reasons: list[Rate]  # (channel, reason) ÷ the channel's orders
    backorders: list[Rate]  # (sku, name) orders short of it ÷ orders with it
    carriers: list[Rate]  # (carrier, route) parcels delayed ÷ parcels shipped
    losses: list[Rate]  # (carrier, route) parcels lost ÷ parcels shipped
    returns: list[Rate]  # (sku, name) units returned ÷ units sold
    return_reasons: list[Rate]  # (sku, reason) units ÷ the SKU's returned units


def exception_report(period: Period) -> ExceptionReport:
    """Return the exception rates of the orders placed in the period.

    - corrections: orders ever held for correction, per channel and per problem;
    - backorders: per SKU, orders short of it (the shortage events list the SKUs)
      ÷ orders with it;
    - carriers: parcels of the period's orders shipped per carrier and route
      (warehouse → destination province); delayed = with a delay or loss exception,
      lost = its exception ended as probably lost;
    - returns: units returned (requests not rejected) ÷ units sold, per SKU, and the
      reasons' share of the returned units.

    Read from DailyFigures, as of its last refresh (``day_counts_read``).
    """
    counts = period_counts(period)
    per_channel = counts.placed
    corrections = [
        Rate((channel,), total, counts.held.get(channel, 0))
        for channel, total in sorted(per_channel.items())
    ]
    correction_reasons = [
        Rate(key, per_channel[key[0]], n)
        for key, n in sorted(
            counts.reasons.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])
        )
    ]
    sold = counts.skus
    backorders = sorted(
        (
            Rate((sku, sold[sku]["name"]), sold[sku]["orders"], n)
            for sku, n in counts.short.items()
            if sku in sold
        ),
        key=lambda r: (-r.rate, r.key),
    )
    routes = sorted(counts.routes.items(), key=lambda kv: [str(k) for k in kv[0]])
    carriers = [Rate(_route_key(key), n, delayed) for key, (n, delayed, _l) in routes]
    losses = [Rate(_route_key(key), n, lost) for key, (n, _d, lost) in routes]

    returned_units = defaultdict(int)
    for (sku, _reason), units in counts.returns.items():
        returned_units[sku] += units
    returns = sorted(
        (
            Rate((sku, sold[sku]["name"]), sold[sku]["units"], units)
            for sku, units in returned_units.items()
            if sku in sold
        ),
        key=lambda r: (-r.rate, r.key),
    )
    reason_labels = dict(ReturnRequest.Reason.choices)
    return_reasons = sorted(
        (
            Rate((sku, str(reason_labels[reason])), returned_units[sku], units)
            for (sku, reason), units in counts.returns.items()
        ),
        key=lambda r: (r.key[0], -r.count, r.key[1]),
    )
    return ExceptionReport(
        corrections,
        correction_reasons,
        backorders,
        carriers,
        losses,
        returns,
        return_reasons,
    )


def _route_key(key) -> tuple:
    carrier, warehouse, province = key
    return (carrier or "—", f"{warehouse} → {province or '—'}")


# --- Daily counts (DailyFigures) -------------------------------------------------


def _placed_on(days, prefix: str = "") -> Q:
    """Return a filter for the orders placed on any of the shop days ``days``."""
    placed = Q(pk__in=[])
    for day in days:
        placed |= Q(
            **{
                f"{prefix}placed_at__gte": shop_day_start(day),
                f"{prefix}placed_at__lt": shop_day_start(day + timedelta(days=1)),
            }
        )
    return placed


def _empty_day() -> dict:
    return {
        "placed": 0,  # orders placed, cancelled ones too
        "held": 0,  # of them, ever held for correction
        "reasons": {},  # problem code: orders held with it
        "short": {},  # SKU: orders (not cancelled) short of it
        "lines": [],  # [product id, SKU, name, units, revenue, orders] (not cancelled)
        "routes": [],  # [carrier, warehouse, province, shipped, delayed, lost]
        "returns": [],  # [SKU, reason, units returned]
    }


def day_counts_read(days) -> dict[tuple[date, int], dict]:
    """Count the figures of DailyFigures for the orders placed on the shop days ``days``.

    Returns {(day, channel id): counts}, only for the days and channels with orders.
    Every count is per order, parcel or line of one day and channel, so the counts
    of several days add up to those of the whole period (an order is in one day).
    """
    days = list(days)
    counts = defaultdict(_empty_day)
    day = TruncDate("placed_at")
    placed = Order.objects.order_by().filter(_placed_on(days))
    for row in placed.values(on=day, ch=F("channel_id")).annotate(n=Count("id")):
        counts[row["on"], row["ch"]]["placed"] = row["n"]
    # Holds and shortages are rare: one read of those events, the shortage events
    # listing the SKUs each order was short of.
    held, reasons, short = set(), defaultdict(set), defaultdict(set)
    for event in OrderEvent.objects.filter(
        _placed_on(days, "order__"),
        kind=OrderEvent.Kind.STATUS,
        to_status__in=[S.NEEDS_CORRECTION, S.BACKORDERED],
    ).values(
        "order_id",
        "to_status",
        "data",
        "order__status",
        on=TruncDate("order__placed_at"),
        ch=F("order__channel_id"),
    ):
        key, data = (event["on"], event["ch"]), event["data"] or {}
        if event["to_status"] == S.BACKORDERED:
            if (
                event["order__status"] != S.CANCELLED
            ):  # the rate counts the orders not cancelled
                for item in data.get("shortages", []):
                    short[key, item["sku"]].add(event["order_id"])
            continue
        held.add((key, event["order_id"]))
        for problem in data.get("problems", []):
            reasons[key, problem.get("code", "")].add(event["order_id"])
    for key, _order in held:
        counts[key]["held"] += 1
    for (key, code), ids in reasons.items():
        counts[key]["reasons"][code] = len(ids)
    for (key, sku), ids in short.items():
        counts[key]["short"][sku] = len(ids)

    on, ch = TruncDate("order__placed_at"), F("order__channel_id")
    lines = OrderLine.objects.order_by().filter(_placed_on(days, "order__"))
    for row in (
        lines.exclude(order__status=S.CANCELLED)
        .values("product_id", "sku", on=on, ch=ch)
        .annotate(
            units=Sum("quantity"),
            revenue=Coalesce(
                Sum("line_total"), Value(ZERO), output_field=DecimalField()
            ),
            orders=Count("order_id", distinct=True),
            name=Min("name"),
        )
    ):
        counts[row["on"], row["ch"]]["lines"].append(
            [
                row["product_id"],
                row["sku"],
                row["name"],
                row["units"],
                str(money(row["revenue"])),
                row["orders"],
            ]
        )

    route = ("carrier__name", "warehouse__name", "order__province")
    for row in (
        Shipment.objects.order_by()
        .filter(_placed_on(days, "order__"), shipped_at__isnull=False)
        .exclude(order__status=S.CANCELLED)
        .values(*route, on=on, ch=ch)
        .annotate(
            n=Count("id", distinct=True),
            delayed=Count(
                "exceptions__shipment",
                distinct=True,
                filter=Q(
                    exceptions__kind__in=[
                        ParcelException.Kind.DELAYED,
                        ParcelException.Kind.LOST,
                    ]
                ),
            ),
            lost=Count(
                "exceptions__shipment",
                distinct=True,
                filter=Q(exceptions__kind=ParcelException.Kind.LOST),
            ),
        )
    ):
        counts[row["on"], row["ch"]]["routes"].append(
            [*(row[k] for k in route), row["n"], row["delayed"], row["lost"]]
        )

    for row in (
        ReturnLine.objects.order_by()
        .filter(_placed_on(days, "order_line__order__"))
        .exclude(order_line__order__status=S.CANCELLED)
        .exclude(return_request__status=ReturnRequest.Status.REJECTED)
        .values(
            "order_line__sku",
            "return_request__reason",
            on=TruncDate("order_line__order__placed_at"),
            ch=F("order_line__order__channel_id"),
        )
        .annotate(units=Sum("quantity"))
    ):
        counts[row["on"], row["ch"]]["returns"].append(
            [row["order_line__sku"], row["return_request__reason"], row["units"]]
        )
    return dict(counts)


@dataclass
class PeriodCounts:
    """The DailyFigures of a period added up (keys: channel names, SKUs, product ids)."""

    placed: dict = field(default_factory=lambda: defaultdict(int))
    held: dict = field(default_factory=lambda: defaultdict(int))
    reasons: dict = field(
        default_factory=lambda: defaultdict(int)
    )  # (channel, problem)
    short: dict = field(default_factory=lambda: defaultdict(int))
    products: dict = field(default_factory=dict)  # id: sku, name, quantity, revenue
    skus: dict = field(default_factory=dict)  # SKU: name, units, orders
    routes: dict = field(default_factory=dict)  # (carrier, warehouse, province): counts
    returns: dict = field(default_factory=lambda: defaultdict(int))  # (SKU, reason)


def period_counts(period: Period) -> PeriodCounts:
    """Return the DailyFigures of the period's days (and channel) added up."""
    rows = DailyFigures.objects.filter(
        day__gte=period.date_from, day__lte=period.date_to
    )
    if period.channel is not None:
        rows = rows.filter(channel=period.channel)
    total = PeriodCounts()
    for channel, day in rows.values_list("channel__name", "figures"):
        total.placed[channel] += day["placed"]
        if day["held"]:
            total.held[channel] += day["held"]
        for code, n in day["reasons"].items():
            total.reasons[channel, problem_message({"code": code})] += n
        for sku, n in day["short"].items():
            total.short[sku] += n
        for pid, sku, name, units, revenue, orders in day["lines"]:
            product = total.products.setdefault(
                pid, {"sku": sku, "name": name, "quantity": 0, "revenue": ZERO}
            )
            product["sku"] = min(product["sku"], sku)
            product["name"] = min(product["name"], name)
            product["quantity"] += units
            product["revenue"] += Decimal(revenue)
            sold = total.skus.setdefault(sku, {"name": name, "units": 0, "orders": 0})
            sold["name"] = min(sold["name"], name)
            sold["units"] += units
            sold["orders"] += orders
        for carrier, warehouse, province, *shipped in day["routes"]:
            key = (carrier, warehouse, province)
            before = total.routes.get(key, (0, 0, 0))
            total.routes[key] = tuple(
                a + b for a, b in zip(before, shipped, strict=True)
            )
        for sku, reason, units in day["returns"]:
            total.returns[sku, reason] += units
    return total
