"""Keeping OrderStageTimes (the process view's table) up to date, a batch at a time."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orders.analytics import STAGE_KEYS, day_counts_read, stage_times_read
from orders.analytics_models import DailyFigures, OrderStageTimes
from orders.models import Order

COPIED_FIELDS = [
    "channel",
    "status",
    "stage",
    "stage_since",
    "placed_at",
    *[f"{key}_seconds" for key in STAGE_KEYS],
    "order_updated_at",
]


@transaction.atomic
def stage_times_refresh(*, now: datetime | None = None, batch: int = 2000) -> int:
    """Copy the stage times of up to ``batch`` orders changed since the last copy.

    Orders are taken in (updated_at, id) order after the last one copied; every
    event on an order's timeline moves its updated_at (orders.events), so a change
    brings the order back. Changes younger than SYNC_SETTLE_SECONDS wait for the next
    run: a transaction still open may yet commit an older updated_at. Returns how
    many orders were copied; running it again with nothing changed copies none.
    The shop days these orders were placed on are counted again (DailyFigures).
    """
    now = now or timezone.now()
    settled = now - timedelta(seconds=settings.SYNC_SETTLE_SECONDS)
    last = (
        OrderStageTimes.objects.order_by("-order_updated_at", "-order_id")
        .values("order_updated_at", "order_id")
        .first()
    )
    changed = Order.objects.filter(updated_at__lt=settled)
    if last:
        changed = changed.filter(
            Q(updated_at__gt=last["order_updated_at"])
            | Q(updated_at=last["order_updated_at"], pk__gt=last["order_id"])
        )
    pks = list(
        changed.order_by("updated_at", "pk").values_list("pk", flat=True)[:batch]
    )
    if not pks:
        return 0
    rows = stage_times_read(Order.objects.filter(pk__in=pks))
    OrderStageTimes.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["order"],
        update_fields=COPIED_FIELDS,
    )
    daily_figures_count(days={timezone.localdate(row.placed_at) for row in rows})
    return len(rows)


def stage_times_catch_up(*, now: datetime | None = None, batches: int = 50) -> int:
    """Refresh batch after batch until nothing is left or ``batches`` ran; return the count."""
    copied = 0
    for _run in range(batches):
        done = stage_times_refresh(now=now)
        copied += done
        if not done:
            break
    return copied


def daily_figures_count(*, days) -> None:
    """Count the DailyFigures of the shop days ``days`` again, all channels.

    Recounting a day from its orders replaces what was there: idempotent, and the
    caller's transaction makes the day's rows change at once.
    """
    days = set(days)
    if not days:
        return
    counts = day_counts_read(days)
    DailyFigures.objects.filter(day__in=days).delete()
    DailyFigures.objects.bulk_create(
        [
            DailyFigures(day=day, channel_id=channel, figures=figures)
            for (day, channel), figures in counts.items()
        ],
        batch_size=500,
    )


def daily_figures_catch_up(*, days_per_batch: int = 14) -> int:
    """Count the DailyFigures of every shop day with orders, ``days_per_batch`` days at
    a time, each in one transaction; return the days counted.

    For a shop whose OrderStageTimes were copied before DailyFigures existed (the
    refresh counts only the days of the orders it copies).
    """
    first = Order.objects.order_by("placed_at").values_list("placed_at", flat=True)
    first = first.first()
    if first is None:
        return 0
    day, today = timezone.localdate(first), timezone.localdate()
    counted = 0
    while day <= today:
        days = [day + timedelta(days=n) for n in range(days_per_batch)]
        with transaction.atomic():
            daily_figures_count(days=[d for d in days if d <= today])
        counted += len([d for d in days if d <= today])
        day = days[-1] + timedelta(days=1)
    return counted
