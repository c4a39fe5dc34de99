"""The analytics pages (数据分析): each shows charts, the same figures as tables, and a
CSV of every table (``?export=<table>``), for a date range and channel."""

from dataclasses import dataclass, field

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from orders import analytics
from orders.analytics_forms import AnalyticsFilterForm
from orders.charts import bar_chart, heat_map, line_chart
from orders.exports import csv_download
from orders.views import ConsoleView

WEEKDAYS = (
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
)
HOURS = [f"{hour:02d}" for hour in range(24)]


@dataclass
class Table:
    """One chart's figures: shown as a table, exported as CSV under ``key``."""

    key: str
    title: str
    columns: list[str]
    rows: list[list]
    chart: SafeString | None = None
    note: str = ""
    # Per row, a page the first cell links to (or "").
    links: list[str] = field(default_factory=list)
    highlight_row: int | None = None

    def rows_with_links(self):
        links = self.links or [""] * len(self.rows)
        return [
            (row, link, i == self.highlight_row)
            for i, (row, link) in enumerate(zip(self.rows, links, strict=True))
        ]


def _pct(value):
    return "—" if value is None else value


class AnalyticsView(ConsoleView, View):
    """A page of tables for the filtered period; ``export`` answers one table as CSV."""

    permission_required = "orders.view_analytics"
    title = ""
    intro = ""

    def tables(self, period: analytics.Period) -> list[Table]:
        raise NotImplementedError

    def get(self, request):
        form = AnalyticsFilterForm(request.GET or None)
        period = form.period()
        tables = self.tables(period)
        export = request.GET.get("export")
        if export:
            table = next((t for t in tables if t.key == export), None)
            if table is None:
                raise Http404
            return csv_download(
                f"{table.key}-{period.date_from}-{period.date_to}.csv",
                table.columns,
                table.rows,
            )
        query = request.GET.copy()
        query.pop("export", None)
        return render(
            request,
            "orders/analytics/page.html",
            {
                "title": self.title,
                "intro": self.intro,
                "form": form,
                "period": period,
                "tables": tables,
                "query": query.urlencode(),
                "tabs": TABS,
            },
        )


class PeaksView(AnalyticsView):
    title = gettext_lazy("Peaks and forecast")
    intro = gettext_lazy(
        "Orders placed and not cancelled, by the shop's local time. The forecast is "
        "seasonal naive by weekday: each of the next 7 days expects the average of "
        "the same weekday in the last 4 full weeks."
    )

    def tables(self, period):
        grid = analytics.sales_by_weekday_hour(period)
        days = analytics.sales_by_day(period)
        today = timezone.localdate()
        forecast = analytics.order_forecast(today=today, channel=period.channel)
        weekdays = [str(d) for d in WEEKDAYS]
        orders = [[cell.orders for cell in row] for row in grid]
        revenue = [[cell.revenue for cell in row] for row in grid]
        return [
            Table(
                "hours_orders",
                _("Orders per hour and weekday"),
                [_("Weekday"), *HOURS],
                [[day, *row] for day, row in zip(weekdays, orders, strict=True)],
                heat_map(
                    orders,
                    rows=weekdays,
                    columns=HOURS,
                    title=_("Orders per hour and weekday"),
                ),
            ),
            Table(
                "hours_revenue",
                _("Revenue per hour and weekday (¥)"),
                [_("Weekday"), *HOURS],
                [[day, *row] for day, row in zip(weekdays, revenue, strict=True)],
                heat_map(
                    revenue,
                    rows=weekdays,
                    columns=HOURS,
                    title=_("Revenue per hour and weekday (¥)"),
                ),
            ),
            Table(
                "days",
                _(
                    "Orders per day, and the next 7 days' forecast (dashed) when the period reaches today"
                ),
                [_("Day"), _("Orders"), _("Revenue (¥)")],
                [[d.day.isoformat(), d.orders, d.revenue] for d in days],
                line_chart(
                    [(d.day.strftime("%m-%d"), d.orders) for d in days],
                    # The forecast starts tomorrow: drawn on only when the period
                    # reaches today, so the dashed line follows on from its days.
                    forecast=[(f.day.strftime("%m-%d"), f.orders) for f in forecast]
                    if period.date_to >= today
                    else (),
                    title=_("Orders per day"),
                ),
            ),
            Table(
                "forecast",
                _("Forecast of the next 7 days"),
                [
                    _("Day"),
                    _("Weekday"),
                    _("Expected orders"),
                    _("Same weekday, 4 weeks"),
                ],
                [
                    [
                        f.day.isoformat(),
                        weekdays[f.day.weekday()],
                        f.orders,
                        " / ".join(str(n) for n in f.history),
                    ]
                    for f in forecast
                ],
            ),
        ]


