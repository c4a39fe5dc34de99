"""Every analytics figure against hand-computed values on a small fixed data set.

The week of Monday 2026-11-02 to Sunday 2026-11-08, Shanghai time:

| order | channel | placed (Shanghai)  | status           | lines      | total |
| A     | web     | Tue 11-03 23:30    | delivered        | TEA × 2    | 100   |
| B     | web     | Tue 11-03 10:15    | shipped          | CUP × 3    |  90   |
| C     | taobao  | Thu 11-05 10:40    | ready_to_fulfill | TEA × 3    | 150   |
| D     | taobao  | Thu 11-05 14:00    | cancelled        | TEA × 1    |  50   |
| F     | web     | Wed 10-28 12:00    | delivered        | TEA × 4    | 200   | (the week before)

A is placed at 15:30 UTC on Tuesday: it belongs to Tuesday 23:00 in Shanghai.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from inventory.services import stock_receive
from orders import analytics
from orders.analytics_models import DailyFigures, OrderStageTimes
from orders.analytics_services import (
    daily_figures_catch_up,
    stage_times_catch_up,
    stage_times_refresh,
)
from orders.events import order_event_record
from orders.models import Order, OrderEvent
from orders.roles import CUSTOMER_SERVICE, FINANCE, OWNER
from tests.factories.analytics import SH, analytics_week, at, status
from tests.factories.inventory import ProductFactory
from tests.factories.orders import (
    ChannelFactory,
    OrderFactory,
    OrderLineFactory,
    UserFactory,
)

S = Order.Status
D = Decimal
WEEK = analytics.Period(date(2026, 11, 2), date(2026, 11, 8))
NOW = datetime(2026, 11, 9, 12, 0, tzinfo=SH)
# Past the settling time of every change the tests make.
LATER = timezone.now() + timedelta(hours=1)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def shop(warehouse):
    made = analytics_week(warehouse)
    stage_times_catch_up(now=LATER)
    return made


def test_an_order_at_23_30_shanghai_counts_on_the_shanghai_day_and_hour(shop):
    grid = analytics.sales_by_weekday_hour(WEEK)

    tuesday, thursday = grid[1], grid[3]
    assert tuesday[23] == analytics.Cell(1, D("100.00"))
    assert tuesday[15] == analytics.Cell()  # the UTC hour stays empty
    assert tuesday[10] == analytics.Cell(1, D("90.00"))
    assert thursday[10] == analytics.Cell(1, D("150.00"))  # D, cancelled, left out
    assert sum(cell.orders for row in grid for cell in row) == 3


def test_orders_and_revenue_per_shanghai_day_include_empty_days(shop):
    days = analytics.sales_by_day(WEEK)

    assert [(d.day.day, d.orders, d.revenue) for d in days] == [
        (2, 0, 0),
        (3, 2, D("190.00")),
        (4, 0, 0),
        (5, 1, D("150.00")),
        (6, 0, 0),
        (7, 0, 0),
        (8, 0, 0),
    ]


def test_forecast_averages_the_same_weekday_of_the_last_four_weeks(shop):
    forecast = analytics.order_forecast(today=date(2026, 11, 9))

    assert [(f.day.isoformat(), f.orders, f.history) for f in forecast] == [
        ("2026-11-10", D("0.5"), [0, 0, 0, 2]),
        ("2026-11-11", D("0.3"), [0, 0, 1, 0]),
        ("2026-11-12", D("0.3"), [0, 0, 0, 1]),
        ("2026-11-13", D("0.0"), [0, 0, 0, 0]),
        ("2026-11-14", D("0.0"), [0, 0, 0, 0]),
        ("2026-11-15", D("0.0"), [0, 0, 0, 0]),
        ("2026-11-16", D("0.0"), [0, 0, 0, 0]),  # 10-19, 10-26, 11-02, (11-09 is today)
    ]


def test_forecast_of_one_channel_counts_only_its_orders(shop):
    forecast = analytics.order_forecast(today=date(2026, 11, 9), channel=shop["taobao"])

    assert [f.orders for f in forecast[:3]] == [D("0.0"), D("0.0"), D("0.3")]


def test_hot_products_with_trend_and_stock_cover(shop):
    report = analytics.product_report(WEEK)

    tea, cup = report.by_quantity
    assert (tea.sku, tea.quantity, tea.previous_quantity, tea.quantity_trend) == (
        "TEA-1",
        5,
        4,
        D("25.0"),
    )
    assert (tea.revenue, tea.previous_revenue, tea.revenue_trend) == (
        D("250.00"),
        D("200.00"),
        D("25.0"),
    )
    # 40 available ÷ (5 sold ÷ 7 days) = 56 days; 9 ÷ (3 ÷ 7) = 21 days.
    assert (tea.available, tea.cover_days) == (40, D("56.0"))
    assert (cup.sku, cup.quantity, cup.quantity_trend, cup.cover_days) == (
        "CUP-1",
        3,
        None,
        D("21.0"),
    )
    assert [r.sku for r in report.by_revenue] == ["TEA-1", "CUP-1"]


def test_slow_movers_come_first_with_nothing_sold_and_no_stock_cover(shop):
    report = analytics.product_report(WEEK)

    assert [
        (r.sku, r.quantity, r.available, r.cover_days) for r in report.slow_movers
    ] == [
        ("POT-1", 0, 20, None),
        ("CUP-1", 3, 9, D("21.0")),
        ("TEA-1", 5, 40, D("56.0")),
    ]


def test_channel_mix_and_average_order_value(shop):
    rows = analytics.channel_mix(WEEK)

    assert [
        (
            r.code,
            r.orders,
            r.order_share,
            r.revenue,
            r.revenue_share,
            r.average_order_value,
        )
        for r in rows
    ] == [
        ("web", 2, D("66.7"), D("190.00"), D("55.9"), D("95.00")),
        ("taobao", 1, D("33.3"), D("150.00"), D("44.1"), D("150.00")),
    ]


def test_channel_filter_keeps_one_channel(shop):
    period = analytics.Period(WEEK.date_from, WEEK.date_to, shop["taobao"])

    assert [(r.code, r.orders) for r in analytics.channel_mix(period)] == [
        ("taobao", 1)
    ]
    assert analytics.sales_by_weekday_hour(period)[1][23].orders == 0


def test_process_times_per_stage_with_median_and_90th_percentile(shop):
    report = analytics.process_report(WEEK, now=NOW)

    figures = {s.key: (s.finished, s.median_hours, s.p90_hours) for s in report.stages}
    assert figures == {
        "received": (3, 0.5, 1.0),  # A 1/6 h, B 0.5 h, C 1 h
        "validated": (3, 0.0, 2.0),  # A 2 h, B and C straight on
        "paid": (3, 0.0, 2.0),  # C 2 h (review, backorder)
        "allocated": (2, 6.0, 8.0),  # A 8 h, B 4 h
        "picked": (2, 1.0, 1.5),  # A 0.5 h, B 1.5 h
        "packed": (2, 4.0, 6.0),  # A 6 h, B 2 h
        "shipped": (1, 48.0, 48.0),  # A
        "delivered": (0, None, None),  # nobody closed
    }
    assert report.slowest.key == "shipped"


def test_process_counts_orders_in_each_stage_now_and_those_over_target(shop):
    report = analytics.process_report(WEEK, now=NOW)

    now = {s.key: (s.now, s.over_target) for s in report.stages if s.now}
    # C allocated since Thu 13:40 (94 h > 24); B shipped since Tue 18:15 (138 h > 72);
    # A delivered since Fri 16:10 (68 h < 168); F, with no timeline, since placed.
    assert now == {"allocated": (1, 1), "shipped": (1, 1), "delivered": (2, 1)}


def test_stage_targets_come_from_the_setting(settings, shop):
    settings.ANALYTICS_STAGE_TARGET_HOURS = {
        **settings.ANALYTICS_STAGE_TARGET_HOURS,
        "allocated": "100",
    }

    report = analytics.process_report(WEEK, now=NOW)

    allocated = next(s for s in report.stages if s.key == "allocated")
    assert (allocated.target_hours, allocated.over_target) == (100.0, 0)


def test_stage_times_are_copied_once_and_again_when_the_order_changes(shop):
    assert OrderStageTimes.objects.count() == 5
    assert stage_times_refresh(now=LATER) == 0

    c = shop["orders"]["C"]
    order_event_record(
        order=c,
        kind=OrderEvent.Kind.STATUS,
        actor="t",
        to_status=S.IN_FULFILLMENT,
        from_status=S.READY_TO_FULFILL,
    )
    Order.objects.filter(pk=c.pk).update(status=S.IN_FULFILLMENT)

    assert stage_times_refresh(now=timezone.now()) == 0  # not settled yet
    assert stage_times_refresh(now=LATER + timedelta(hours=1)) == 1
    copied = OrderStageTimes.objects.get(order=c)
    assert (copied.status, copied.stage, copied.allocated_seconds) == (
        S.IN_FULFILLMENT,
        "allocated",
        None,
    )


def test_orders_stuck_in_a_stage_longest_first(shop):
    stuck = analytics.orders_in_stage("delivered", now=NOW)

    assert [(s.order.number, s.hours, s.over_target) for s in stuck] == [
        ("F", 288.0, True),
        ("A", 67.8, False),
    ]


def test_exception_rates(shop):
    report = analytics.exception_report(WEEK)

    rows = lambda rates: [(*r.key, r.total, r.count, r.rate) for r in rates]  # noqa: E731
    # Cancelled D counts here: it was held too.
    assert rows(report.corrections) == [
        ("官网", 2, 0, D("0.0")),
        ("淘宝", 2, 2, D("100.0")),
    ]
    assert rows(report.correction_reasons) == [
        ("淘宝", "The phone number is not a valid number.", 2, 2, D("100.0")),
        ("淘宝", "The street address is missing or too short.", 2, 1, D("50.0")),
    ]
    # TEA is on A and C (and cancelled D, not counted); C was short of it.
    assert rows(report.backorders) == [("TEA-1", "红茶", 2, 1, D("50.0"))]
    assert rows(report.carriers) == [
        ("顺丰速运", "杭州仓 → 广东省", 1, 1, D("100.0")),
        ("顺丰速运", "杭州仓 → 浙江省", 1, 0, D("0.0")),
    ]
    assert rows(report.losses) == [
        ("顺丰速运", "杭州仓 → 广东省", 1, 1, D("100.0")),
        ("顺丰速运", "杭州仓 → 浙江省", 1, 0, D("0.0")),
    ]
    # 1 of the 5 TEA sold came back; the rejected cup return does not count.
    assert rows(report.returns) == [("TEA-1", "红茶", 5, 1, D("20.0"))]
    assert rows(report.return_reasons) == [("TEA-1", "Damaged", 1, 1, D("100.0"))]


def _stored_and_counted():
    """Return DailyFigures and a fresh count of the same days, lists sorted."""

    def tidy(figures):
        return {k: sorted(v) if isinstance(v, list) else v for k, v in figures.items()}

    stored = {
        (row.day, row.channel_id): tidy(row.figures)
        for row in DailyFigures.objects.all()
    }
    counted = analytics.day_counts_read({day for day, _channel in stored})
    return stored, {key: tidy(figures) for key, figures in counted.items()}


def test_daily_figures_equal_a_count_from_the_orders_after_an_order_changes(shop):
    c = shop["orders"]["C"]
    order_event_record(
        order=c,
        kind=OrderEvent.Kind.STATUS,
        actor="t",
        to_status=S.CANCELLED,
        from_status=S.READY_TO_FULFILL,
    )
    Order.objects.filter(pk=c.pk).update(status=S.CANCELLED)
    assert analytics.exception_report(WEEK).backorders  # not refreshed yet

    assert stage_times_refresh(now=LATER + timedelta(hours=1)) == 1

    stored, counted = _stored_and_counted()
    assert stored == counted
    # C, the order short of TEA, is cancelled: no backorder rate left.
    assert analytics.exception_report(WEEK).backorders == []


def test_daily_figures_catch_up_counts_every_day_again(shop):
    before = analytics.exception_report(WEEK)
    DailyFigures.objects.all().delete()

    assert (
        daily_figures_catch_up() == (timezone.localdate() - date(2026, 10, 28)).days + 1
    )

    assert analytics.exception_report(WEEK) == before
    stored, counted = _stored_and_counted()
    assert stored == counted


# --- Pages ----------------------------------------------------------------------

PAGES = ["peaks", "products", "channels", "process", "exceptions"]
FILTER = {"date_from": "2026-11-02", "date_to": "2026-11-08"}


@pytest.fixture
def owner(client, db):
    user = UserFactory(username="owner", is_staff=False)
    user.groups.add(Group.objects.get(name=OWNER))
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def test_finance_may_see_analytics_and_customer_service_may_not(client, member, shop):
    client.force_login(member(FINANCE))
    assert client.get("/console/analytics/").status_code == 200

    client.force_login(member(CUSTOMER_SERVICE))
    for page in [
        "",
        "products/",
        "channels/",
        "process/",
        "process/paid/",
        "exceptions/",
    ]:
        assert client.get(f"/console/analytics/{page}").status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_each_page_shows_charts_and_tables(client, owner, shop, page):
    url = "/console/analytics/" + ("" if page == "peaks" else f"{page}/")

    response = client.get(url, FILTER, HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and "<table" in html
    assert "Export CSV" in html


def test_the_nav_links_to_analytics_for_those_allowed(client, owner):
    response = client.get("/console/", HTTP_ACCEPT_LANGUAGE="en")

    assert 'href="/console/analytics/"' in response.content.decode()


def test_the_process_page_marks_the_slowest_stage_and_links_to_its_orders(
    client, owner, shop
):
    response = client.get("/console/analytics/process/", FILTER)

    html = response.content.decode()
    assert "Slowest stage: Shipped, waiting for delivery." in html
    assert 'href="/console/analytics/process/allocated/"' in html

    stuck = client.get("/console/analytics/process/allocated/")
    assert 'href="/console/orders/C/"' in stuck.content.decode()


def test_csv_export_has_a_bom_and_the_table(client, owner, shop):
    response = client.get(
        "/console/analytics/channels/", {**FILTER, "export": "channel_mix"}
    )

    text = response.content.decode("utf-8")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        'filename="channel_mix-2026-11-02-2026-11-08.csv"'
        in (response["Content-Disposition"])
    )
    assert text.splitlines() == [
        "\ufeffChannel,Orders,Share of orders %,Revenue (¥),Share of revenue %,"
        "Average order value (¥)",
        "官网,2,66.7,190.00,55.9,95.00",
        "淘宝,1,33.3,150.00,44.1,150.00",
    ]


def test_csv_export_neutralises_formulas(client, owner, shop):
    shop["web"].name = "=HYPERLINK(1)"
    shop["web"].save()

    response = client.get(
        "/console/analytics/channels/", {**FILTER, "export": "channel_mix"}
    )

    assert "\n'=HYPERLINK(1),2," in response.content.decode("utf-8").replace("\r", "")


def test_an_unknown_export_is_not_found(client, owner):
    response = client.get("/console/analytics/", {"export": "nope"})

    assert response.status_code == 404


def test_chart_labels_are_escaped(client, owner, shop):
    shop["web"].name = "<script>x</script>"
    shop["web"].save()

    html = client.get("/console/analytics/channels/", FILTER).content.decode()

    assert "<script>x" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def _more_orders(shop, warehouse):
    """Ten more orders of other products and a new channel, with timelines."""
    phone = ChannelFactory(code="phone", name="电话")
    for n in range(10):
        product = ProductFactory(sku=f"X-{n}", price=D("10.00"))
        stock_receive(product=product, warehouse=warehouse, quantity=5, actor="t")
        placed = at((11, 2 + n % 7), 8 + n)
        made = OrderFactory(
            number=f"X{n}",
            channel=phone,
            placed_at=placed,
            status=S.READY_TO_FULFILL,
            subtotal=D("10.00"),
            total=D("10.00"),
        )
        OrderLineFactory(order=made, product=product, quantity=1)
        status(made, placed + timedelta(hours=1), S.RECEIVED, S.READY_TO_FULFILL)
    stage_times_catch_up(now=LATER)


@pytest.mark.parametrize(
    "page,queries",
    [
        ("", 8),
        ("products/", 8),
        ("channels/", 6),
        ("process/", 14),
        ("process/allocated/", 5),
        ("exceptions/", 6),
    ],
)
def test_page_queries_do_not_grow_with_the_data(
    client, owner, shop, warehouse, page, queries
):
    url = f"/console/analytics/{page}"
    client.get(url, FILTER)  # session and permission caches warm

    with CaptureQueriesContext(connection) as before:
        assert client.get(url, FILTER).status_code == 200
    _more_orders(shop, warehouse)
    with CaptureQueriesContext(connection) as after:
        assert client.get(url, FILTER).status_code == 200

    assert (len(before), len(after)) == (queries, queries)
