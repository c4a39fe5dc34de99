"""The pack station: scan a pick list or an order, then each item into the box.

Every scan is checked against the parcel's lines and stored on its ``Packing`` row,
so a reload carries on. A wrong or extra item is refused; the parcel is packed
(status ``packed``) only when what was scanned matches it exactly. A cancelled
order is flagged and cannot be packed.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.exceptions import ShipmentError
from fulfillment.models import BoxPreset, Packing, PickList, PickListParcel, Shipment
from inventory.selectors import product_by_code
from orders.events import Actor, actor_fields, order_event_record
from orders.models import Order, OrderEvent


@dataclass
class PackItem:
    product_id: int
    sku: str
    name: str
    barcode: str
    wanted: int
    scanned: int = 0

    @property
    def left(self) -> int:
        return self.wanted - self.scanned


@dataclass
class PackState:
    """What the pack station shows for one parcel."""

    shipment: Shipment
    items: list[PackItem] = field(default_factory=list)
    cancelled: bool = False
    packed: bool = False
    # Other parcels of the same pick list still to pack (their ids), in slot order.
    next_parcels: list[int] = field(default_factory=list)
    pick_list: str = ""
    # Orders on the same pick list that were cancelled while being picked.
    flagged_orders: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(item.left == 0 for item in self.items)

    @property
    def left(self) -> int:
        return sum(item.left for item in self.items)

    def as_json(self) -> dict:
        order = self.shipment.order
        return {
            "parcel": self.shipment.pk,
            "order": order.number,
            "recipient": order.recipient_name,
            "status": self.shipment.status,
            "status_label": self.shipment.get_status_display(),
            "cancelled": self.cancelled,
            "packed": self.packed,
            "complete": self.complete,
            "left": self.left,
            "next_parcels": self.next_parcels,
            "pick_list": self.pick_list,
            "flagged_orders": self.flagged_orders,
            "items": [
                {
                    "sku": i.sku,
                    "name": i.name,
                    "barcode": i.barcode,
                    "wanted": i.wanted,
                    "scanned": i.scanned,
                    "left": i.left,
                }
                for i in self.items
            ],
        }


def _shipment(pk) -> Shipment:
    return (
        Shipment.objects.select_related("order", "warehouse")
        .prefetch_related("lines__order_line__product")
        .get(pk=pk)
    )


def pack_state(shipment: Shipment) -> PackState:
    """Return the parcel's items with what has been scanned so far."""
    shipment = _shipment(shipment.pk)
    packing = Packing.objects.filter(shipment=shipment).first()
    scanned = packing.scanned if packing else {}
    items: dict[int, PackItem] = {}
    for line in shipment.lines.all():
        product = line.order_line.product
        item = items.get(product.pk)
        if item is None:
            item = items[product.pk] = PackItem(
                product_id=product.pk,
                sku=product.sku,
                name=line.order_line.name or product.name,
                barcode=product.barcode,
                wanted=0,
                scanned=int(scanned.get(str(product.pk), 0)),
            )
        item.wanted += line.quantity
    entry = PickListParcel.objects.filter(shipment=shipment).first()
    next_parcels, flagged = [], []
    if entry is not None:
        on_list = Shipment.objects.filter(
            pick_entry__pick_list_id=entry.pick_list_id
        ).order_by("pick_entry__position")
        next_parcels = list(
            on_list.filter(status=Shipment.Status.PICKING)
            .exclude(pk=shipment.pk)
            .values_list("pk", flat=True)
        )
        flagged = list(
            on_list.filter(order__status=Order.Status.CANCELLED).values_list(
                "order__number", flat=True
            )
        )
    return PackState(
        shipment=shipment,
        items=sorted(items.values(), key=lambda i: i.sku),
        cancelled=(
            shipment.order.status == Order.Status.CANCELLED
            or shipment.status == Shipment.Status.CANCELLED
        ),
        packed=shipment.status == Shipment.Status.PACKED,
        next_parcels=next_parcels,
        pick_list=entry.pick_list.number if entry else "",
        flagged_orders=flagged,
    )


def pack_find(code: str) -> Shipment:
    """Return the parcel to pack for a scanned pick list or order number.

    A pick list gives its first parcel still to pack (a cancelled order's parcel is
    returned too, so the station can flag it, when nothing else is left); an order
    gives its parcel still to pack.
    """
    code = (code or "").strip()
    if not code:
        raise ShipmentError(_("Scan a pick list or an order number."))
    pick_list = PickList.objects.filter(number__iexact=code).first()
    if pick_list is not None:
        parcels = Shipment.objects.filter(pick_entry__pick_list=pick_list).order_by(
            "pick_entry__position"
        )
        parcel = parcels.filter(status=Shipment.Status.PICKING).first()
        if parcel is None:
            raise ShipmentError(
                _("Every parcel of pick list %(number)s is packed or cancelled.")
                % {"number": pick_list.number}
            )
        return parcel
    order = Order.objects.filter(number__iexact=code).first()
    if order is None:
        raise ShipmentError(
            _("“%(code)s” is neither a pick list nor an order number.") % {"code": code}
        )
    parcels = order.shipments.order_by("pk")
    parcel = parcels.filter(status=Shipment.Status.PICKING).first()
    if parcel is None:
        parcel = parcels.filter(status=Shipment.Status.CANCELLED).last()
        if parcel is None or order.status != Order.Status.CANCELLED:
            raise ShipmentError(
                _("Order %(number)s has no parcel to pack.") % {"number": order.number}
            )
    return parcel


@dataclass
class ScanResult:
    ok: bool
    message: str
    state: PackState