def _product_rows(rows):
    return [
        [
            r.sku,
            r.name,
            r.quantity,
            r.previous_quantity,
            _pct(r.quantity_trend),
            r.revenue,
            r.previous_revenue,
            _pct(r.revenue_trend),
            r.available,
            _pct(r.cover_days),
        ]
        for r in rows
    ]


class ProductsView(AnalyticsView):
    title = gettext_lazy("Products")
    intro = gettext_lazy(
        "Trend: change against the previous period of the same length. Stock cover: "
        "days the available stock lasts at this period's daily sales (units sold ÷ "
        "days); — when nothing sold."
    )

    def tables(self, period):
        report = analytics.product_report(period)
        columns = [
            _("SKU"),
            _("Product"),
            _("Units"),
            _("Units before"),
            _("Units trend %"),
            _("Revenue (¥)"),
            _("Revenue before (¥)"),
            _("Revenue trend %"),
            _("Available"),
            _("Stock cover (days)"),
        ]
        return [
            Table(
                "top_quantity",
                _("Top products by units"),
                columns,
                _product_rows(report.by_quantity),
                bar_chart(
                    [(r.sku, r.quantity) for r in report.by_quantity],
                    title=_("Top products by units"),
                ),
            ),
            Table(
                "top_revenue",
                _("Top products by revenue"),
                columns,
                _product_rows(report.by_revenue),
                bar_chart(
                    [(r.sku, r.revenue) for r in report.by_revenue],
                    title=_("Top products by revenue"),
                ),
            ),
            Table(
                "slow_movers",
                _("Slow movers: fewest units sold, with stock"),
                columns,
                _product_rows(report.slow_movers),
                bar_chart(
                    [(r.sku, r.available) for r in report.slow_movers],
                    title=_("Units available of the slow movers"),
                ),
            ),
        ]


class ChannelsView(AnalyticsView):
    title = gettext_lazy("Channels")

    def tables(self, period):
        rows = analytics.channel_mix(period)
        return [
            Table(
                "channel_mix",
                _("Channel mix"),
                [
                    _("Channel"),
                    _("Orders"),
                    _("Share of orders %"),
                    _("Revenue (¥)"),
                    _("Share of revenue %"),
                    _("Average order value (¥)"),
                ],
                [
                    [
                        r.name,
                        r.orders,
                        _pct(r.order_share),
                        r.revenue,
                        _pct(r.revenue_share),
                        r.average_order_value,
                    ]
                    for r in rows
                ],
                bar_chart(
                    [(r.name, r.revenue_share) for r in rows],
                    title=_("Share of revenue per channel"),
                    unit="%",
                ),
            ),
            Table(
                "average_order_value",
                _("Average order value per channel (¥)"),
                [_("Channel"), _("Average order value (¥)")],
                [[r.name, r.average_order_value] for r in rows],
                bar_chart(
                    [(r.name, r.average_order_value) for r in rows],
                    title=_("Average order value per channel (¥)"),
                ),
            ),
        ]


