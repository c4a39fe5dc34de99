"""Financial reports (selectors): read from the journal, aggregated in the database."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Sum
from django.db.models.functions import TruncDay, TruncMonth

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

    def get(self, code) -> Decimal:
        return self.figures.get(code, ZERO)

    @property
    def goods(self) -> Decimal:
        return self.get(REVENUE)

    @property
    def shipping_income(self) -> Decimal:
        return self.get(SHIPPING)

    @property
    def discounts(self) -> Decimal:
        return self.get(DISCOUNTS)

    @property
    def net_sales(self) -> Decimal:
        return self.goods + self.shipping_income - self.discounts

    @property
    def tax(self) -> Decimal:
        return self.get(VAT)

    @property
    def cost_of_goods(self) -> Decimal:
        return self.get(COGS)

    @property
    def shipping_cost(self) -> Decimal:
        return self.get(CARRIER)

    @property
    def platform_fees(self) -> Decimal:
        return self.get(FEES)

    @property
    def refunds(self) -> Decimal:
        return self.get(REFUNDS)

    @property
    def gross_margin(self) -> Decimal:
        return (
            self.net_sales
            - self.cost_of_goods
            - self.shipping_cost
            - self.platform_fees
            - self.refunds
        )


REPORT_ACCOUNTS = (REVENUE, SHIPPING, DISCOUNTS, VAT, COGS, CARRIER, FEES, REFUNDS)


def _lines(*, date_from, date_to, channel=None):
    lines = JournalLine.objects.filter(
        entry__date__gte=date_from,
        entry__date__lte=date_to,
        account__code__in=REPORT_ACCOUNTS,
    )
    if channel:
        lines = lines.filter(entry__order__channel__code=channel)
    return lines


def sales_report(
    *, date_from, date_to, by: str = "day", channel=None
) -> list[ReportRow]:
    """Return a row per day or month: sales, discounts, tax, costs, refunds and gross margin."""
    trunc = TruncMonth if by == "month" else TruncDay
    grouped = (
        _lines(date_from=date_from, date_to=date_to, channel=channel)
        .annotate(period=trunc("entry__date"))
        .values("period", "account__code")
        .annotate(net=Sum(F("debit") - F("credit")))
        .order_by("period")
    )
    rows: dict = {}
    for g in grouped:
        period = g["period"]
        if hasattr(period, "date"):
            period = period.date()
        row = rows.setdefault(period, ReportRow(period))
        code = g["account__code"]
        net = money(g["net"])  # SQLite sums decimals as floats
        row.figures[code] = -net if code in CREDIT_SIDE else net
    return list(rows.values())


def report_totals(rows: list[ReportRow]) -> ReportRow:
    total = ReportRow(None)
    for row in rows:
        for code, value in row.figures.items():
            total.figures[code] = total.get(code) + value
    return total


def receivables(*, date_to) -> dict[str, Decimal]:
    """Return money owed to the shop on ``date_to``: COD not yet remitted, marketplace not settled.

    Not by channel: a carrier's remittance covers the parcels of every channel.
    """
    lines = JournalLine.objects.filter(
        entry__date__lte=date_to, account__code__in=(COD, MARKETPLACE)
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
