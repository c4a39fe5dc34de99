"""Getting parcels out of the door: tracking numbers, labels, bulk shipping (批量发货).

A parcel gets its carrier (chosen by ``fulfillment.carriers``) and a tracking number
before its label prints: typed or scanned, issued by the label source (the demo
carrier, later an e-waybill API), or uploaded in bulk from a CSV of order number,
carrier and tracking number. ``fulfillment.services.shipment_ship`` then hands it
over. Bulk actions treat each order (and each CSV row) in a transaction of its own,
so one bad order is reported and the rest go ahead.
"""

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from fulfillment.carriers import (
    carrier_choose,
    tracking_number_error,
    tracking_number_normalise,
)
from fulfillment.exceptions import ShipmentError
from fulfillment.labels import label_source_for
from fulfillment.models import Carrier, Shipment
from fulfillment.services import OPEN, fulfillment_start, shipment_ship
from orders.events import Actor, order_event_record
from orders.exceptions import OrderError
from orders.models import Order, OrderEvent

S = Order.Status
# Parcels that still count (not stopped, not replaced by another).
LIVE = (Shipment.Status.PICKING, Shipment.Status.PACKED, Shipment.Status.SHIPPED)
# The most rows one upload takes; a shop's day is far below it.
UPLOAD_MAX_ROWS = 5000


def _number_taken(carrier: Carrier, number: str, *, but: Shipment) -> bool:
    return (
        Shipment.objects.filter(carrier=carrier, tracking_number=number)
        .exclude(pk=but.pk)
        .exists()
    )


@transaction.atomic
def shipment_tracking_assign(
    *, shipment: Shipment, carrier: Carrier, tracking_number: str = "", actor: Actor
) -> Shipment:
    """Give a parcel still in the warehouse its carrier and tracking number, for its label.

    An empty number is asked of the carrier's label source (the demo carrier, an
    e-waybill API); the number must match the carrier's format where one is known.
    """
    shipment = Shipment.objects.select_for_update(of=("self",)).get(pk=shipment.pk)
    if shipment.status not in OPEN:
        raise ShipmentError(_("This parcel has already left or was cancelled."))
    shipment.carrier = carrier
    number = tracking_number_normalise(tracking_number)
    if not number:
        number = label_source_for(shipment).tracking_number(shipment)
        if not number:
            raise ShipmentError(
                _("Enter the %(carrier)s tracking number first.")
                % {"carrier": carrier.name}
            )
    error = tracking_number_error(carrier=carrier, number=number)
    if error:
        raise ShipmentError(error)
    if _number_taken(carrier, number, but=shipment):
        raise ShipmentError(
            _("Tracking number %(number)s is already used on another parcel.")
            % {"number": number}
        )
    changed = (shipment.carrier_id, shipment.tracking_number) != (
        carrier.pk,
        number,
    )
    shipment.tracking_number = number
    shipment.save(update_fields=["carrier", "tracking_number"])
    if changed:
        order_event_record(
            order=shipment.order,
            kind=OrderEvent.Kind.SHIPMENT,
            actor=actor,
            message=_("Parcel #%(parcel)d: %(carrier)s, tracking number %(number)s")
            % {"parcel": shipment.pk, "carrier": carrier.name, "number": number},
            data={"shipment": shipment.pk},
        )
    return shipment


def shipment_label_prepare(*, shipment: Shipment, actor: Actor) -> Shipment:
    """Make sure the parcel has a carrier and a tracking number, so its label can print."""
    if shipment.status not in OPEN or (
        shipment.carrier_id and shipment.tracking_number
    ):
        return shipment
    carrier = shipment.carrier
    if carrier is None:
        choice = carrier_choose(shipment.order)
        if choice.carrier is None:
            raise ShipmentError(
                " ".join([str(choice.reason), *map(str, choice.passed_over)])
            )
        carrier = choice.carrier
    return shipment_tracking_assign(
        shipment=shipment,
        carrier=carrier,
        tracking_number=shipment.tracking_number,
        actor=actor,
    )


def _parcels_started(order: Order, actor: Actor) -> list[Shipment]:
    """Return the order's live parcels, starting to pick it first if it was ready."""
    if order.status == S.READY_TO_FULFILL:
        fulfillment_start(order=order, actor=actor)
    return list(
        order.shipments.filter(status__in=LIVE)
        .select_related("carrier", "warehouse", "order")
        .order_by("created_at", "id")
    )


@dataclass
class BulkResult:
    """What a bulk action did: the parcels it handled and, per order or row, what failed."""

    shipments: list[Shipment] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def orders_labels_prepare(*, orders: list[Order], actor: Actor) -> BulkResult:
    """Return the parcels of the orders ready for a label, and why others are not."""
    result = BulkResult()
    for order in orders:
        try:
            with transaction.atomic():
                parcels = [
                    shipment_label_prepare(shipment=p, actor=actor)
                    for p in _parcels_started(order, actor)
                ]
                if not parcels:
                    raise ShipmentError(_("It has no parcel to label."))
        except OrderError as error:
            result.errors.append(f"{order.number}: {error}")
            continue
        result.shipments += parcels
    return result


