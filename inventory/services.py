"""Stock changes. Each one locks the stock rows it touches, in primary-key order so two
transactions never wait on each other in a circle, and writes a movement per change."""

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from inventory.exceptions import StockError
from inventory.models import Reservation, StockLevel, StockMovement, Warehouse
from orders.events import actor_fields

Kind = StockMovement.Kind


@dataclass(frozen=True)
class Shortage:
    sku: str
    name: str
    wanted: int
    available: int

    @property
    def missing(self):
        return self.wanted - self.available


def _movement_actor(actor):
    return {"actor": actor_fields(actor)["actor"]}


def _needed_per_product(order) -> dict[int, int]:
    wanted: dict[int, int] = defaultdict(int)
    for line in order.lines.all():
        wanted[line.product_id] += line.quantity
    return dict(wanted)


def _locked_levels(product_ids, warehouse_ids=None) -> list[StockLevel]:
    qs = StockLevel.objects.filter(product_id__in=product_ids)
    if warehouse_ids is not None:
        qs = qs.filter(warehouse_id__in=warehouse_ids)
    return list(
        qs.select_for_update(of=("self",)).select_related("product").order_by("pk")
    )


@transaction.atomic
def stock_reserve_for_order(*, order, actor) -> list[Shortage]:
    """Reserve every line of the order in one warehouse; return the shortages, if any.

    Warehouses are tried by priority; the first that can ship the whole order takes it.
    When none can, nothing is reserved and every line short in the best warehouse is
    reported at once.
    """
    if order.reservations.exists():
        return []
    wanted = _needed_per_product(order)
    warehouses = list(
        Warehouse.objects.filter(active=True).order_by("priority", "code")
    )
    levels = _locked_levels(wanted.keys(), [w.pk for w in warehouses])
    by_warehouse: dict[int, dict[int, StockLevel]] = defaultdict(dict)
    for level in levels:
        by_warehouse[level.warehouse_id][level.product_id] = level

    best_shortages = None
    for warehouse in warehouses:
        stock = by_warehouse.get(warehouse.pk, {})
        shortages = _shortages(order, wanted, stock)
        if not shortages:
            _reserve(
                order=order,
                warehouse=warehouse,
                wanted=wanted,
                stock=stock,
                actor=actor,
            )
            return []
        if best_shortages is None or len(shortages) < len(best_shortages):
            best_shortages = shortages
    return (
        best_shortages if best_shortages is not None else _shortages(order, wanted, {})
    )


def _shortages(order, wanted, stock) -> list[Shortage]:
    names = {line.product_id: (line.sku, line.name) for line in order.lines.all()}
    result = []
    for product_id, quantity in wanted.items():
        level = stock.get(product_id)
        available = level.available if level else 0
        if available < quantity:
            sku, name = names[product_id]
            result.append(
                Shortage(
                    sku=sku, name=name, wanted=quantity, available=max(available, 0)
                )
            )
    return result


def _reserve(*, order, warehouse, wanted, stock, actor):
    for product_id, quantity in wanted.items():
        updated = StockLevel.objects.filter(
            pk=stock[product_id].pk, on_hand__gte=F("reserved") + quantity
        ).update(reserved=F("reserved") + quantity)
        if (
            not updated
        ):  # cannot happen under the row lock; the guard keeps the books safe
            raise StockError(_("Stock changed while it was being reserved."))
    Reservation.objects.bulk_create(
        Reservation(order=order, product_id=pid, warehouse=warehouse, quantity=q)
        for pid, q in wanted.items()
    )
    StockMovement.objects.bulk_create(
        StockMovement(
            product_id=pid,
            warehouse=warehouse,
            kind=Kind.RESERVED,
            reserved_delta=q,
            order=order,
            reason=_("Reserved for order %(number)s") % {"number": order.number},
            **_movement_actor(actor),
        )
        for pid, q in wanted.items()
    )


@transaction.atomic
def stock_release_for_order(*, order, actor, reason="") -> int:
    """Give back every unit still reserved for the order; return how many units."""
    reservations = list(order.reservations.all())
    if not reservations:
        return 0
    levels = _locked_levels(
        {r.product_id for r in reservations}, {r.warehouse_id for r in reservations}
    )
    index = {(lv.product_id, lv.warehouse_id): lv for lv in levels}
    for r in reservations:
        StockLevel.objects.filter(pk=index[(r.product_id, r.warehouse_id)].pk).update(
            reserved=F("reserved") - r.quantity
        )
    StockMovement.objects.bulk_create(
        StockMovement(
            product_id=r.product_id,
            warehouse_id=r.warehouse_id,
            kind=Kind.RELEASED,
            reserved_delta=-r.quantity,
            order=order,
            reason=reason
            or _("Released from order %(number)s") % {"number": order.number},
            **_movement_actor(actor),
        )
        for r in reservations
    )
    order.reservations.all().delete()
    return sum(r.quantity for r in reservations)


@transaction.atomic
def stock_consume_for_shipment(*, order, warehouse, quantities: dict[int, int], actor):
    """Turn reserved units into shipped ones: on hand and reserved both go down.

    ``quantities`` maps product id to units leaving in this parcel; each must be
    covered by the order's reservation in that warehouse.
    """
    reservations = {
        r.product_id: r
        for r in order.reservations.select_for_update().filter(warehouse=warehouse)
    }
    levels = {
        lv.product_id: lv for lv in _locked_levels(quantities.keys(), [warehouse.pk])
    }
    for product_id, quantity in quantities.items():
        reservation = reservations.get(product_id)
        if reservation is None or reservation.quantity < quantity:
            raise StockError(
                _("This parcel holds more than was reserved for the order.")
            )
        StockLevel.objects.filter(pk=levels[product_id].pk).update(
            on_hand=F("on_hand") - quantity, reserved=F("reserved") - quantity
        )
        if reservation.quantity == quantity:
            reservation.delete()
        else:
            Reservation.objects.filter(pk=reservation.pk).update(
                quantity=F("quantity") - quantity
            )
    StockMovement.objects.bulk_create(
        StockMovement(
            product_id=pid,
            warehouse=warehouse,
            kind=Kind.SHIPPED,
            on_hand_delta=-q,
            reserved_delta=-q,
            order=order,
            reason=_("Shipped with order %(number)s") % {"number": order.number},
            **_movement_actor(actor),
        )
        for pid, q in quantities.items()
    )


@transaction.atomic
def stock_receive(*, product, warehouse, quantity: int, actor, reason="") -> StockLevel:
    """Add units that arrived at the warehouse (goods-in)."""
    if quantity <= 0:
        raise StockError(_("Quantity received must be a positive whole number."))
    level, _created = StockLevel.objects.get_or_create(
        product=product, warehouse=warehouse
    )
    StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + quantity)
    StockMovement.objects.create(
        product=product,
        warehouse=warehouse,
        kind=Kind.RECEIVED,
        on_hand_delta=quantity,
        reason=reason,
        **_movement_actor(actor),
    )
    level.refresh_from_db()
    return level
