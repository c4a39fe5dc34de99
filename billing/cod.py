"""Cash on delivery: collection per parcel, carriers' remittances and their differences.

Each parcel of a cash-on-delivery order collects its own share of the order's
cash (``fulfillment.cod.cod_parcel_amounts``, as printed on its label). A delivered
scan from the carrier records it, or staff enter it; carriers then pay the money
over in batches (remittances), matched by tracking number. What does not add up
is a ``CodDifference`` that finance resolves with a note.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.cod_models import (
    CodCollection,
    CodDifference,
    CodRemittance,
    CodRemittanceLine,
)
from billing.journal import journal_cod_remittance_post, journal_payment_post
from billing.models import Payment
from fulfillment.cod import cod_parcel_amounts
from fulfillment.models import Carrier, Shipment
from orders.events import Actor, actor_fields, order_event_record
from orders.exceptions import OrderError
from orders.lifecycle import order_lock
from orders.models import Order, OrderEvent

S = Order.Status
PS = Order.PaymentStatus
CENT = Decimal("0.01")
COLLECTABLE = (Shipment.Status.SHIPPED, Shipment.Status.DELIVERED)
SHIPPED_ALL = (
    S.SHIPPED,
    S.DELIVERED,
    S.COMPLETED,
    S.PARTIALLY_RETURNED,
    S.RETURNED,
)
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def money(value) -> Decimal:
    """Return the value as CNY rounded half up to the cent."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def cod_missing_after_days() -> int:
    """Return after how many days collected cash not yet remitted counts as missing."""
    return settings.COD_REMITTANCE_MISSING_DAYS


# --- The order's payment status ----------------------------------------------


def cod_payment_status_refresh(*, order: Order, actor: Actor) -> Order:
    """Derive a cash-on-delivery order's payment status from its parcels' collections.

    The one place that decides to collect / collected / remitted: collected once
    every parcel that left has its cash recorded and nothing is left to ship,
    remitted once every collection is in a carrier's remittance. Call it with the
    order locked.
    """
    if not order.is_cod or order.payment_status in (PS.REFUNDED, PS.PAID):
        return order
    parcels = list(
        order.shipments.exclude(
            status__in=(Shipment.Status.CANCELLED, Shipment.Status.REPLACED)
        )
    )
    collections = {c.shipment_id: c for c in order.cod_collections.all()}
    left = [p for p in parcels if p.status in COLLECTABLE]
    # Every unit has left (the order is past shipping) and no parcel waits to go.
    all_shipped = order.status in SHIPPED_ALL and len(left) == len(parcels)
    target = PS.COD_PENDING
    if left and all_shipped and all(p.pk in collections for p in left):
        target = PS.COD_COLLECTED
        remitted = set(
            CodRemittanceLine.objects.filter(
                collection__in=collections.values()
            ).values_list("collection_id", flat=True)
        )
        if all(collections[p.pk].pk in remitted for p in left):
            target = PS.COD_REMITTED
    if target != order.payment_status:
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=actor,
            message=_("Payment status: %(status)s") % {"status": PS(target).label},
            data={"from": order.payment_status, "to": target},
        )
        order.payment_status = target
        order.save(update_fields=["payment_status", "updated_at"])
    return order


# --- Collection ----------------------------------------------------------------


def _spread(amount: Decimal, dues: list[Decimal]) -> list[Decimal]:
    """Return the amount split over the parcels in proportion to their dues, exactly."""
    whole = sum(dues, Decimal("0"))
    if whole <= 0:
        return [amount] + [Decimal("0.00")] * (len(dues) - 1)
    shares, covered, before = [], Decimal("0"), Decimal("0.00")
    for due in dues:
        covered += due
        upto = money(amount * covered / whole)
        shares.append(upto - before)
        before = upto
    return shares


