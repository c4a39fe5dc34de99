"""Report filters by SKU and warehouse: per-line postings, exact figures, fixed queries."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from billing.journal import Posting, journal_post
from billing.journal_models import JournalEntry, JournalLine
from billing.reports import report_totals, sales_report
from orders.roles import FINANCE
from tests.factories.inventory import ProductFactory, WarehouseFactory
from tests.factories.orders import ChannelFactory, OrderFactory

D = Decimal
K = JournalEntry.Kind
NOVEMBER = {"date_from": date(2026, 11, 1), "date_to": date(2026, 11, 30)}


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def books(db):
    """Two orders in November, posted per line as the services post them.

    Order 1 (web, 11-03): A from hz 100.00 less 10.00 discount, VAT 11.70; B from sh
    80.00, VAT 10.40; shipping 8.00; cost A 40.00, B 30.00; carrier 6.00; B refunded
    20.00 on 11-04. Order 2 (taobao, 11-04): A from hz 50.00, VAT 6.50; cost 20.00;
    platform fee 2.50.
    """
    a, b = ProductFactory(sku="A"), ProductFactory(sku="B")
    hz = WarehouseFactory(code="hz", name="杭州仓")
    sh = WarehouseFactory(code="sh", name="上海仓", priority=2)
    web = OrderFactory(channel=ChannelFactory(code="web"))
    taobao = OrderFactory(channel=ChannelFactory(code="taobao", name="淘宝店"))
    a_hz = {"product_id": a.pk, "warehouse_id": hz.pk}
    b_sh = {"product_id": b.pk, "warehouse_id": sh.pk}
    nov3, nov4 = date(2026, 11, 3), date(2026, 11, 4)

    def post(kind, source, day, order, postings):
        journal_post(kind=kind, source=source, date=day, order=order, postings=postings)

    post(
        K.SALE,
        "order:1",
        nov3,
        web,
        [
            Posting("1122", debit=D("200.10")),
            Posting("6051", credit=D("8.00")),
            Posting("6001", credit=D("100.00"), **a_hz),
            Posting("6002", debit=D("10.00"), **a_hz),
            Posting("2221", credit=D("11.70"), **a_hz),
            Posting("6001", credit=D("80.00"), **b_sh),
            Posting("2221", credit=D("10.40"), **b_sh),
        ],
    )
    post(
        K.COGS,
        "shipment:1",
        nov3,
        web,
        [
            Posting("6401", debit=D("40.00"), **a_hz),
            Posting("1405", credit=D("40.00"), **a_hz),
        ],
    )
    post(
        K.COGS,
        "shipment:2",
        nov3,
        web,
        [
            Posting("6401", debit=D("30.00"), **b_sh),
            Posting("1405", credit=D("30.00"), **b_sh),
        ],
    )
    post(
        K.CARRIER_CHARGE,
        "parcel:1",
        nov3,
        web,
        [Posting("6601", debit=D("6.00")), Posting("1001", credit=D("6.00"))],
    )
    post(
        K.REFUND,
        "refund:1",
        nov4,
        web,
        [Posting("6003", debit=D("20.00"), **b_sh), Posting("1012", credit=D("20.00"))],
    )
    post(
        K.SALE,
        "order:2",
        nov4,
        taobao,
        [
            Posting("1122", debit=D("56.50")),
            Posting("6001", credit=D("50.00"), **a_hz),
            Posting("2221", credit=D("6.50"), **a_hz),
        ],
    )
    post(
        K.COGS,
        "shipment:3",
        nov4,
        taobao,
        [
            Posting("6401", debit=D("20.00"), **a_hz),
            Posting("1405", credit=D("20.00"), **a_hz),
        ],
    )
    post(
        K.SETTLEMENT,
        "settlement_line:1",
        nov4,
        taobao,
        [
            Posting("1001", debit=D("54.00")),
            Posting("6602", debit=D("2.50")),
            Posting("1124", credit=D("56.50")),
        ],
    )


def figures(row):
    return (
        row.goods,
        row.discounts,
        row.net_sales,
        row.tax,
        row.cost_of_goods,
        row.refunds,
        row.shipping_income,
        row.shipping_cost,
        row.platform_fees,
        row.gross_margin,
    )


def month(**filters):
    (row,) = sales_report(by="month", **NOVEMBER, **filters)
    return figures(row)


def test_unfiltered_month_has_every_figure(books):
    assert month() == (
        D("230.00"),
        D("10.00"),
        D("228.00"),
        D("28.60"),
        D("90.00"),
        D("20.00"),
        D("8.00"),
        D("6.00"),
        D("2.50"),
        D("109.50"),
    )


def test_a_sku_shows_its_goods_figures_and_leaves_out_whole_order_figures(books):
    assert month(sku="A") == (
        D("150.00"),
        D("10.00"),
        D("140.00"),
        D("18.20"),
        D("60.00"),
        D("0.00"),
        None,
        None,
        None,
        D("80.00"),
    )
    assert month(sku="B") == (
        D("80.00"),
        D("0.00"),
        D("80.00"),
        D("10.40"),
        D("30.00"),
        D("20.00"),
        None,
        None,
        None,
        D("30.00"),
    )


def test_a_warehouse_shows_the_goods_it_shipped(books):
    assert month(warehouse="sh") == month(sku="B")
    assert month(warehouse="hz") == month(sku="A")


def test_filters_combine_with_the_channel(books):
    assert month(channel="taobao", sku="A")[:6] == (
        D("50.00"),
        D("0.00"),
        D("50.00"),
        D("6.50"),
        D("20.00"),
        D("0.00"),
    )
    assert sales_report(by="month", **NOVEMBER, channel="taobao", sku="B") == []


def test_daily_rows_of_a_sku_and_their_total(books):
    rows = sales_report(**NOVEMBER, sku="B")

    assert [(r.period, r.goods, r.refunds, r.gross_margin) for r in rows] == [
        (date(2026, 11, 3), D("80.00"), D("0.00"), D("50.00")),
        (date(2026, 11, 4), D("0.00"), D("20.00"), D("-20.00")),
    ]
    total = report_totals(rows)
    assert (total.gross_margin, total.platform_fees) == (D("30.00"), None)


def test_lines_carry_the_entry_date_and_the_order_channel(books):
    line = JournalLine.objects.get(entry__source="order:2", account__code="6001")

    assert (line.date, line.channel.code, line.product.sku, line.warehouse.code) == (
        date(2026, 11, 4),
        "taobao",
        "A",
        "hz",
    )


def test_filtered_page_says_what_it_leaves_out_and_exports_blanks(
    client, books, member
):
    client.force_login(member(FINANCE))
    url = reverse("finance_reports:sales")
    query = {"from": "2026-11-01", "to": "2026-11-30", "by": "month", "sku": "B"}

    page = client.get(url, query, HTTP_ACCEPT_LANGUAGE="en")
    as_csv = client.get(url, {**query, "format": "csv"}, HTTP_ACCEPT_LANGUAGE="en")

    assert b"belong to whole orders and are left out" in page.content
    assert b"30.00" in page.content
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[1] == [
        "2026-11",
        "80.00",
        "",
        "0.00",
        "80.00",
        "10.40",
        "30.00",
        "",
        "",
        "20.00",
        "30.00",
    ]


def test_report_page_queries_do_not_grow_with_days_or_rows(client, books, member):
    client.force_login(member(FINANCE))
    url = reverse("finance_reports:sales")
    client.get(url)  # the session and permissions are loaded once

    counts = []
    for query in (
        {"from": "2026-11-03", "to": "2026-11-03"},
        {"from": "2026-10-01", "to": "2026-12-31"},
        {"from": "2026-01-01", "to": "2026-12-31", "by": "month", "warehouse": "hz"},
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, query).status_code == 200
        counts.append(len(queries))

    # session, user, its and its groups' permissions; then one query each for the
    # report rows, the receivables, the channels and the warehouses
    assert counts == [8, 8, 8]


def dimensioned(entry):
    return sorted(
        (
            line.account.code,
            line.debit,
            line.credit,
            line.product.sku if line.product else None,
            line.warehouse.code if line.warehouse else None,
        )
        for line in entry.lines.select_related("account", "product", "warehouse")
    )


def test_shipping_posts_the_sale_and_costs_per_line_with_the_warehouse(
    split_cod_order,
):
    order, parcels = split_cod_order

    sale = JournalEntry.objects.get(kind=K.SALE, order=order)
    assert dimensioned(sale) == [
        ("1122", D("166.66"), D("0.00"), None, None),
        ("6001", D("0.00"), D("66.66"), "COD-B", "sh"),
        ("6001", D("0.00"), D("100.00"), "COD-A", "hz"),
    ]
    costs = [
        dimensioned(JournalEntry.objects.get(kind=K.COGS, source=f"shipment:{p.pk}"))
        for p in parcels
    ]
    assert sorted(costs) == [
        [
            ("1405", D("0.00"), D("20.00"), "COD-A", "hz"),
            ("6401", D("20.00"), D("0.00"), "COD-A", "hz"),
        ],
        [
            ("1405", D("0.00"), D("40.00"), "COD-B", "sh"),
            ("6401", D("40.00"), D("0.00"), "COD-B", "sh"),
        ],
    ]


def test_what_the_order_lines_do_not_explain_stays_on_the_whole_order(db):
    from billing.journal import sale_postings
    from orders.models import Order, OrderLine

    order = Order(
        subtotal=D("100.00"),
        discount_total=D("15.00"),  # 5.00 on the line, 10.00 from the platform
        shipping_fee=D("0.00"),
        tax_total=D("9.78"),
        total=D("85.00"),
        prices_include_tax=True,
    )
    lines = [
        OrderLine(
            pk=1,
            product_id=7,
            unit_price=D("40.00"),
            quantity=1,
            discount=D("5.00"),
            line_total=D("35.00"),
        ),
        OrderLine(
            pk=2, product_id=8, unit_price=D("60.00"), quantity=1, line_total=D("60.00")
        ),
    ]

    postings = sale_postings(order, lines=lines, warehouses={2: 3})

    assert [
        (p.account, p.debit, p.credit, p.product_id, p.warehouse_id) for p in postings
    ] == [
        ("1122", D("85.00"), D("0.00"), None, None),
        ("6002", D("10.00"), D("0.00"), None, None),
        ("6001", D("0.00"), D("0.00"), None, None),
        ("6051", D("0.00"), D("0.00"), None, None),
        ("2221", D("0.00"), D("0.00"), None, None),
        ("6001", D("0.00"), D("36.40"), 7, None),
        ("6002", D("5.00"), D("0.00"), 7, None),
        ("2221", D("0.00"), D("3.60"), 7, None),
        ("6001", D("0.00"), D("53.82"), 8, 3),
        ("6002", D("0.00"), D("0.00"), 8, 3),
        ("2221", D("0.00"), D("6.18"), 8, 3),
    ]
