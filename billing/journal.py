"""Posting to the journal (财务记录): the one place entries are written.

Every posting is one balanced entry, at most one per (kind, source object), so a
retried task or a service called twice never posts twice. Entries are never changed
or deleted; ``journal_entry_reverse`` corrects one with its mirror image.

Accounts (the chart is small and fixed; rows are created on first use):

    sale       Dr customers receivable (total), Dr discounts
               Cr sales revenue (goods net of VAT), Cr shipping income, Cr output VAT
    cogs       Dr cost of goods sold, Cr inventory (Σ shipped quantity × Product.cost)
    payment    Dr the clearing account of the method (Alipay, WeChat, bank, marketplace
               receivable, COD receivable), Cr customers receivable
    refund     Dr refunds, Cr the clearing account the order was paid through
    cod_remittance  Dr bank, Cr COD receivable
    settlement Dr bank (received), Dr platform fees, Cr marketplace receivable
    carrier_charge  Dr carrier charges, Cr bank
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.journal_models import Account, JournalEntry, JournalLine
from orders.exceptions import OrderError

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
K = JournalEntry.Kind


class JournalError(OrderError):
    """A posting that would break the journal's rules."""


# code: (name, kind); names are the accountant's words, kept in Chinese like the books.
CHART = {
    "1001": ("银行存款 Cash and bank", Account.Kind.ASSET),
    "1012": ("支付宝待清算 Alipay clearing", Account.Kind.ASSET),
    "1013": ("微信支付待清算 WeChat Pay clearing", Account.Kind.ASSET),
    "1122": ("应收账款-客户 Customers receivable", Account.Kind.ASSET),
    "1123": ("应收账款-代收货款 COD receivable (carrier)", Account.Kind.ASSET),
    "1124": ("应收账款-平台 Marketplace receivable", Account.Kind.ASSET),
    "1405": ("库存商品 Inventory", Account.Kind.ASSET),
    "2221": ("应交税费-销项税额 Output VAT payable", Account.Kind.LIABILITY),
    "6001": ("主营业务收入 Sales revenue", Account.Kind.INCOME),
    "6051": ("运费收入 Shipping income", Account.Kind.INCOME),
    "6002": ("销售折扣 Discounts", Account.Kind.INCOME),
    "6003": ("销售退款 Refunds", Account.Kind.INCOME),
    "6401": ("主营业务成本 Cost of goods sold", Account.Kind.EXPENSE),
    "6601": ("快递费 Carrier charges", Account.Kind.EXPENSE),
    "6602": ("平台服务费 Platform fees", Account.Kind.EXPENSE),
}
BANK, ALIPAY, WECHAT, CUSTOMERS, COD, MARKETPLACE = (
    "1001",
    "1012",
    "1013",
    "1122",
    "1123",
    "1124",
)
INVENTORY, VAT, REVENUE, SHIPPING, DISCOUNTS, REFUNDS = (
    "1405",
    "2221",
    "6001",
    "6051",
    "6002",
    "6003",
)
COGS, CARRIER, FEES = "6401", "6601", "6602"

METHOD_ACCOUNT = {
    "alipay": ALIPAY,
    "wechat": WECHAT,
    "bank_transfer": BANK,
    "marketplace": MARKETPLACE,
    "cod": COD,
    "other": BANK,
}


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Posting:
    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO


def accounts_ensure() -> dict[str, Account]:
    """Return the chart by code, creating the accounts missing (first use, or a flushed test database)."""
    found = {a.code: a for a in Account.objects.filter(code__in=CHART)}
    missing = [
        Account(code=code, name=name, kind=kind)
        for code, (name, kind) in CHART.items()
        if code not in found
    ]
    if missing:
        Account.objects.bulk_create(missing, ignore_conflicts=True)
        found = {a.code: a for a in Account.objects.filter(code__in=CHART)}
    return found


def _check(postings: list[Posting]) -> list[Posting]:
    kept = []
    for p in postings:
        debit, credit = money(p.debit), money(p.credit)
        # a negative amount is the other side, so callers stay simple
        net = debit - credit
        if net == 0:
            continue
        kept.append(
            Posting(
                p.account,
                debit=net if net > 0 else ZERO,
                credit=-net if net < 0 else ZERO,
            )
        )
    debits = sum((p.debit for p in kept), ZERO)
    credits = sum((p.credit for p in kept), ZERO)
    if debits != credits:
        raise JournalError(
            _("The entry does not balance: debits %(debits)s, credits %(credits)s.")
            % {"debits": debits, "credits": credits}
        )
    return kept


