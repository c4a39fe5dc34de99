"""Reconciliation: the journal's totals against the operational records they came from.

For a period, each figure is computed twice, once from the journal and once from the
orders, payments, refunds and parcels, both aggregated in the database; any
difference is listed. Entries that do not balance are listed too.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Max, Min, Q, Sum
from django.db.models.functions import Round
from django.utils.translation import gettext as _

from billing.journal import COGS, CUSTOMERS, REFUNDS, money
from billing.journal_models import JournalEntry, JournalLine
from billing.models import Payment, Refund
from fulfillment.models import Shipment, ShipmentLine
from orders.models import Order

K = JournalEntry.Kind
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Difference:
    figure: str
    journal: Decimal
    records: Decimal

    @property
    def amount(self) -> Decimal:
        return self.journal - self.records


def _sum(qs, expression) -> Decimal:
    return money(qs.aggregate(t=Sum(expression))["t"] or ZERO)


def _journal(kind, account, side, date_from, date_to) -> Decimal:
    lines = JournalLine.objects.filter(
        account__code=account,
        entry__date__gte=date_from,
        entry__date__lte=date_to,
    ).filter(Q(entry__kind=kind) | Q(entry__reverses__kind=kind))
    return _sum(lines, F(side)) - _sum(
        lines, F("credit" if side == "debit" else "debit")
    )


def _recognised_orders(date_from, date_to):
    """Return the orders whose sale falls in the period, found from their parcels."""
    if settings.SALE_RECOGNISED_AT == "delivery":
        last = (
            Shipment.objects.filter(delivered_at__isnull=False)
            .values("order")
            .annotate(last=Max("delivered_at"))
            .filter(last__date__gte=date_from, last__date__lte=date_to)
            .values("order")
        )
        return Order.objects.filter(pk__in=last, status=Order.Status.DELIVERED)
    first = (
        Shipment.objects.filter(shipped_at__isnull=False)
        .values("order")
        .annotate(first=Min("shipped_at"))
        .filter(first__date__gte=date_from, first__date__lte=date_to)
        .values("order")
    )
    return Order.objects.filter(pk__in=first)


def journal_reconcile(*, date_from, date_to) -> list[Difference]:
    """Return every figure whose journal total differs from its records (empty: reconciled)."""
    figures = [
        (
            _("Sales recognised (order totals)"),
            _journal(K.SALE, CUSTOMERS, "debit", date_from, date_to),
            _sum(_recognised_orders(date_from, date_to), F("total")),
        ),
        (
            _("Payments received"),
            _journal(K.PAYMENT, CUSTOMERS, "credit", date_from, date_to),
            _sum(
                Payment.objects.filter(
                    status=Payment.Status.CONFIRMED,
                    confirmed_at__date__gte=date_from,
                    confirmed_at__date__lte=date_to,
                ),
                F("amount"),
            ),
        ),
        (
            _("Refunds paid"),
            _journal(K.REFUND, REFUNDS, "debit", date_from, date_to),
            _sum(
                Refund.objects.filter(
                    status=Refund.Status.PAID,
                    paid_at__date__gte=date_from,
                    paid_at__date__lte=date_to,
                ),
                F("amount"),
            ),
        ),
        (
            _("Cost of goods shipped"),
            _journal(K.COGS, COGS, "debit", date_from, date_to),
            _sum(
                ShipmentLine.objects.filter(
                    shipment__shipped_at__date__gte=date_from,
                    shipment__shipped_at__date__lte=date_to,
                ),
                F("quantity") * F("order_line__product__cost"),
            ),
        ),
    ]
    differences = [
        Difference(figure, journal, records)
        for figure, journal, records in figures
        if journal != records
    ]
    # rounded: SQLite sums decimals as floats, and a sale has a line per order line
    unbalanced = (
        JournalEntry.objects.filter(date__gte=date_from, date__lte=date_to)
        .annotate(d=Sum("lines__debit"), c=Sum("lines__credit"))
        .annotate(off=Round(F("d") - F("c"), 2))
        .exclude(off=0)
    )
    for entry in unbalanced:
        differences.append(
            Difference(_("Entry %(entry)s") % {"entry": entry}, entry.d, entry.c)
        )
    return differences