@transaction.atomic
def cod_collection_record(
    *,
    order: Order,
    amount: Decimal,
    actor: Actor,
    note: str = "",
    shipment: Shipment | None = None,
    source: str = CodCollection.Source.STAFF,
    collected_at=None,
) -> Payment:
    """Record the cash the courier collected: for one parcel, or every parcel not yet recorded.

    The amount is spread over the parcels in proportion to their dues. Returns the
    payment that holds it.
    """
    order = order_lock(order)
    if not order.is_cod:
        raise OrderError(_("This order is not cash on delivery."))
    if order.status not in (S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED):
        raise OrderError(_("Cash is collected when the parcel is delivered."))
    amount = money(amount)
    if amount <= 0:
        raise OrderError(_("The amount must be greater than zero."))
    taken = set(order.cod_collections.values_list("shipment_id", flat=True))
    if shipment is not None:
        if shipment.order_id != order.pk:
            raise OrderError(_("This parcel is not on this order."))
        if shipment.pk in taken:
            raise OrderError(
                _("The cash for parcel %(parcel)s is already recorded.")
                % {"parcel": shipment}
            )
        parcels = list(Shipment.objects.filter(pk=shipment.pk, status__in=COLLECTABLE))
    else:
        parcels = list(
            order.shipments.filter(status__in=COLLECTABLE)
            .exclude(pk__in=taken)
            .order_by("created_at", "id")
        )
    if not parcels:
        raise OrderError(_("No parcel of this order has cash left to record."))
    dues = cod_parcel_amounts(order)
    due_list = [dues.get(p.pk, Decimal("0.00")) for p in parcels]
    who = actor_fields(actor)
    payment = Payment.objects.create(
        order=order,
        method=Payment.Method.COD,
        amount=amount,
        provider_reference=f"cod:{parcels[0].pk}" if len(parcels) == 1 else "",
        note=note[:300],
        confirmed_by=who["actor"],
    )
    when = collected_at or timezone.now()
    CodCollection.objects.bulk_create(
        CodCollection(
            shipment=parcel,
            order=order,
            amount_due=due,
            amount=share,
            source=source,
            payment=payment,
            note=note[:300],
            collected_at=when,
            recorded_by=who["actor"],
        )
        for parcel, due, share in zip(
            parcels, due_list, _spread(amount, due_list), strict=True
        )
    )
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=actor,
        message=_("Cash on delivery of ¥%(amount)s collected for %(parcels)s")
        % {"amount": amount, "parcels": ", ".join(str(p) for p in parcels)},
        data={"payment": payment.pk, "shipments": [p.pk for p in parcels]},
    )
    journal_payment_post(payment=payment)
    cod_payment_status_refresh(order=order, actor=actor)
    return payment


def cod_amount_in_scan(raw) -> Decimal | None:
    """Return the collected amount a carrier's delivered event reports, if any."""
    if not isinstance(raw, dict):
        return None
    for key in ("cod_amount", "codAmount", "collected_amount", "代收货款"):
        if raw.get(key) not in (None, ""):
            try:
                return money(str(raw[key]).replace("¥", "").replace("元", ""))
            except InvalidOperation:
                return None
    return None


@transaction.atomic
def cod_collection_from_scan(
    *, shipment: Shipment, actor: Actor, raw=None, occurred_at=None
) -> Payment | None:
    """Record a delivered COD parcel's cash from the carrier's delivered event.

    The courier hands a COD parcel over only against the cash, so a carrier's
    delivered scan means the parcel's due was collected (or the amount the event
    reports). Returns None when there is nothing to record.
    """
    order = shipment.order
    if not order.is_cod or order.payment_status != PS.COD_PENDING:
        return None
    if CodCollection.objects.filter(shipment=shipment).exists():
        return None
    amount = cod_amount_in_scan(raw)
    if amount is None:
        amount = cod_parcel_amounts(order).get(shipment.pk, Decimal("0.00"))
    if amount <= 0:
        return None
    return cod_collection_record(
        order=order,
        amount=amount,
        actor=actor,
        shipment=shipment,
        source=CodCollection.Source.SCAN,
        note=_("Delivered scan"),
        collected_at=occurred_at,
    )


def cod_amount_left(order: Order) -> Decimal:
    """Return the cash still to record for the order's parcels that have left."""
    taken = set(order.cod_collections.values_list("shipment_id", flat=True))
    dues = cod_parcel_amounts(order)
    return sum(
        (
            dues.get(pk, Decimal("0.00"))
            for pk in order.shipments.filter(status__in=COLLECTABLE)
            .exclude(pk__in=taken)
            .values_list("pk", flat=True)
        ),
        Decimal("0.00"),
    )


# --- Remittances -----------------------------------------------------------------


@dataclass
class RemittanceRows:
    """A remittance file read: good rows and the rows refused with their reason."""

    rows: list[tuple[int, str, Decimal]] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


TRACKING_HEADERS = (
    "运单号",
    "快递单号",
    "物流单号",
    "单号",
    "tracking_number",
    "tracking",
)
AMOUNT_HEADERS = ("代收货款", "代收金额", "回款金额", "金额", "amount")


