"""Reads for picking and packing: wave candidates, pick list rows by bin, pack state."""

from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    When,
)

from fulfillment.models import (
    BoxPreset,
    PickList,
    PickListParcel,
    Shipment,
    ShipmentLine,
)
from inventory.models import Reservation
from inventory.selectors import bin_codes
from orders.models import Order

S = Order.Status


def wave_candidates(
    *, warehouse, carrier=None, ship_by_until=None, single_first=True, limit=50
) -> list[Order]:
    """Return orders with something to pick in the warehouse, as a wave would take them.

    Ready orders whose stock is reserved there, and orders with a parcel there still
    on no pick list. ``carrier`` keeps only parcels already given that carrier;
    ``ship_by_until`` (a datetime) only orders due to ship by then. Single-item
    orders first (their parcels are packed straight from the cart), then the
    earliest ship-by deadline, then oldest first. Each order gets ``units``.
    """
    reserved_here = Reservation.objects.filter(
        order=OuterRef("pk"), warehouse=warehouse
    )
    loose_parcel = Shipment.objects.filter(
        order=OuterRef("pk"),
        warehouse=warehouse,
        status=Shipment.Status.PICKING,
        pick_entry__isnull=True,
    )
    if carrier is not None:
        wanted = Exists(loose_parcel.filter(carrier=carrier))
    else:
        wanted = (Q(status=S.READY_TO_FULFILL) & Exists(reserved_here)) | Exists(
            loose_parcel
        )
    qs = (
        Order.objects.filter(wanted)
        .exclude(status=S.CANCELLED)
        .annotate(units=Sum("lines__quantity"))
        .select_related("channel", "customer")
    )
    if ship_by_until is not None:
        qs = qs.filter(ship_by__lte=ship_by_until)
    ordering = [F("ship_by").asc(nulls_last=True), "placed_at", "pk"]
    if single_first:
        ordering.insert(0, Case(When(units=1, then=0), default=1))
    return list(qs.order_by(*ordering)[:limit])


@dataclass
class PickRow:
    """One SKU to fetch: where, how many in all, and how many for each slot/order."""

    product_id: int
    sku: str
    name: str
    barcode: str
    bin: str
    total: int = 0
    # (slot, order number, units)
    per_order: list[tuple[int, str, int]] = field(default_factory=list)


def pick_list_get(number: str) -> PickList | None:
    """Return the pick list with its warehouse and author, or None."""
    return (
        PickList.objects.select_related("warehouse", "created_by")
        .filter(number=number)
        .first()
    )


def pick_list_entries(pick_list) -> list[PickListParcel]:
    """Return the list's parcels in slot order, with order, status and lines."""
    return list(
        pick_list.parcels.select_related(
            "shipment__order", "shipment__carrier", "shipment__packing"
        )
        .prefetch_related(
            Prefetch(
                "shipment__lines",
                queryset=ShipmentLine.objects.select_related("order_line__product"),
            )
        )
        .order_by("position")
    )


def pick_list_rows(pick_list, entries=None) -> list[PickRow]:
    """Return what to pick, one row per SKU, sorted by bin (SKUs without a bin last).

    Cancelled parcels (the order was cancelled or short-picked) are left out.
    """
    entries = pick_list_entries(pick_list) if entries is None else entries
    rows: dict[int, PickRow] = {}
    for entry in entries:
        if entry.shipment.status == Shipment.Status.CANCELLED:
            continue
        for line in entry.shipment.lines.all():
            product = line.order_line.product
            row = rows.get(product.pk)
            if row is None:
                row = rows[product.pk] = PickRow(
                    product_id=product.pk,
                    sku=product.sku,
                    name=line.order_line.name or product.name,
                    barcode=product.barcode,
                    bin="",
                )
            row.total += line.quantity
            row.per_order.append(
                (entry.position, entry.shipment.order.number, line.quantity)
            )
    bins = bin_codes(warehouse_id=pick_list.warehouse_id, product_ids=rows.keys())
    for row in rows.values():
        row.bin = bins.get(row.product_id, "")
    return sorted(rows.values(), key=lambda r: (not r.bin, r.bin, r.sku))


def pick_lists_recent(*, status: str = "", limit: int = 100) -> QuerySet[PickList]:
    """Return recent pick lists with their parcel counts, newest first."""
    qs = PickList.objects.select_related("warehouse", "created_by").annotate(
        parcel_count=Count("parcels")
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")[:limit]


def box_presets_active() -> QuerySet[BoxPreset]:
    """Return the carton sizes offered at the pack station."""
    return BoxPreset.objects.filter(active=True)
