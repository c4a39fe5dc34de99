"""Marketplace settlements: what a platform paid out per order, and its fee.

The platform's settlement file (CSV, UTF-8 or GBK) is matched to our orders by the
channel and the platform's order id (``Order.external_id``). A row for an order we
do not know, or whose money received plus fee is not what the buyer paid, is
listed for finance until resolved with a note; an order is settled once, so the
same file imported again adds nothing.
"""

import csv
import io
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from billing.cod import cell, csv_text, parse_amount, resolution_record
from billing.cod_models import MarketplaceSettlement, MarketplaceSettlementLine
from billing.journal import journal_settlement_line_post
from orders.events import Actor, actor_fields, order_event_record
from orders.exceptions import OrderError
from orders.models import Channel, Order, OrderEvent

L = MarketplaceSettlementLine.Status
EXTERNAL_ID = ("订单编号", "订单号", "主订单编号", "external_id", "order_id")
RECEIVED = (
    "实收金额",
    "到账金额",
    "结算金额",
    "收入金额",
    "amount_received",
    "received",
)
FEE = ("佣金", "平台佣金", "技术服务费", "平台服务费", "服务费", "platform_fee", "fee")
SETTLED_AT = ("结算时间", "到账时间", "入账时间", "settled_at")


def _find(header, names):
    cleaned = [cell(h).lower() for h in header]
    for name in names:
        if name.lower() in cleaned:
            return cleaned.index(name.lower())
    return None


def _when(value: str):
    text = cell(value)
    if not text:
        return None
    moment = parse_datetime(text.replace("/", "-"))
    if moment is None:
        day = parse_date(text.replace("/", "-"))
        if day is None:
            raise ValueError(text)
        moment = datetime(day.year, day.month, day.day)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def settlement_rows_parse(text: str) -> tuple[list[dict], list[dict]]:
    """Return the settlement file's good rows and its rejected rows (row number, reason)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise OrderError(_("The file is empty."))
    header = rows[0]
    cols = {
        "external_id": _find(header, EXTERNAL_ID),
        "received": _find(header, RECEIVED),
        "fee": _find(header, FEE),
        "settled_at": _find(header, SETTLED_AT),
    }
    if cols["external_id"] is None or cols["received"] is None:
        raise OrderError(
            _(
                "The file needs a 订单编号 (order id) and a 实收金额 (amount received) column."
            )
        )
    good, rejected = [], []
    for number, row in enumerate(rows[1:], 2):
        if not any(c.strip() for c in row):
            continue

        def get(key, row=row):
            i = cols[key]
            return row[i] if i is not None and i < len(row) else ""

        external_id = cell(get("external_id"))
        if not external_id:
            rejected.append({"row": number, "reason": _("No order id.")})
            continue
        try:
            received = parse_amount(get("received"))
            fee = parse_amount(get("fee")) if cell(get("fee")) else Decimal("0.00")
        except ValueError as error:
            rejected.append(
                {
                    "row": number,
                    "reason": _("%(value)r is not an amount.") % {"value": str(error)},
                }
            )
            continue
        if fee < 0:
            fee = -fee  # some platforms print the fee as a deduction
        try:
            settled_at = _when(get("settled_at"))
        except ValueError:
            rejected.append(
                {
                    "row": number,
                    "reason": _("%(value)r is not a date.")
                    % {"value": cell(get("settled_at"))},
                }
            )
            continue
        good.append(
            {
                "row": number,
                "external_id": external_id[:64],
                "received": received,
                "fee": fee,
                "settled_at": settled_at,
            }
        )
    return good, rejected


@transaction.atomic
def settlement_import(
    *, channel: Channel, data: bytes, actor: Actor, file_name: str = ""
) -> MarketplaceSettlement:
    """Import a marketplace settlement CSV and match its rows to the channel's orders."""
    good, rejected = settlement_rows_parse(csv_text(data))
    if not good and not rejected:
        raise OrderError(_("The file has no rows."))
    orders = {
        o.external_id: o
        for o in Order.objects.filter(
            channel=channel, external_id__in=[r["external_id"] for r in good]
        )
    }
    settled = set(
        MarketplaceSettlementLine.objects.filter(order__in=orders.values()).values_list(
            "order_id", flat=True
        )
    )
    settlement = MarketplaceSettlement.objects.create(
        channel=channel,
        file_name=file_name[:200],
        imported_by=actor_fields(actor)["actor"],
    )
    lines, seen = [], set()
    for row in good:
        order = orders.get(row["external_id"])
        if order is not None and (order.pk in settled or order.pk in seen):
            rejected.append(
                {
                    "row": row["row"],
                    "reason": _("Order %(id)s is already settled.")
                    % {"id": row["external_id"]},
                }
            )
            continue
        status = L.UNMATCHED
        if order is not None:
            seen.add(order.pk)
            status = (
                L.MATCHED
                if row["received"] + row["fee"] == order.total
                else L.DIFFERENT
            )
        lines.append(
            MarketplaceSettlementLine(
                settlement=settlement,
                row_number=row["row"],
                external_id=row["external_id"],
                order=order,
                amount_received=row["received"],
                platform_fee=row["fee"],
                expected=order.total if order else None,
                settled_at=row["settled_at"],
                status=status,
            )
        )
    MarketplaceSettlementLine.objects.bulk_create(lines)
    settlement.rejected_rows = sorted(rejected, key=lambda r: r["row"])
    settlement.save(update_fields=["rejected_rows"])
    for line in lines:
        if line.order is None:
            continue
        journal_settlement_line_post(line=line)
        order_event_record(
            order=line.order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=actor,
            message=_("Settled by %(channel)s: ¥%(received)s received, ¥%(fee)s fee")
            % {
                "channel": channel.name,
                "received": line.amount_received,
                "fee": line.platform_fee,
            },
            data={"settlement": settlement.pk},
        )
    return settlement


@transaction.atomic
def settlement_line_resolve(
    *, line: MarketplaceSettlementLine, note: str, actor: Actor
) -> MarketplaceSettlementLine:
    """Close a settlement row that differs or matches no order, with finance's note."""
    line = MarketplaceSettlementLine.objects.select_for_update().get(pk=line.pk)
    if line.status == L.MATCHED:
        raise OrderError(_("This row matched its order: there is nothing to resolve."))
    note = resolution_record(obj=line, note=note, actor=actor)
    if line.order_id:
        order_event_record(
            order=line.order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=actor,
            message=_("Settlement difference of ¥%(difference)s resolved: %(note)s")
            % {"difference": line.difference, "note": note},
            data={"settlement_line": line.pk},
        )
    return line
