"""Pick lists: build one for an order or a wave of orders, and report short picks.

A pick list belongs to one warehouse and holds parcels (``Shipment`` in ``picking``).
Orders still ``ready_to_fulfill`` start picking when they join a list. A short pick
takes the affected orders off the list, writes the missing units off through an
inventory adjustment, and sends each order back through allocation.
"""

from collections import defaultdict

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.exceptions import ShipmentError
from fulfillment.models import PickList, PickListParcel, Shipment, ShortPick
from fulfillment.services import fulfillment_start, shipments_cancel_open
from inventory.selectors import bin_codes
from inventory.services import stock_adjust, stock_release_for_order
from orders.events import Actor, actor_fields, order_event_record
from orders.lifecycle import order_lock, order_transition
from orders.models import Order, OrderEvent

S = Order.Status


def _next_number() -> str:
    prefix = f"PL{timezone.localdate():%y%m%d}-"
    last = (
        PickList.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


@transaction.atomic
def pick_list_create(
    *, warehouse, orders=(), shipments=(), actor: Actor, filters=None
) -> PickList:
    """Put parcels of one warehouse on a new pick list; ready orders start picking first.

    ``orders`` may mix ready orders (their parcels are created) and orders being
    picked; only their open parcels in ``warehouse`` that are on no other list join.
    Refuses an empty list.
    """
    parcels: list[Shipment] = list(shipments)
    for order in orders:
        order = order_lock(order)
        if order.status == S.READY_TO_FULFILL:
            parcels.extend(fulfillment_start(order=order, actor=actor))
        else:
            parcels.extend(order.shipments.all())
    ids = {p.pk for p in parcels}
    free = list(
        Shipment.objects.select_for_update(of=("self",))
        .filter(
            pk__in=ids,
            warehouse=warehouse,
            status=Shipment.Status.PICKING,
            pick_entry__isnull=True,
        )
        .exclude(order__status=S.CANCELLED)
        .order_by("pk")
    )
    if not free:
        raise ShipmentError(
            _("No parcel to pick in %(warehouse)s among these orders.")
            % {"warehouse": warehouse.name}
        )
    # Keep the caller's order (single-item orders first, oldest first…).
    rank = {p.pk: i for i, p in enumerate(parcels)}
    free.sort(key=lambda p: rank.get(p.pk, 0))
    for attempt in range(5):
        try:
            with transaction.atomic():
                pick_list = PickList.objects.create(
                    number=_next_number(),
                    warehouse=warehouse,
                    filters=filters or {},
                    created_by=actor_fields(actor)["actor"],
                )
            break
        except IntegrityError:
            # Another clerk took the number at the same moment.
            if attempt == 4:
                raise
    try:
        with transaction.atomic():
            PickListParcel.objects.bulk_create(
                PickListParcel(pick_list=pick_list, shipment=parcel, position=position)
                for position, parcel in enumerate(free, start=1)
            )
    except IntegrityError:
        # Another wave took one of these parcels while this one was being built.
        raise ShipmentError(
            _("Another pick list took some of these parcels just now; try again.")
        ) from None
    for parcel in free:
        order_event_record(
            order=parcel.order,
            kind=OrderEvent.Kind.SHIPMENT,
            actor=actor,
            message=_("Parcel #%(parcel)s put on pick list %(number)s.")
            % {"parcel": parcel.pk, "number": pick_list.number},
            data={"shipment": parcel.pk, "pick_list": pick_list.number},
        )
    return pick_list


@transaction.atomic
def pick_lists_for_orders(*, orders, actor: Actor) -> list[PickList]:
    """Make one pick list per warehouse for the selected orders (the order list's bulk action).

    Orders with nothing to pick are skipped; refuses when none has anything.
    """
    by_warehouse: dict = defaultdict(list)
    warehouses = {}
    for order in sorted(orders, key=lambda o: o.pk):
        order = order_lock(order)
        if order.status == S.READY_TO_FULFILL:
            fulfillment_start(order=order, actor=actor)
        for parcel in order.shipments.select_related("warehouse").filter(
            status=Shipment.Status.PICKING, pick_entry__isnull=True
        ):
            by_warehouse[parcel.warehouse_id].append(parcel)
            warehouses[parcel.warehouse_id] = parcel.warehouse
    if not by_warehouse:
        raise ShipmentError(_("None of the selected orders has anything left to pick."))
    return [
        pick_list_create(
            warehouse=warehouses[warehouse_id],
            shipments=parcels,
            actor=actor,
            filters={"orders": sorted({p.order.number for p in parcels})},
        )
        for warehouse_id, parcels in sorted(by_warehouse.items())
    ]


@transaction.atomic
def short_pick_report(
    *,
    pick_list: PickList,
    product,
    quantity: int,
    reason: str,
    actor: Actor,
) -> ShortPick:
    """Record units missing or damaged at the bin, correct the stock and re-allocate the orders hit.

    The orders last on the list lose their parcels first, until the short units are
    covered; each is taken off the list, its stock released, the missing units
    written off by an adjustment, and the order sent back through allocation (it is
    reserved again elsewhere, or waits as a backorder).
    """
    from orders.services import order_process  # orders builds on fulfillment

    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise ShipmentError(_("Units short must be a whole number, 1 or more."))
    if reason not in ShortPick.Reason.values:
        raise ShipmentError(_("Choose why the units are short."))
    pick_list = PickList.objects.select_for_update().get(pk=pick_list.pk)
    wanted = _units_on_list(pick_list, product.pk)
    if not wanted:
        raise ShipmentError(
            _("Pick list %(number)s has no %(sku)s to pick.")
            % {"number": pick_list.number, "sku": product.sku}
        )
    if quantity > sum(units for _parcel, units in wanted):
        raise ShipmentError(
            _("Pick list %(number)s asks for only %(units)d of %(sku)s.")
            % {
                "number": pick_list.number,
                "units": sum(units for _parcel, units in wanted),
                "sku": product.sku,
            }
        )
    hit, covered = [], 0
    for parcel, units in reversed(wanted):
        if covered >= quantity:
            break
        hit.append(parcel)
        covered += units
    bin_code = bin_codes(warehouse_id=pick_list.warehouse_id, product_ids=[product.pk])
    label = ShortPick.Reason(reason).label
    message = _(
        "Short pick on %(number)s: %(sku)s × %(units)d %(reason)s at %(bin)s."
    ) % {
        "number": pick_list.number,
        "sku": product.sku,
        "units": quantity,
        "reason": label,
        "bin": bin_code.get(product.pk) or "—",
    }
    orders = []
    for parcel in hit:
        order = order_lock(parcel.order)
        if order.status != S.IN_FULFILLMENT:
            raise ShipmentError(
                _(
                    "Order %(order)s is %(status)s; report its short pick from the"
                    " order page."
                )
                % {"order": order.number, "status": order.get_status_display()}
            )
        PickListParcel.objects.filter(shipment__order=order).delete()
        shipments_cancel_open(order=order, actor=actor)
        stock_release_for_order(order=order, actor=actor, reason=message)
        orders.append(order)
    stock_adjust(
        product=product,
        warehouse=pick_list.warehouse,
        delta=-quantity,
        reason=message,
        reference=pick_list.number,
        actor=actor,
    )
    for order in orders:
        order = order_transition(
            order=order,
            to_status=S.BACKORDERED,
            actor=actor,
            message=message,
            data={"pick_list": pick_list.number, "short_sku": product.sku},
        )
        order_process(order=order, actor=actor)
    return ShortPick.objects.create(
        pick_list=pick_list,
        product=product,
        quantity=quantity,
        reason=reason,
        bin_code=bin_code.get(product.pk, ""),
        orders=[o.number for o in orders],
        created_by=actor_fields(actor)["actor"],
    )


def _units_on_list(pick_list, product_id) -> list[tuple[Shipment, int]]:
    """Return (parcel, units of the product) for parcels on the list, in slot order."""
    units: dict[int, int] = defaultdict(int)
    parcels = {}
    entries = (
        PickListParcel.objects.filter(
            pick_list=pick_list, shipment__status=Shipment.Status.PICKING
        )
        .select_related("shipment__order")
        .prefetch_related("shipment__lines__order_line")
        .order_by("position")
    )
    for entry in entries:
        for line in entry.shipment.lines.all():
            if line.order_line.product_id == product_id:
                units[entry.shipment_id] += line.quantity
                parcels[entry.shipment_id] = entry.shipment
    return [(parcels[pk], units[pk]) for pk in parcels]


@transaction.atomic
def pick_list_close(*, pick_list: PickList, actor: Actor) -> PickList:
    """Mark the list picked; its parcels go on to the pack station."""
    pick_list = PickList.objects.select_for_update().get(pk=pick_list.pk)
    pick_list.status = PickList.Status.DONE
    pick_list.save(update_fields=["status"])
    return pick_list