@transaction.atomic
def journal_post(
    *,
    kind: str,
    source: str,
    postings: list[Posting],
    date=None,
    order=None,
    memo: str = "",
    reverses: JournalEntry | None = None,
) -> JournalEntry | None:
    """Write one balanced entry; return it, or None when this source is already posted or nothing moves."""
    if kind not in K.values:
        raise JournalError(_("Unknown journal entry kind %(kind)s.") % {"kind": kind})
    kept = _check(postings)
    if not kept:
        return None
    if JournalEntry.objects.filter(kind=kind, source=source).exists():
        return None
    accounts = accounts_ensure()
    unknown = {p.account for p in kept} - set(accounts)
    if unknown:
        raise JournalError(
            _("Unknown account %(code)s.") % {"code": ", ".join(sorted(unknown))}
        )
    entry = JournalEntry.objects.create(
        date=date or timezone.localdate(),
        kind=kind,
        source=source,
        order=order,
        memo=memo[:300],
        reverses=reverses,
    )
    JournalLine.objects.bulk_create(
        JournalLine(
            entry=entry, account=accounts[p.account], debit=p.debit, credit=p.credit
        )
        for p in kept
    )
    return entry


@transaction.atomic
def journal_entry_reverse(*, entry: JournalEntry, memo: str = "", date=None):
    """Correct an entry with its mirror image; return the reversing entry (once per entry)."""
    if entry.kind == K.REVERSAL:
        raise JournalError(_("A reversing entry is not reversed; post a new entry."))
    lines = entry.lines.select_related("account")
    return journal_post(
        kind=K.REVERSAL,
        source=f"entry:{entry.pk}",
        postings=[
            Posting(line.account.code, debit=line.credit, credit=line.debit)
            for line in lines
        ],
        date=date,
        order=entry.order,
        memo=memo or _("Reverses %(entry)s") % {"entry": entry},
        reverses=entry,
    )


def sale_recognised_at() -> str:
    return settings.SALE_RECOGNISED_AT


def sale_postings(order) -> list[Posting]:
    """Return the sale entry's postings from the order's stored price breakdown."""
    tax = order.tax_total
    goods = order.subtotal - (tax if order.prices_include_tax else ZERO)
    return [
        Posting(CUSTOMERS, debit=order.total),
        Posting(DISCOUNTS, debit=order.discount_total),
        Posting(REVENUE, credit=goods),
        Posting(SHIPPING, credit=order.shipping_fee),
        Posting(VAT, credit=tax),
    ]


def journal_sale_post(*, order, moment: str, date=None):
    """Recognise the order's sale if ``moment`` ("shipment"/"delivery") is the configured one."""
    if moment != sale_recognised_at():
        return None
    return journal_post(
        kind=K.SALE,
        source=f"order:{order.pk}",
        postings=sale_postings(order),
        date=date,
        order=order,
        memo=_("Order %(number)s") % {"number": order.number},
    )


def journal_cogs_post(*, shipment, date=None):
    """Move the shipped goods' cost (Product.cost × quantity) from inventory to cost of goods."""
    cost = (
        shipment.lines.aggregate(
            cost=Sum(F("quantity") * F("order_line__product__cost"))
        )["cost"]
        or ZERO
    )
    cost = money(cost)
    return journal_post(
        kind=K.COGS,
        source=f"shipment:{shipment.pk}",
        postings=[Posting(COGS, debit=cost), Posting(INVENTORY, credit=cost)],
        date=date,
        order=shipment.order,
        memo=_("Parcel %(parcel)s") % {"parcel": shipment.pk},
    )


def _payment_postings(payment) -> list[Posting]:
    return [
        Posting(METHOD_ACCOUNT.get(payment.method, BANK), debit=payment.amount),
        Posting(CUSTOMERS, credit=payment.amount),
    ]


def journal_payment_post(*, payment):
    """Record a confirmed payment (or COD collection) against the customers' receivable."""
    if payment.status != "confirmed":
        return None
    return journal_post(
        kind=K.PAYMENT,
        source=f"payment:{payment.pk}",
        postings=_payment_postings(payment),
        date=timezone.localdate(payment.confirmed_at),
        order=payment.order,
        memo=payment.get_method_display(),
    )


