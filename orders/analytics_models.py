"""The process view's copy of each order's stage times (orders.analytics_services keeps it).

Reading the timelines (events, parcels, packing) of every order of a month takes
seconds at a million orders; this table holds, per order, when each stage began and
how long it lasted, so the process view groups one narrow table instead.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStageTimes(models.Model):
    """When each stage of one order began, and how long each finished stage lasted."""

    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("order"),
    )
    channel = models.ForeignKey(
        "orders.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("channel"),
    )
    status = models.CharField(_("status"), max_length=20)
    # The stage the order waits in now (orders.analytics.STAGES), "" when done,
    # and since when.
    stage = models.CharField(_("stage now"), max_length=12, blank=True)
    stage_since = models.DateTimeField(_("in the stage since"), null=True)
    placed_at = models.DateTimeField(_("placed at"))
    # Seconds spent in each stage the order has finished (null: not finished).
    received_seconds = models.PositiveIntegerField(null=True)
    validated_seconds = models.PositiveIntegerField(null=True)
    paid_seconds = models.PositiveIntegerField(null=True)
    allocated_seconds = models.PositiveIntegerField(null=True)
    picked_seconds = models.PositiveIntegerField(null=True)
    packed_seconds = models.PositiveIntegerField(null=True)
    shipped_seconds = models.PositiveIntegerField(null=True)
    delivered_seconds = models.PositiveIntegerField(null=True)
    # The order's updated_at when copied: the refresh carries on after the last one.
    order_updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("order stage times")
        verbose_name_plural = _("order stage times")
        indexes = [
            models.Index(fields=["placed_at"], name="stage_times_placed"),
            models.Index(
                fields=["stage", "stage_since"],
                condition=~models.Q(stage=""),
                name="stage_times_waiting",
            ),
            models.Index(
                fields=["order_updated_at", "order"], name="stage_times_copied"
            ),
        ]

    def __str__(self):
        return f"{self.order_id} {self.stage}"


class DailyFigures(models.Model):
    """One shop day's product and exception counts of one channel's orders.

    The products and exceptions pages join a month of orders (about 80,000 at a
    million orders) with their lines, events, parcels and returns: 0.2-0.5 s per
    query. The refresh of OrderStageTimes recounts the days of the orders it copies
    (orders.analytics_services), so the pages add up at most a few hundred of these
    rows instead. ``figures`` holds the counts (orders.analytics.DayCounts).
    """

    day = models.DateField(_("day"))
    channel = models.ForeignKey(
        "orders.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("channel"),
    )
    figures = models.JSONField(_("figures"))

    class Meta:
        verbose_name = _("daily figures")
        verbose_name_plural = _("daily figures")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel"], name="daily_figures_day_channel"
            )
        ]

    def __str__(self):
        return f"{self.day} {self.channel_id}"
