"""Picking and shipping parcels, and the one function that derives an order's shipping state."""

import secrets
from collections import defaultdict

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.exceptions import ShipmentError
from fulfillment.models import Carrier, Shipment, ShipmentLine
from inventory.services import Demand, stock_consume_for_shipment, stock_reserve
from orders.events import Actor, actor_fields, order_event_record
from orders.exceptions import InvalidTransition
from orders.lifecycle import order_lock, order_transition
from orders.models import Order, OrderEvent
from tracking.notifications import notification_queue_for_order

S = Order.Status
OPEN = (Shipment.Status.PICKING, Shipment.Status.PACKED)


@transaction.atomic
def fulfillment_start(*, order: Order, actor: Actor) -> list[Shipment]:
    """Start picking: one parcel per warehouse that holds the order's reserved stock.

    A partially shipped order whose owed rest has been reserved (a split backorder)
    gets the new parcels and stays partially shipped until they leave.
    """
    order = order_lock(order)
    rest = order.status == S.PARTIALLY_SHIPPED and order.reservations.exists()
    if order.status != S.READY_TO_FULFILL and not rest:
        raise InvalidTransition(order=order, to_status=S.IN_FULFILLMENT)
    if rest and order.shipments.filter(status__in=OPEN).exists():
        raise ShipmentError(_("The owed items are already being picked."))
    per_warehouse: dict[int, dict[int, int]] = defaultdict(dict)
    warehouses = {}
    for reservation in order.reservations.select_related("warehouse"):
        per_warehouse[reservation.warehouse_id][reservation.product_id] = (
            reservation.quantity
        )
        warehouses[reservation.warehouse_id] = reservation.warehouse
    lines_by_product = defaultdict(list)
    for line in order.lines.all():
        lines_by_product[line.product_id].append(line)
    shipments = []
    for warehouse_id, quantities in per_warehouse.items():
        shipment = Shipment.objects.create(
            order=order, warehouse=warehouses[warehouse_id]
        )
        ShipmentLine.objects.bulk_create(
            _shipment_lines(
                shipment, quantities, lines_by_product, _already_in_parcels(order)
            )
        )
        shipments.append(shipment)
    if rest:
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.SHIPMENT,
            actor=actor,
            message=_("Picking started for the owed items: %(count)d parcel(s).")
            % {"count": len(shipments)},
        )
        return shipments
    order_transition(
        order=order,
        to_status=S.IN_FULFILLMENT,
        actor=actor,
        message=_("Picking started: %(count)d parcel(s).") % {"count": len(shipments)},
    )
    return shipments


def _already_in_parcels(order) -> dict[int, int]:
    rows = (
        ShipmentLine.objects.filter(shipment__order=order)
        .exclude(shipment__status=Shipment.Status.CANCELLED)
        .values("order_line_id")
        .annotate(quantity=Sum("quantity"))
    )
    return {row["order_line_id"]: row["quantity"] for row in rows}


def _shipment_lines(shipment, quantities, lines_by_product, taken):
    for product_id, quantity in quantities.items():
        for line in lines_by_product[product_id]:
            free = line.quantity - taken.get(line.pk, 0)
            step = min(free, quantity)
            if step > 0:
                taken[line.pk] = taken.get(line.pk, 0) + step
                quantity -= step
                yield ShipmentLine(shipment=shipment, order_line=line, quantity=step)


def demo_tracking_number() -> str:
    """Return a tracking number in the demo carrier's format."""
    return f"DEMO{secrets.randbelow(10**10):010d}"