@transaction.atomic
def journal_payments_post_bulk(*, payments) -> int:
    """Post many confirmed payments with a fixed number of queries; return how many."""
    payments = [p for p in payments if p.pk and p.status == "confirmed"]
    if not payments:
        return 0
    sources = {f"payment:{p.pk}": p for p in payments}
    known = set(
        JournalEntry.objects.filter(kind=K.PAYMENT, source__in=sources).values_list(
            "source", flat=True
        )
    )
    todo = [(s, p) for s, p in sources.items() if s not in known]
    if not todo:
        return 0
    accounts = accounts_ensure()
    entries = JournalEntry.objects.bulk_create(
        JournalEntry(
            date=timezone.localdate(p.confirmed_at),
            kind=K.PAYMENT,
            source=s,
            order_id=p.order_id,
            memo=p.get_method_display(),
        )
        for s, p in todo
    )
    if entries and entries[0].pk is None:  # backends that do not return ids
        by_source = dict(
            JournalEntry.objects.filter(
                kind=K.PAYMENT, source__in=[s for s, _p in todo]
            ).values_list("source", "pk")
        )
        for entry in entries:
            entry.pk = by_source[entry.source]
    JournalLine.objects.bulk_create(
        JournalLine(
            entry_id=entry.pk,
            account=accounts[p.account],
            debit=p.debit,
            credit=p.credit,
        )
        for entry, (_s, payment) in zip(entries, todo, strict=True)
        for p in _check(_payment_postings(payment))
    )
    return len(entries)


def journal_refund_post(*, refund):
    """Record money paid back: refunds against the account the order was paid through."""
    paid_through = (
        refund.order.payments.filter(status="confirmed")
        .order_by("confirmed_at", "id")
        .values_list("method", flat=True)
        .first()
    )
    account = METHOD_ACCOUNT.get(paid_through or "", BANK)
    if account == COD:
        account = (
            BANK  # COD cash already reached us (or will): it goes back from the bank
        )
    return journal_post(
        kind=K.REFUND,
        source=f"refund:{refund.pk}",
        postings=[
            Posting(REFUNDS, debit=refund.amount),
            Posting(account, credit=refund.amount),
        ],
        date=timezone.localdate(refund.paid_at) if refund.paid_at else None,
        order=refund.order,
        memo=refund.reason,
    )


def journal_cod_remittance_post(*, remittance, amount: Decimal | None = None):
    """Record a carrier's COD remittance reaching the bank (``amount`` defaults to its total)."""
    amount = remittance.total if amount is None else amount
    return journal_post(
        kind=K.COD_REMITTANCE,
        source=f"cod_remittance:{remittance.pk}",
        postings=[Posting(BANK, debit=amount), Posting(COD, credit=amount)],
        date=remittance.remitted_on,
        memo=remittance.reference,
    )


def journal_settlement_line_post(*, line, date=None):
    """Record a marketplace settlement line: money received plus the platform's fee."""
    received, fee = line.amount_received, line.platform_fee
    if date is None and line.settled_at:
        date = timezone.localdate(line.settled_at)
    return journal_post(
        kind=K.SETTLEMENT,
        source=f"settlement_line:{line.pk}",
        postings=[
            Posting(BANK, debit=received),
            Posting(FEES, debit=fee),
            Posting(MARKETPLACE, credit=received + fee),
        ],
        date=date,
        order=getattr(line, "order", None),
    )


def journal_carrier_charge_post(*, source: str, amount: Decimal, date=None, order=None):
    """Record what a carrier charged us for shipping (``source`` names the bill or parcel)."""
    return journal_post(
        kind=K.CARRIER_CHARGE,
        source=source,
        postings=[Posting(CARRIER, debit=amount), Posting(BANK, credit=amount)],
        date=date,
        order=order,
    )


def journal_order_cancel(*, order):
    """Reverse the order's sale (and costs) when an order already recognised is cancelled."""
    reversed_ = []
    for entry in order.journal_entries.filter(
        kind__in=(K.SALE, K.COGS), reversed_by__isnull=True
    ):
        reversed_.append(journal_entry_reverse(entry=entry))
    return reversed_
