"""Financial reports (selectors): read from the journal, aggregated in the database.

The reports read journal lines alone: each line carries its date, channel and, for
goods figures, product and warehouse (see ``JournalLine``), so a report is one range
over the ``journal_line_report`` index grouped in the database, never a join over
entries and orders.

Filtered by SKU or warehouse, only the figures posted per order line or parcel line
exist: goods sales, discounts, tax, cost of goods and refunds of order lines. Shipping
income, shipping cost and platform fees belong to a whole order, so such a report has
none (``ReportRow.whole_orders`` is False and the page says so) and its gross margin is
the goods margin.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Sum

from billing.journal import (
    CARRIER,
    COD,
    COGS,
    DISCOUNTS,
    FEES,
    MARKETPLACE,
    REFUNDS,
    REVENUE,
    SHIPPING,
    VAT,
    money,
)
from billing.journal_models import JournalLine

ZERO = Decimal("0.00")
# Income and liabilities are credits: their figures are credit − debit.
CREDIT_SIDE = {REVENUE, SHIPPING, VAT}


@dataclass
class ReportRow:
    period: object
    figures: dict = field(default_factory=dict)
    # False when filtered by SKU or warehouse: order-level figures are left out
    whole_orders: bool = True

    def get(self, code) -> Decimal:
        return self.figures.get(code, ZERO)

    @property
    def goods(self) -> Decimal:
        return self.get(REVENUE)

    @property
    def shipping_income(self) -> Decimal | None:
        return self.get(SHIPPING) if self.whole_orders else None

    @property
    def discounts(self) -> Decimal:
        return self.get(DISCOUNTS)

    @property
    def net_sales(self) -> Decimal:
        return self.goods + self.get(SHIPPING) - self.discounts

    @property
    def tax(self) -> Decimal:
        return self.get(VAT)

    @property
    def cost_of_goods(self) -> Decimal:
        return self.get(COGS)

    @property
    def shipping_cost(self) -> Decimal | None:
        return self.get(CARRIER) if self.whole_orders else None

    @property
    def platform_fees(self) -> Decimal | None:
        return self.get(FEES) if self.whole_orders else None

    @property
    def refunds(self) -> Decimal:
        return self.get(REFUNDS)

    @property
    def gross_margin(self) -> Decimal:
        return (
            self.net_sales
            - self.cost_of_goods
            - self.get(CARRIER)
            - self.get(FEES)
            - self.refunds
        )


REPORT_ACCOUNTS = (REVENUE, SHIPPING, DISCOUNTS, VAT, COGS, CARRIER, FEES, REFUNDS)


def sales_report_queryset(
    *,
    date_from,
    date_to,
    channel: str | None = None,
    sku: str | None = None,
    warehouse: str | None = None,
):
    """Return the report's one query: net debit per day and account, ordered by day.

    Grouped by the date itself, not a truncated one: truncating each of a month's
    half a million lines doubled the query's time; months are folded in Python.
    """
    lines = JournalLine.objects.filter(
        date__gte=date_from, date__lte=date_to, account__code__in=REPORT_ACCOUNTS
    )
    if channel:
        lines = lines.filter(channel__code=channel)
    if sku:
        lines = lines.filter(product__sku=sku)
    if warehouse:
        lines = lines.filter(warehouse__code=warehouse)
    return (
        lines.values("date", "account__code")
        .annotate(net=Sum(F("debit") - F("credit")))
        .order_by("date")
    )


def sales_report(
    *,
    date_from,
    date_to,
    by: str = "day",
    channel: str | None = None,
    sku: str | None = None,
    warehouse: str | None = None,
) -> list[ReportRow]:
    """Return a row per day or month: sales, discounts, tax, costs, refunds and gross margin.

    ``channel``, ``sku`` and ``warehouse`` are codes; see the module docstring for
    what a SKU or warehouse filter leaves out.
    """
    grouped = sales_report_queryset(
        date_from=date_from,
        date_to=date_to,
        channel=channel,
        sku=sku,
        warehouse=warehouse,
    )
    whole_orders = not (sku or warehouse)
    rows: dict = {}
    for g in grouped:
        period = g["date"].replace(day=1) if by == "month" else g["date"]
        row = rows.setdefault(period, ReportRow(period, whole_orders=whole_orders))
        code = g["account__code"]
        net = money(g["net"])  # SQLite sums decimals as floats
        row.figures[code] = row.get(code) + (-net if code in CREDIT_SIDE else net)
    return list(rows.values())


def report_totals(rows: list[ReportRow]) -> ReportRow:
    total = ReportRow(None, whole_orders=all(row.whole_orders for row in rows))
    for row in rows:
        for code, value in row.figures.items():
            total.figures[code] = total.get(code) + value
    return total


def receivables(*, date_to) -> dict[str, Decimal]:
    """Return money owed to the shop on ``date_to``: COD not yet remitted, marketplace not settled.

    Not by channel: a carrier's remittance covers the parcels of every channel.
    """
    lines = JournalLine.objects.filter(
        date__lte=date_to, account__code__in=(COD, MARKETPLACE)
    )
    found = dict(
        lines.values("account__code")
        .annotate(net=Sum(F("debit") - F("credit")))
        .values_list("account__code", "net")
    )
    return {
        "cod": money(found.get(COD, ZERO)),
        "marketplace": money(found.get(MARKETPLACE, ZERO)),
    }