@transaction.atomic
def shipment_ship(
    *,
    shipment: Shipment,
    carrier: Carrier,
    tracking_number: str,
    actor: Actor,
    weight_kg=None,
) -> Shipment:
    """Hand the parcel to the carrier: stock leaves the shelf, the order follows, the customer hears."""
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("order")
        .get(pk=shipment.pk)
    )
    if shipment.status not in OPEN:
        raise ShipmentError(_("This parcel has already left or was cancelled."))
    tracking_number = tracking_number.strip().upper()
    if not tracking_number:
        raise ShipmentError(_("Enter the tracking number."))
    # The parcel may carry the number already: it was given before its label printed.
    if (
        Shipment.objects.filter(carrier=carrier, tracking_number=tracking_number)
        .exclude(pk=shipment.pk)
        .exists()
    ):
        raise ShipmentError(
            _("Tracking number %(number)s is already used on another parcel.")
            % {"number": tracking_number}
        )
    quantities: dict[int, int] = defaultdict(int)
    for line in shipment.lines.select_related("order_line"):
        quantities[line.order_line.product_id] += line.quantity
    stock_consume_for_shipment(
        order=shipment.order,
        warehouse=shipment.warehouse,
        quantities=quantities,
        actor=actor,
    )
    shipment.carrier = carrier
    shipment.tracking_number = tracking_number
    shipment.status = Shipment.Status.SHIPPED
    shipment.shipped_at = timezone.now()
    shipment.shipped_by = actor_fields(actor)["actor"]
    if weight_kg is not None:
        shipment.weight_kg = weight_kg
    shipment.save()
    from tracking.services import parcel_watch_start  # tracking builds on fulfillment

    parcel_watch_start(shipment=shipment)
    from billing.journal import (  # books beside
        journal_carrier_charge_post,
        journal_cogs_post,
        journal_sale_post,
    )

    shipped_on = timezone.localdate(shipment.shipped_at)
    journal_cogs_post(shipment=shipment, date=shipped_on)
    journal_carrier_charge_post(shipment=shipment, date=shipped_on)
    journal_sale_post(order=shipment.order, moment="shipment", date=shipped_on)
    order_event_record(
        order=shipment.order,
        kind=OrderEvent.Kind.SHIPMENT,
        actor=actor,
        message=_("Parcel shipped with %(carrier)s, tracking number %(number)s")
        % {"carrier": carrier.name, "number": tracking_number},
        data={"shipment": shipment.pk},
    )
    order_shipping_status_refresh(order=shipment.order, actor=actor)
    notification_queue_for_order(
        order=shipment.order,
        template="shipped",
        key=f"shipment-{shipment.pk}",
        extra={"carrier": carrier.name, "tracking_number": tracking_number},
    )
    return shipment


@transaction.atomic
def shipment_mark_delivered(
    *, shipment: Shipment, actor: Actor, delivered_at=None
) -> Shipment:
    """Record that the parcel reached the customer, and let the order follow."""
    shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if shipment.status == Shipment.Status.DELIVERED:
        return shipment
    if shipment.status != Shipment.Status.SHIPPED:
        raise ShipmentError(_("Only a parcel that has shipped can be delivered."))
    shipment.status = Shipment.Status.DELIVERED
    shipment.delivered_at = delivered_at or timezone.now()
    shipment.save(update_fields=["status", "delivered_at"])
    order = order_shipping_status_refresh(order=shipment.order, actor=actor)
    if order.status == Order.Status.DELIVERED:
        from billing.journal import journal_sale_post  # books beside

        journal_sale_post(
            order=order,
            moment="delivery",
            date=timezone.localdate(shipment.delivered_at),
        )
    return shipment


@transaction.atomic
def shipments_cancel_open(*, order: Order, actor: Actor) -> int:
    """Stop picking every parcel of the order that has not left; return how many."""
    count = order.shipments.filter(status__in=OPEN).update(
        status=Shipment.Status.CANCELLED
    )
    if count:
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.SHIPMENT,
            actor=actor,
            message=_("Picking stopped for %(count)d parcel(s).") % {"count": count},
        )
    return count


