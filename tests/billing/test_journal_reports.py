"""Financial reports: exact figures on a small known dataset, and the exports."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from billing.journal import Posting, journal_post
from billing.journal_models import JournalEntry
from billing.report_views import safe_cell
from billing.reports import receivables, report_totals, sales_report
from orders.roles import FINANCE

D = Decimal
K = JournalEntry.Kind


@pytest.fixture
def books(db):
    """Two days of November and one of December, booked directly."""

    def sale(n, day, total, goods, shipping, discount, tax):
        journal_post(
            kind=K.SALE,
            source=f"order:{n}",
            date=day,
            postings=[
                Posting("1122", debit=total),
                Posting("6002", debit=discount),
                Posting("6001", credit=goods),
                Posting("6051", credit=shipping),
                Posting("2221", credit=tax),
            ],
        )

    sale(
        1,
        date(2026, 11, 3),
        D("190.00"),
        D("176.99"),
        D("10.00"),
        D("20.00"),
        D("23.01"),
    )
    sale(2, date(2026, 11, 3), D("50.00"), D("44.25"), D("0.00"), D("0.00"), D("5.75"))
    sale(
        3, date(2026, 11, 4), D("113.00"), D("100.00"), D("0.00"), D("0.00"), D("13.00")
    )
    sale(4, date(2026, 12, 1), D("10.00"), D("10.00"), D("0.00"), D("0.00"), D("0.00"))
    journal_post(
        kind=K.COGS,
        source="shipment:1",
        date=date(2026, 11, 3),
        postings=[
            Posting("6401", debit=D("80.00")),
            Posting("1405", credit=D("80.00")),
        ],
    )
    journal_post(
        kind=K.PAYMENT,
        source="payment:1",
        date=date(2026, 11, 3),
        postings=[
            Posting("1124", debit=D("190.00")),
            Posting("1122", credit=D("190.00")),
        ],
    )
    journal_post(
        kind=K.SETTLEMENT,
        source="settlement_line:1",
        date=date(2026, 11, 4),
        postings=[
            Posting("1001", debit=D("150.00")),
            Posting("6602", debit=D("5.00")),
            Posting("1124", credit=D("155.00")),
        ],
    )
    journal_post(
        kind=K.REFUND,
        source="refund:1",
        date=date(2026, 11, 4),
        postings=[
            Posting("6003", debit=D("12.34")),
            Posting("1001", credit=D("12.34")),
        ],
    )


def test_daily_report_figures(books):
    rows = sales_report(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))

    assert [
        (r.period, r.goods, r.shipping_income, r.discounts, r.net_sales, r.tax)
        for r in rows
    ] == [
        (
            date(2026, 11, 3),
            D("221.24"),
            D("10.00"),
            D("20.00"),
            D("211.24"),
            D("28.76"),
        ),
        (date(2026, 11, 4), D("100.00"), D("0.00"), D("0.00"), D("100.00"), D("13.00")),
    ]
    assert [
        (r.cost_of_goods, r.platform_fees, r.refunds, r.gross_margin) for r in rows
    ] == [
        (D("80.00"), D("0.00"), D("0.00"), D("131.24")),
        (D("0.00"), D("5.00"), D("12.34"), D("82.66")),
    ]
    assert report_totals(rows).gross_margin == D("213.90")


def test_monthly_report_and_receivables(books):
    rows = sales_report(
        date_from=date(2026, 11, 1), date_to=date(2026, 12, 31), by="month"
    )

    assert [(r.period, r.net_sales, r.gross_margin) for r in rows] == [
        (date(2026, 11, 1), D("311.24"), D("213.90")),
        (date(2026, 12, 1), D("10.00"), D("10.00")),
    ]
    assert receivables(date_to=date(2026, 11, 30)) == {
        "cod": D("0.00"),
        "marketplace": D("35.00"),
    }


def test_formula_like_text_is_neutralised():
    assert [safe_cell(v) for v in ("=1+1", "+86", "-3", "@a", "ok", D("-3"))] == [
        "'=1+1",
        "'+86",
        "'-3",
        "'@a",
        "ok",
        D("-3"),
    ]


def test_report_page_and_exports(client, books, member):
    client.force_login(member(FINANCE))
    url = reverse("finance_reports:sales")
    query = {"from": "2026-11-01", "to": "2026-11-30"}

    page = client.get(url, query)
    as_csv = client.get(url, {**query, "format": "csv"})
    as_xlsx = client.get(url, {**query, "format": "xlsx"})

    assert page.status_code == 200 and b"213.90" in page.content
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[1][0] == "2026-11-03" and rows[1][-1] == "131.24"
    assert len(rows) == 3
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert [c.value for c in sheet[2]][0] == "2026-11-03"
    assert [c.value for c in sheet[3]][-1] == 82.66


def test_report_needs_the_finance_permission(client, member):
    from orders.roles import WAREHOUSE

    client.force_login(member(WAREHOUSE))

    assert client.get(reverse("finance_reports:sales")).status_code == 403