@transaction.atomic
def pack_scan(*, shipment: Shipment, code: str, actor: Actor) -> ScanResult:
    """Count one scanned item into the parcel's box, or refuse it and say why.

    A refused scan changes nothing; the result carries the message for the packer.
    """
    shipment = Shipment.objects.select_for_update(of=("self",)).get(pk=shipment.pk)
    state = pack_state(shipment)
    if state.cancelled:
        return ScanResult(
            False,
            _("Order %(number)s was cancelled: do not pack it, put the items back.")
            % {"number": state.shipment.order.number},
            state,
        )
    if state.packed:
        return ScanResult(False, _("This parcel is already packed."), state)
    product = product_by_code(code)
    if product is None:
        return ScanResult(
            False, _("Unknown code “%(code)s”.") % {"code": code.strip()}, state
        )
    item = next((i for i in state.items if i.product_id == product.pk), None)
    if item is None:
        return ScanResult(
            False,
            _("Wrong item: %(sku)s is not in this parcel.") % {"sku": product.sku},
            state,
        )
    if item.left <= 0:
        return ScanResult(
            False,
            _("Extra item: this parcel takes only %(wanted)d × %(sku)s.")
            % {"wanted": item.wanted, "sku": product.sku},
            state,
        )
    packing, _created = Packing.objects.select_for_update().get_or_create(
        shipment=shipment
    )
    scanned = defaultdict(int, {k: int(v) for k, v in packing.scanned.items()})
    scanned[str(product.pk)] += 1
    packing.scanned = dict(scanned)
    packing.save(update_fields=["scanned"])
    item.scanned += 1
    if state.complete:
        message = _("All items scanned: choose the box and weigh the parcel.")
    else:
        message = _("%(sku)s: %(left)d more.") % {"sku": item.sku, "left": item.left}
    return ScanResult(True, message, state)


@transaction.atomic
def pack_reset(*, shipment: Shipment, actor: Actor) -> PackState:
    """Empty the box and start scanning the parcel again."""
    shipment = Shipment.objects.select_for_update(of=("self",)).get(pk=shipment.pk)
    if shipment.status != Shipment.Status.PICKING:
        raise ShipmentError(_("Only a parcel still being packed can be started again."))
    Packing.objects.filter(shipment=shipment).update(scanned={})
    return pack_state(shipment)


def _size(value, label) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 0 < number <= 300:
        raise ShipmentError(
            _("%(field)s must be a whole number of centimetres from 1 to 300.")
            % {"field": label}
        )
    return number


@transaction.atomic
def pack_complete(
    *,
    shipment: Shipment,
    actor: Actor,
    weight_kg=None,
    box_preset: BoxPreset | None = None,
    length_cm=None,
    width_cm=None,
    height_cm=None,
) -> Shipment:
    """Close the box: the scanned items match the parcel, its size and weight are recorded.

    The box is a preset or three measurements; an empty weight is the goods' weight
    from the catalogue plus the preset's carton. The parcel becomes ``packed``.
    """
    shipment = Shipment.objects.select_for_update(of=("self",)).get(pk=shipment.pk)
    state = pack_state(shipment)
    if state.cancelled:
        raise ShipmentError(
            _("Order %(number)s was cancelled: it cannot be packed.")
            % {"number": state.shipment.order.number}
        )
    if state.packed or shipment.status != Shipment.Status.PICKING:
        raise ShipmentError(_("This parcel is already packed."))
    if not state.complete:
        raise ShipmentError(
            _("%(left)d item(s) not scanned yet: %(items)s")
            % {
                "left": state.left,
                "items": ", ".join(
                    f"{i.sku} × {i.left}" for i in state.items if i.left
                ),
            }
        )
    sizes = [
        _size(length_cm, _("Length")),
        _size(width_cm, _("Width")),
        _size(height_cm, _("Height")),
    ]
    if box_preset is None:
        if None in sizes:
            raise ShipmentError(
                _("Choose a box or enter its length, width and height.")
            )
    else:
        sizes = [box_preset.length_cm, box_preset.width_cm, box_preset.height_cm]
    if weight_kg in (None, ""):
        weight = sum(
            (
                line.order_line.product.weight_kg * line.quantity
                for line in state.shipment.lines.all()
            ),
            Decimal("0"),
        ) + (box_preset.tare_kg if box_preset else Decimal("0"))
    else:
        try:
            weight = Decimal(str(weight_kg))
        except InvalidOperation:
            weight = Decimal("-1")
        if not weight.is_finite() or weight <= 0 or weight > 1000:
            raise ShipmentError(
                _("The weight must be a number of kilograms above 0 and at most 1000.")
            )
    packing, _created = Packing.objects.get_or_create(shipment=shipment)
    packing.box_preset = box_preset
    packing.length_cm, packing.width_cm, packing.height_cm = sizes
    packing.packed_at = timezone.now()
    packing.packed_by = actor_fields(actor)["actor"]
    packing.save()
    shipment.weight_kg = weight.quantize(Decimal("0.001"))
    shipment.status = Shipment.Status.PACKED
    shipment.save(update_fields=["weight_kg", "status"])
    order_event_record(
        order=state.shipment.order,
        kind=OrderEvent.Kind.SHIPMENT,
        actor=actor,
        message=_("Parcel #%(parcel)s packed: %(size)s cm, %(weight)s kg.")
        % {
            "parcel": shipment.pk,
            "size": "×".join(str(s) for s in sizes),
            "weight": shipment.weight_kg,
        },
        data={"shipment": shipment.pk},
    )
    return shipment