def orders_ship(*, orders: list[Order], actor: Actor) -> BulkResult:
    """Ship every parcel still in the warehouse of each order; report the orders that cannot."""
    result = BulkResult()
    for order in orders:
        try:
            with transaction.atomic():
                parcels = [
                    p for p in _parcels_started(order, actor) if p.status in OPEN
                ]
                if not parcels:
                    raise ShipmentError(_("It has no parcel left to ship."))
                shipped = []
                for parcel in parcels:
                    parcel = shipment_label_prepare(shipment=parcel, actor=actor)
                    shipped.append(
                        shipment_ship(
                            shipment=parcel,
                            carrier=parcel.carrier,
                            tracking_number=parcel.tracking_number,
                            actor=actor,
                        )
                    )
        except OrderError as error:
            result.errors.append(f"{order.number}: {error}")
            continue
        result.shipments += shipped
    return result


# --- 批量发货: a CSV of order number, carrier, tracking number ----------------------

# Words marking a header row (the first row is skipped when it has one).
HEADER_WORDS = ("订单", "order", "快递", "物流", "carrier", "运单", "tracking", "单号")
# What shops type for carriers in their sheets, to our carrier codes.
CARRIER_ALIASES = {
    "顺丰": "sf",
    "中通": "zto",
    "圆通": "yto",
    "韵达": "yunda",
    "申通": "sto",
    "京东": "jd",
    "邮政": "ems",
    "ems": "ems",
    "极兔": "jtexpress",
    "j&t": "jtexpress",
    "jt": "jtexpress",
}


@dataclass
class RowError:
    row: int
    message: str


@dataclass
class UploadResult:
    shipped: list[Shipment] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # Orders with parcels still to ship after the upload (split orders).
    waiting: list[str] = field(default_factory=list)


def upload_text(data: bytes) -> str:
    """Return the file as text: UTF-8 (with or without BOM), else GB18030 as Excel saves it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _carrier_find(value: str, carriers: list[Carrier]) -> Carrier | None:
    wanted = value.strip().lower()
    if not wanted:
        return None
    for carrier in carriers:
        if wanted in (carrier.code.lower(), carrier.name.lower()):
            return carrier
    for alias, code in CARRIER_ALIASES.items():
        if wanted.startswith(alias):
            found = [c for c in carriers if c.code == code or c.code == alias]
            if found:
                return found[0]
    named = [c for c in carriers if wanted in c.name.lower()]
    return named[0] if len(named) == 1 else None


def _is_header(cells: list[str]) -> bool:
    text = " ".join(cells).lower()
    return any(word in text for word in HEADER_WORDS)


def tracking_upload(*, data: bytes, actor: Actor) -> UploadResult:
    """Ship the orders of a 批量发货 CSV: each good row shipped, each bad one reported.

    Rows are numbered as a spreadsheet shows them (the header is row 1). An order
    being picked in several parcels takes one row per parcel, in parcel order; an
    order that is ready but not yet picked is started first.
    """
    result = UploadResult()
    rows = list(csv.reader(io.StringIO(upload_text(data))))
    if rows and _is_header(rows[0]):
        rows[0] = None  # keep the numbering
    if len([r for r in rows if r]) > UPLOAD_MAX_ROWS:
        result.errors.append(
            RowError(
                0,
                _("The file has more than %(max)d rows; split it.")
                % {"max": UPLOAD_MAX_ROWS},
            )
        )
        return result
    carriers = list(Carrier.objects.filter(active=True))
    seen: dict[tuple[int, str], int] = {}
    touched: dict[str, Order] = {}
    for number, cells in enumerate(rows, start=1):
        if cells is None or not any(c.strip() for c in cells):
            continue
        message = _upload_row(number, cells, carriers, seen, touched, result, actor)
        if message:
            result.errors.append(RowError(number, message))
    for order_number, order in touched.items():
        if order.shipments.filter(status__in=OPEN).exists():
            result.waiting.append(order_number)
    return result


def _upload_row(number, cells, carriers, seen, touched, result, actor) -> str:
    """Ship one row; return why it could not be shipped, or ""."""
    cells = [c.strip() for c in cells] + ["", "", ""]
    order_number, carrier_name, tracking = cells[:3]
    if not (order_number and carrier_name and tracking):
        return _("Fill in the order number, the carrier and the tracking number.")
    order = Order.objects.filter(number=order_number).first()
    if order is None:
        return _("No order %(number)s.") % {"number": order_number}
    carrier = _carrier_find(carrier_name, carriers)
    if carrier is None:
        return _("Unknown carrier “%(name)s”.") % {"name": carrier_name}
    tracking = tracking_number_normalise(tracking)
    error = tracking_number_error(carrier=carrier, number=tracking)
    if error:
        return error
    if (carrier.pk, tracking) in seen:
        return _("Tracking number %(number)s is already on row %(row)d.") % {
            "number": tracking,
            "row": seen[(carrier.pk, tracking)],
        }
    try:
        with transaction.atomic():
            if order.status == S.READY_TO_FULFILL:
                fulfillment_start(order=order, actor=actor)
            open_parcels = order.shipments.filter(status__in=OPEN).order_by(
                "created_at", "id"
            )
            # A parcel already labelled with this number first, else the next one.
            parcel = (
                open_parcels.filter(
                    Q(carrier=carrier, tracking_number=tracking)
                ).first()
                or open_parcels.filter(tracking_number="").first()
                or open_parcels.first()
            )
            if parcel is None:
                raise ShipmentError(
                    _("Order %(number)s has nothing to ship (%(status)s).")
                    % {"number": order.number, "status": order.get_status_display()}
                )
            shipped = shipment_ship(
                shipment=parcel,
                carrier=carrier,
                tracking_number=tracking,
                actor=actor,
            )
    except OrderError as error:
        return str(error)
    seen[(carrier.pk, tracking)] = number  # a failed row does not claim its number
    result.shipped.append(shipped)
    touched[order.number] = order
    return ""