def csv_text(data: bytes) -> str:
    """Return the file's text, UTF-8 or GBK as Excel saves it; refuse what is not CSV."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise OrderError(
            _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES >> 20}
        )
    if b"\x00" in data[:4096] or data[:2] == b"PK":
        raise OrderError(_("This is not a CSV file; save it as CSV and try again."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise OrderError(
                _("This is not a CSV file; save it as CSV and try again.")
            ) from None


def cell(value: str) -> str:
    """Return the cell without the spreadsheet guards (="…", a leading ')."""
    value = (value or "").strip()
    if value.startswith('="') and value.endswith('"'):
        value = value[2:-1]
    return value.lstrip("'").strip()


def parse_amount(value: str) -> Decimal:
    """Return a money cell as Decimal ('¥12.50', '12.5元', '1,200'); raise ValueError."""
    text = cell(value).replace("¥", "").replace("￥", "").replace("元", "")
    text = text.replace(",", "").strip()
    try:
        return money(text)
    except InvalidOperation:
        raise ValueError(text) from None


def _column(header: list[str], names) -> int | None:
    for i, name in enumerate(header):
        if cell(name).lower() in names:
            return i
    return None


def remittance_rows_parse(text: str) -> RemittanceRows:
    """Return the tracking number and amount rows of a remittance file.

    Columns are found by header (运单号/快递单号, 代收货款/金额…); a file without a
    header is read as tracking number, amount.
    """
    result = RemittanceRows()
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return result
    t_col = _column(rows[0], TRACKING_HEADERS)
    a_col = _column(rows[0], AMOUNT_HEADERS)
    start = 1
    if t_col is None or a_col is None:
        t_col, a_col, start = 0, 1, 0
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[start:], start + 1):
        if not any(c.strip() for c in row):
            continue
        tracking = cell(row[t_col]) if len(row) > t_col else ""
        if not tracking:
            result.rejected.append({"row": number, "reason": _("No tracking number.")})
            continue
        try:
            amount = parse_amount(row[a_col] if len(row) > a_col else "")
        except ValueError:
            result.rejected.append(
                {
                    "row": number,
                    "reason": _("%(value)r is not an amount.")
                    % {"value": cell(row[a_col]) if len(row) > a_col else ""},
                }
            )
            continue
        if amount <= 0:
            result.rejected.append(
                {"row": number, "reason": _("The amount must be greater than zero.")}
            )
            continue
        if tracking in seen:
            result.rejected.append(
                {
                    "row": number,
                    "reason": _("Tracking number %(number)s is already on row %(row)d.")
                    % {"number": tracking, "row": seen[tracking]},
                }
            )
            continue
        seen[tracking] = number
        result.rows.append((number, tracking, amount))
    return result


def _difference(**fields) -> CodDifference:
    return CodDifference.objects.create(**fields)


@transaction.atomic
def cod_remittance_create(
    *,
    carrier: Carrier,
    reference: str,
    remitted_on: date,
    rows: list[tuple],
    actor: Actor,
    source: str = CodRemittance.Source.MANUAL,
    file_name: str = "",
    rejected: list[dict] | None = None,
) -> CodRemittance:
    """Record a carrier's remittance and match its rows against the collected parcels.

    ``rows`` are ``(row_number, tracking_number, amount)`` or ``(tracking_number,
    amount)``. A row for an unknown tracking number, or whose amount differs from
    what was collected, opens a difference; a row that settles a collection missing
    so far resolves its missing difference.
    """
    reference = reference.strip()
    if not reference:
        raise OrderError(_("Enter the remittance reference."))
    if CodRemittance.objects.filter(carrier=carrier, reference=reference).exists():
        raise OrderError(
            _("Remittance %(reference)s of %(carrier)s is already recorded.")
            % {"reference": reference, "carrier": carrier}
        )
    rows = [row if len(row) == 3 else (None, *row) for row in rows]
    if not rows:
        raise OrderError(_("The remittance has no rows to record."))
    who = actor_fields(actor)
    try:
        with transaction.atomic():
            remittance = CodRemittance.objects.create(
                carrier=carrier,
                reference=reference[:64],
                remitted_on=remitted_on,
                source=source,
                file_name=file_name[:200],
                total=sum((money(a) for _n, _t, a in rows), Decimal("0.00")),
                rejected_rows=list(rejected or []),
                created_by=who["actor"],
            )
    except IntegrityError:  # the same reference recorded at the same moment
        raise OrderError(
            _("Remittance %(reference)s of %(carrier)s is already recorded.")
            % {"reference": reference, "carrier": carrier}
        ) from None
    collections = {
        c.shipment.tracking_number: c
        for c in CodCollection.objects.select_for_update(of=("self",))
        .select_related("shipment")
        .filter(
            shipment__carrier=carrier,
            shipment__tracking_number__in=[t for _n, t, _a in rows],
        )
    }
    already = set(
        CodRemittanceLine.objects.filter(
            collection__in=collections.values()
        ).values_list("collection_id", flat=True)
    )
    now = timezone.now()
    orders = {}
    for row_number, tracking, amount in rows:
        amount = money(amount)
        collection = collections.get(tracking)
        line = CodRemittanceLine.objects.create(
            remittance=remittance,
            row_number=row_number,
            tracking_number=tracking[:40],
            amount=amount,
            collection=collection
            if collection and collection.pk not in already
            else None,
        )
        common = {
            "carrier": carrier,
            "tracking_number": tracking[:40],
            "remittance_line": line,
            "found_at": now,
        }
        if collection is None:
            _difference(
                kind=CodDifference.Kind.UNKNOWN,
                expected=Decimal("0.00"),
                received=amount,
                **common,
            )
            continue
        if collection.pk in already:
            # Remitted twice: the second payment is all extra.
            _difference(
                kind=CodDifference.Kind.EXTRA,
                collection=collection,
                expected=Decimal("0.00"),
                received=amount,
                **common,
            )
            continue
        already.add(collection.pk)
        orders[collection.order_id] = collection.order_id
        if amount != collection.amount:
            _difference(
                kind=CodDifference.Kind.SHORT
                if amount < collection.amount
                else CodDifference.Kind.EXTRA,
                collection=collection,
                expected=collection.amount,
                received=amount,
                **common,
            )
        for missing in CodDifference.objects.filter(
            kind=CodDifference.Kind.MISSING,
            collection=collection,
            resolved_at__isnull=True,
        ):
            missing.resolved_at = now
            missing.resolved_by = who["actor"]
            missing.resolved_by_label = who["actor_label"]
            missing.resolution_note = _("Remitted in %(reference)s.") % {
                "reference": reference
            }
            missing.received = amount
            missing.save()
    for order in Order.objects.filter(pk__in=orders).order_by("pk"):
        order = order_lock(order)
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=actor,
            message=_("Cash on delivery remitted by %(carrier)s in %(reference)s")
            % {"carrier": carrier, "reference": reference},
            data={"remittance": remittance.pk},
        )
        cod_payment_status_refresh(order=order, actor=actor)
    cod_missing_refresh(actor=actor, now=now)
    journal_cod_remittance_post(remittance=remittance)
    return remittance