class ProcessView(AnalyticsView):
    title = gettext_lazy("Process")
    intro = gettext_lazy(
        "Hours spent in each stage by the orders placed in the period (median and 90th "
        "percentile), and the orders in each stage now, with those over the stage's "
        "target time. The slowest stage (highest median) is in red; a stage's name "
        "lists the orders waiting in it."
    )

    def tables(self, period):
        report = analytics.process_report(period)
        slowest = report.slowest
        channel = f"?channel={period.channel.code}" if period.channel else ""
        return [
            Table(
                "stages",
                _("Time spent per stage"),
                [
                    _("Stage"),
                    _("Waits for"),
                    _("Orders through"),
                    _("Median hours"),
                    _("90th percentile hours"),
                    _("Target hours"),
                    _("In it now"),
                    _("Over target now"),
                ],
                [
                    [
                        s.label,
                        s.waits_for,
                        s.finished,
                        _pct(s.median_hours),
                        _pct(s.p90_hours),
                        s.target_hours,
                        s.now,
                        s.over_target,
                    ]
                    for s in report.stages
                ],
                bar_chart(
                    [(s.label, s.median_hours) for s in report.stages],
                    title=_("Median hours per stage"),
                    highlight=slowest.label if slowest else None,
                    unit=" h",
                ),
                note=(
                    _("Slowest stage: %(stage)s, waiting for %(what)s.")
                    % {"stage": slowest.label, "what": slowest.waits_for}
                    if slowest
                    else ""
                ),
                links=[
                    reverse("analytics:stage", args=[s.key]) + channel
                    for s in report.stages
                ],
                highlight_row=report.stages.index(slowest) if slowest else None,
            )
        ]


class StageOrdersView(ConsoleView, View):
    """The orders waiting in one stage now, longest first: where the process is stuck."""

    permission_required = "orders.view_analytics"

    def get(self, request, stage):
        labels = dict(analytics.STAGES)
        if stage not in labels:
            raise Http404
        form = AnalyticsFilterForm(request.GET or None)
        channel = form.period().channel
        return render(
            request,
            "orders/analytics/stage_orders.html",
            {
                "stage": labels[stage],
                "waits_for": analytics.STAGE_WAITS_FOR[stage],
                "target_hours": analytics.stage_targets()[stage],
                "channel": channel,
                "orders": analytics.orders_in_stage(stage, channel=channel),
                "tabs": TABS,
            },
        )


def _rate_rows(rates):
    return [[*r.key, r.total, r.count, _pct(r.rate)] for r in rates]


def _rate_chart(rates, title):
    return bar_chart(
        [(" · ".join(str(k) for k in r.key), r.rate) for r in rates],
        title=title,
        unit="%",
    )


def _rate_table(key, title, headers, rates, *, chart_title=None) -> Table:
    """A table of counts with their rate column, and its bar chart."""
    return Table(
        key,
        title,
        [*headers, _("Rate %")],
        _rate_rows(rates),
        _rate_chart(rates, chart_title or title),
    )


class ExceptionsView(AnalyticsView):
    title = gettext_lazy("Exceptions")
    intro = gettext_lazy(
        "Of the orders placed in the period: held for correction, short of stock, "
        "parcels delayed or lost by carrier and route (warehouse → province), and "
        "units returned."
    )

    def tables(self, period):
        report = analytics.exception_report(period)
        return [
            _rate_table(
                "corrections",
                _("Correction rate per channel"),
                [_("Channel"), _("Orders"), _("Held for correction")],
                report.corrections,
            ),
            _rate_table(
                "correction_reasons",
                _("Correction reasons per channel"),
                [_("Channel"), _("Reason"), _("Orders"), _("With this problem")],
                report.correction_reasons,
                chart_title=_("Correction reasons"),
            ),
            _rate_table(
                "backorders",
                _("Backorder rate per SKU"),
                [_("SKU"), _("Product"), _("Orders with it"), _("Short of it")],
                report.backorders,
            ),
            _rate_table(
                "delays",
                _("Delay rate per carrier and route"),
                [_("Carrier"), _("Route"), _("Parcels shipped"), _("Delayed")],
                report.carriers,
            ),
            _rate_table(
                "losses",
                _("Loss rate per carrier and route"),
                [_("Carrier"), _("Route"), _("Parcels shipped"), _("Lost")],
                report.losses,
            ),
            _rate_table(
                "returns",
                _("Return rate per SKU"),
                [_("SKU"), _("Product"), _("Units sold"), _("Units returned")],
                report.returns,
            ),
            _rate_table(
                "return_reasons",
                _("Return reasons per SKU"),
                [_("SKU"), _("Reason"), _("Units returned"), _("For this reason")],
                report.return_reasons,
            ),
        ]


TABS = (
    ("analytics:peaks", gettext_lazy("Peaks and forecast")),
    ("analytics:products", gettext_lazy("Products")),
    ("analytics:channels", gettext_lazy("Channels")),
    ("analytics:process", gettext_lazy("Process")),
    ("analytics:exception_rates", gettext_lazy("Exceptions")),
)
