"""Posting to the journal (财务记录): the one place entries are written.

Every posting is one balanced entry, at most one per (kind, source object), so a
retried task or a service called twice never posts twice. Entries are never changed
or deleted; ``journal_entry_reverse`` corrects one with its mirror image.

Accounts (the chart is small and fixed; rows are created on first use):

    sale       Dr customers receivable (total), Dr discounts
               Cr sales revenue (goods net of VAT), Cr shipping income, Cr output VAT
               (goods, discounts and VAT a line per order line, see ``sale_postings``)
    cogs       Dr cost of goods sold, Cr inventory (shipped quantity × Product.cost,
               a line per product)
    payment    Dr the clearing account of the method (Alipay, WeChat, bank, marketplace
               receivable, COD receivable), Cr customers receivable
    refund     Dr refunds (a line per refunded order line), Cr the clearing account
               the order was paid through
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
from config.bulk import bulk_insert
from orders.exceptions import OrderError
from orders.models import Order
from orders.pricing import spread

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
    "2202": ("应付账款-快递 Carriers payable", Account.Kind.LIABILITY),
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
CARRIERS_PAYABLE = "2202"

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
    """One line to write; ``product_id``/``warehouse_id`` say which goods it is about."""

    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    product_id: int | None = None
    warehouse_id: int | None = None


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
                product_id=p.product_id,
                warehouse_id=p.warehouse_id,
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
            entry=entry,
            account=accounts[p.account],
            debit=p.debit,
            credit=p.credit,
            date=entry.date,
            channel_id=order.channel_id if order else None,
            product_id=p.product_id,
            warehouse_id=p.warehouse_id,
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
            Posting(
                line.account.code,
                debit=line.credit,
                credit=line.debit,
                product_id=line.product_id,
                warehouse_id=line.warehouse_id,
            )
            for line in lines
        ],
        date=date,
        order=entry.order,
        memo=memo or _("Reverses %(entry)s") % {"entry": entry},
        reverses=entry,
    )


def sale_recognised_at() -> str:
    return settings.SALE_RECOGNISED_AT


def sale_postings(order, lines=(), warehouses=None) -> list[Posting]:
    """Return the sale entry's postings from the order's stored price breakdown.

    Goods, discounts and VAT get a line per order line (``lines``) carrying its product
    and, from ``warehouses`` ({order line id: warehouse id}), where it shipped from.
    The order's VAT is spread over the lines in proportion to what each line is sold
    for, which is exact when one rate applies. Whatever the lines do not explain (a
    platform's order discount, an imported subtotal) stays on an order-level line, so
    the entry always adds up to the order's totals.
    """
    tax = order.tax_total
    goods = order.subtotal - (tax if order.prices_include_tax else ZERO)
    lines = list(lines)
    warehouses = warehouses or {}
    taxes = spread(tax, [line.line_total - line.order_discount_share for line in lines])
    per_line = []
    for line, line_tax in zip(lines, taxes, strict=True):
        dims = {
            "product_id": line.product_id,
            "warehouse_id": warehouses.get(line.pk),
        }
        gross = line.unit_price * line.quantity
        per_line += [
            Posting(
                REVENUE,
                credit=gross - (line_tax if order.prices_include_tax else ZERO),
                **dims,
            ),
            Posting(DISCOUNTS, debit=line.discount + line.order_discount_share, **dims),
            Posting(VAT, credit=line_tax, **dims),
        ]

    def rest(account, amount, side):
        explained = sum(
            (getattr(p, side) for p in per_line if p.account == account), ZERO
        )
        return Posting(account, **{side: amount - explained})

    return [
        Posting(CUSTOMERS, debit=order.total),
        rest(DISCOUNTS, order.discount_total, "debit"),
        rest(REVENUE, goods, "credit"),
        Posting(SHIPPING, credit=order.shipping_fee),
        rest(VAT, tax, "credit"),
        *per_line,
    ]


def _shipped_from(*, order) -> dict[int, int]:
    """Return {order line id: warehouse id} from the order's parcels, planned or shipped.

    A line in no parcel, or in parcels of two warehouses, is not attributed to any;
    a cancelled parcel does not count (a replaced one does: its goods left).
    """
    from fulfillment.models import Shipment, ShipmentLine  # books beside fulfillment

    found: dict = {}
    for line_id, warehouse_id in (
        ShipmentLine.objects.filter(order_line__order=order)
        .exclude(shipment__status=Shipment.Status.CANCELLED)
        .values_list("order_line_id", "shipment__warehouse_id")
    ):
        found.setdefault(line_id, set()).add(warehouse_id)
    return {line_id: w.pop() for line_id, w in found.items() if len(w) == 1}


def journal_sale_post(*, order, moment: str, date=None):
    """Recognise the order's sale if ``moment`` ("shipment"/"delivery") is the configured one."""
    if moment != sale_recognised_at():
        return None
    return journal_post(
        kind=K.SALE,
        source=f"order:{order.pk}",
        postings=sale_postings(
            order, lines=order.lines.all(), warehouses=_shipped_from(order=order)
        ),
        date=date,
        order=order,
        memo=_("Order %(number)s") % {"number": order.number},
    )


def journal_cogs_post(*, shipment, date=None):
    """Move the shipped goods' cost (Product.cost × quantity) from inventory to cost of goods."""
    costs = (
        shipment.lines.values("order_line__product_id")
        .annotate(cost=Sum(F("quantity") * F("order_line__product__cost")))
        .order_by("order_line__product_id")
    )
    postings = []
    for row in costs:
        dims = {
            "product_id": row["order_line__product_id"],
            "warehouse_id": shipment.warehouse_id,
        }
        cost = money(row["cost"] or ZERO)
        postings += [
            Posting(COGS, debit=cost, **dims),
            Posting(INVENTORY, credit=cost, **dims),
        ]
    return journal_post(
        kind=K.COGS,
        source=f"shipment:{shipment.pk}",
        postings=postings,
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
    # Each method's label, translated once rather than once per payment.
    memos = {
        method: payment.get_method_display()
        for method, payment in {p.method: p for _s, p in todo}.items()
    }
    entries = [
        JournalEntry(
            date=timezone.localdate(p.confirmed_at),
            kind=K.PAYMENT,
            source=s,
            order_id=p.order_id,
            memo=memos[p.method],
        )
        for s, p in todo
    ]
    bulk_insert(JournalEntry, entries, set_ids=True)
    channels = dict(
        Order.objects.filter(pk__in={p.order_id for _s, p in todo}).values_list(
            "pk", "channel_id"
        )
    )
    bulk_insert(
        JournalLine,
        (
            JournalLine(
                entry_id=entry.pk,
                account_id=accounts[p.account].pk,
                debit=p.debit,
                credit=p.credit,
                date=entry.date,
                channel_id=channels.get(payment.order_id),
            )
            for entry, (_s, payment) in zip(entries, todo, strict=True)
            for p in _check(_payment_postings(payment))
        ),
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
    warehouses = _shipped_from(order=refund.order)
    per_line = [
        Posting(
            REFUNDS,
            debit=line.amount,
            product_id=line.order_line.product_id,
            warehouse_id=warehouses.get(line.order_line_id),
        )
        for line in refund.lines.select_related("order_line")
    ]
    # goodwill, shipping or anything beyond the lines stays on the whole order
    rest = refund.amount - sum((p.debit for p in per_line), ZERO)
    return journal_post(
        kind=K.REFUND,
        source=f"refund:{refund.pk}",
        postings=[
            Posting(REFUNDS, debit=rest),
            *per_line,
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


def journal_carrier_charge_post(*, shipment, date=None):
    """Accrue what the carrier will bill for the parcel, from its own rate table.

    Carriers bill monthly, so the charge is owed (2202), not paid, when the parcel
    leaves. No rate for the destination, or a zero rate, posts nothing.
    """
    from fulfillment.carriers import shipment_weight_kg  # fulfillment builds on billing
    from orders.pricing import carrier_rate

    amount = carrier_rate(
        carrier_id=shipment.carrier_id,
        province=shipment.order.province,
        weight_kg=shipment_weight_kg(shipment),
    )
    if not amount:
        return None
    return journal_post(
        kind=K.CARRIER_CHARGE,
        source=f"shipment:{shipment.pk}",
        postings=[
            Posting(CARRIER, debit=amount),
            Posting(CARRIERS_PAYABLE, credit=amount),
        ],
        date=date,
        order=shipment.order,
        memo=_("Parcel %(parcel)s") % {"parcel": shipment.pk},
    )