@transaction.atomic
def cod_remittance_import(
    *,
    carrier: Carrier,
    reference: str,
    remitted_on: date,
    data: bytes,
    actor: Actor,
    file_name: str = "",
) -> CodRemittance:
    """Import a carrier's remittance CSV: good rows land, bad rows are kept with their reason."""
    parsed = remittance_rows_parse(csv_text(data))
    if not parsed.rows:
        reasons = "; ".join(
            _("row %(row)d: %(reason)s") % r for r in parsed.rejected[:5]
        )
        raise OrderError(
            _("No row of the file could be read.") + (f" {reasons}" if reasons else "")
        )
    return cod_remittance_create(
        carrier=carrier,
        reference=reference,
        remitted_on=remitted_on,
        rows=parsed.rows,
        actor=actor,
        source=CodRemittance.Source.IMPORT,
        file_name=file_name,
        rejected=parsed.rejected,
    )


@transaction.atomic
def cod_missing_refresh(*, actor: Actor = "system", now=None) -> int:
    """Open a missing difference for each collection not remitted after the allowed days; return how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=cod_missing_after_days())
    overdue = (
        CodCollection.objects.filter(
            collected_at__lt=cutoff, remittance_lines__isnull=True
        )
        .exclude(
            differences__kind=CodDifference.Kind.MISSING,
        )
        .select_related("shipment")
    )
    created = [
        CodDifference(
            kind=CodDifference.Kind.MISSING,
            carrier_id=c.shipment.carrier_id,
            tracking_number=c.shipment.tracking_number,
            collection=c,
            expected=c.amount,
            received=Decimal("0.00"),
            found_at=now,
        )
        for c in overdue
        if c.shipment.carrier_id
    ]
    CodDifference.objects.bulk_create(created)
    return len(created)


def resolution_record(*, obj, note: str, actor: Actor) -> str:
    """Close a locked difference (a ``Resolution``) with finance's note; return the note."""
    note = (note or "").strip()
    if not note:
        raise OrderError(_("Say how the difference was resolved."))
    if obj.resolved_at:
        raise OrderError(_("This difference is already resolved."))
    who = actor_fields(actor)
    obj.resolved_at = timezone.now()
    obj.resolved_by = who["actor"]
    obj.resolved_by_label = who["actor_label"]
    obj.resolution_note = note[:300]
    obj.save(
        update_fields=[
            "resolved_at",
            "resolved_by",
            "resolved_by_label",
            "resolution_note",
        ]
    )
    return note


@transaction.atomic
def cod_difference_resolve(
    *, difference: CodDifference, note: str, actor: Actor
) -> CodDifference:
    """Close a COD difference with finance's note, recording who and when."""
    difference = CodDifference.objects.select_for_update().get(pk=difference.pk)
    note = resolution_record(obj=difference, note=note, actor=actor)
    if difference.collection_id:
        order_event_record(
            order=difference.collection.order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=actor,
            message=_("COD difference (%(kind)s, %(tracking)s) resolved: %(note)s")
            % {
                "kind": difference.get_kind_display(),
                "tracking": difference.tracking_number,
                "note": note,
            },
            data={"cod_difference": difference.pk},
        )
    return difference