@transaction.atomic
def order_shipping_status_refresh(*, order: Order, actor: Actor) -> Order:
    """Derive partially shipped / shipped / delivered from the order's parcels.

    The only place these statuses are decided; shipping and tracking both call it.
    """
    order = order_lock(order)
    ordered = sum(line.quantity for line in order.lines.all())
    # A replaced parcel (lost or returned) is counted by its replacement instead.
    parcels = list(
        order.shipments.exclude(
            status__in=(Shipment.Status.CANCELLED, Shipment.Status.REPLACED)
        )
    )
    left = [
        p
        for p in parcels
        if p.status in (Shipment.Status.SHIPPED, Shipment.Status.DELIVERED)
    ]
    shipped_units = (
        ShipmentLine.objects.filter(shipment__in=left).aggregate(n=Sum("quantity"))["n"]
        or 0
    )
    if shipped_units == 0:
        return order
    target = S.SHIPPED if shipped_units >= ordered else S.PARTIALLY_SHIPPED
    if target == S.SHIPPED and all(p.status == Shipment.Status.DELIVERED for p in left):
        target = S.DELIVERED
    rank = {S.IN_FULFILLMENT: 0, S.PARTIALLY_SHIPPED: 1, S.SHIPPED: 2, S.DELIVERED: 3}
    if order.status not in rank or rank[target] <= rank[order.status]:
        return order
    if target == S.DELIVERED and order.status != S.SHIPPED:
        order = order_transition(order=order, to_status=S.SHIPPED, actor=actor)
    return order_transition(order=order, to_status=target, actor=actor)


@transaction.atomic
def shipment_replace(
    *, shipment: Shipment, actor: Actor, reason: str = ""
) -> list[Shipment]:
    """Send a lost or returned parcel's goods again: stock reserved anew, new parcels to pick.

    The old parcel becomes ``replaced`` and no longer counts towards the order's
    shipping status; its replacement is shipped like any parcel. Every shortage is
    reported at once and nothing is changed when stock is short.
    """
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("order")
        .get(pk=shipment.pk)
    )
    if shipment.status != Shipment.Status.SHIPPED:
        raise ShipmentError(
            _("Only a parcel that has left and not been delivered can be replaced.")
        )
    order = order_lock(shipment.order)
    if order.reservations.exists():
        raise ShipmentError(
            _(
                "The order still holds reserved stock; ship or release it before"
                " sending a replacement."
            )
        )
    units: dict[int, int] = defaultdict(int)
    lines_by_product = defaultdict(list)
    for line in shipment.lines.select_related("order_line"):
        units[line.order_line.product_id] += line.quantity
        lines_by_product[line.order_line.product_id].append(line)
    shortages = stock_reserve(
        demands=[Demand(order=order, units=dict(units))], actor=actor
    )[order.pk]
    if shortages:
        raise ShipmentError(
            _("Not enough stock to send the parcel again: %(items)s")
            % {
                "items": ", ".join(
                    _("%(sku)s short by %(missing)d")
                    % {"sku": s.sku, "missing": s.missing}
                    for s in shortages
                )
            }
        )
    per_warehouse: dict[int, dict[int, int]] = defaultdict(dict)
    warehouses = {}
    for reservation in order.reservations.select_related("warehouse"):
        per_warehouse[reservation.warehouse_id][reservation.product_id] = (
            reservation.quantity
        )
        warehouses[reservation.warehouse_id] = reservation.warehouse
    replacements = []
    for warehouse_id, quantities in per_warehouse.items():
        replacement = Shipment.objects.create(
            order=order, warehouse=warehouses[warehouse_id]
        )
        new_lines = []
        for product_id, quantity in quantities.items():
            for old in lines_by_product[product_id]:
                step = min(old.quantity, quantity)
                if step > 0:
                    new_lines.append(
                        ShipmentLine(
                            shipment=replacement,
                            order_line_id=old.order_line_id,
                            quantity=step,
                        )
                    )
                    quantity -= step
        ShipmentLine.objects.bulk_create(new_lines)
        replacements.append(replacement)
    shipment.status = Shipment.Status.REPLACED
    shipment.save(update_fields=["status"])
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.SHIPMENT,
        actor=actor,
        message=_(
            "Parcel %(parcel)s replaced by %(new)s, to be picked and shipped again."
        )
        % {
            "parcel": shipment.tracking_number,
            "new": ", ".join(f"#{r.pk}" for r in replacements),
        },
        data={
            "shipment": shipment.pk,
            "replacements": [r.pk for r in replacements],
            "reason": reason,
        },
    )
    return replacements
