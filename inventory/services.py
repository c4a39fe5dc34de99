"""Stock changes. Each one locks the stock rows it touches, in primary-key order so two
transactions never wait on each other in a circle, and writes a movement per change."""

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from config.bulk import bulk_insert
from inventory.exceptions import StockError
from inventory.models import Product, Reservation, StockLevel, StockMovement, Warehouse
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


def _locked_levels(product_ids, warehouse_ids=None) -> list[StockLevel]:
    qs = StockLevel.objects.filter(product_id__in=product_ids)
    if warehouse_ids is not None:
        qs = qs.filter(warehouse_id__in=warehouse_ids)
    return list(
        qs.select_for_update(of=("self",)).select_related("product").order_by("pk")
    )


@dataclass
class Demand:
    """What one order needs: units per product id."""

    order: object
    units: dict[int, int]


def demand_for_order(order) -> Demand:
    units: dict[int, int] = defaultdict(int)
    for line in order.lines.all():
        units[line.product_id] += line.quantity
    return Demand(order=order, units=dict(units))


@transaction.atomic
def stock_reserve_for_order(*, order, actor) -> list[Shortage]:
    """Reserve every line of the order in one warehouse; return the shortages, if any."""
    if order.reservations.exists():
        return []
    return stock_reserve(demands=[demand_for_order(order)], actor=actor)[order.pk]


@transaction.atomic
def stock_reserve(*, demands: list[Demand], actor) -> dict[int, list[Shortage]]:
    """Reserve stock for orders in the given order (oldest first); return shortages per order.

    Each order is reserved whole in one warehouse, tried by priority. When none can
    ship it, nothing is reserved for it and every line short in the warehouse that
    comes closest is reported at once. Stock rows are locked once for the whole batch,
    in primary-key order; the counts are kept in memory and written once per row,
    each write guarded so reserved can never pass on hand.
    """
    warehouses = list(
        Warehouse.objects.filter(active=True).order_by("priority", "code")
    )
    product_ids = {pid for d in demands for pid in d.units}
    levels = _locked_levels(product_ids, [w.pk for w in warehouses])
    level_at = {(lv.warehouse_id, lv.product_id): lv for lv in levels}
    free = {key: lv.available for key, lv in level_at.items()}
    names = _product_names(product_ids, levels)
    added: dict[tuple[int, int], int] = defaultdict(int)
    reservations, movements, result = [], [], {}
    for demand in demands:
        best = None
        for warehouse in warehouses:
            short = [
                Shortage(
                    *names[pid],
                    wanted=q,
                    available=max(free.get((warehouse.pk, pid), 0), 0),
                )
                for pid, q in demand.units.items()
                if free.get((warehouse.pk, pid), 0) < q
            ]
            if not short:
                for pid, q in demand.units.items():
                    free[(warehouse.pk, pid)] -= q
                    added[(warehouse.pk, pid)] += q
                reservations += [
                    Reservation(
                        order=demand.order,
                        product_id=pid,
                        warehouse=warehouse,
                        quantity=q,
                    )
                    for pid, q in demand.units.items()
                ]
                movements += _reserved_movements(demand, warehouse, actor)
                best = []
                break
            if best is None or len(short) < len(best):
                best = short
        result[demand.order.pk] = (
            best
            if best is not None
            else [
                Shortage(*names[pid], wanted=q, available=0)
                for pid, q in demand.units.items()
            ]
        )
    _levels_add_reserved({level_at[key].pk: q for key, q in added.items()})
    bulk_insert(Reservation, reservations)
    bulk_insert(StockMovement, movements)
    return result


def _levels_add_reserved(units: dict[int, int]):
    """Add reserved units to many stock rows in one guarded statement.

    ``UPDATE … FROM`` a list of values (PostgreSQL, SQLite ≥ 3.33): a CASE over
    hundreds of rows costs the database a comparison per row and branch.
    """
    if not units:
        return
    table = connection.ops.quote_name(StockLevel._meta.db_table)
    values = ", ".join(["(%s, %s)"] * len(units))
    # VALUES columns are column1, column2 in both databases.
    sql = (
        f"UPDATE {table} SET reserved = {table}.reserved + added.column2 "
        f"FROM (VALUES {values}) AS added "
        f"WHERE {table}.id = added.column1 "
        f"AND {table}.on_hand >= {table}.reserved + added.column2"
    )
    params = [number for pair in units.items() for number in pair]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        updated = cursor.rowcount
    if updated != len(units):
        # Cannot happen under the row locks; the guard keeps the books safe anyway.
        raise StockError(_("Stock changed while it was being reserved."))


def _product_names(product_ids, levels) -> dict[int, tuple[str, str]]:
    names = {lv.product_id: (lv.product.sku, lv.product.name) for lv in levels}
    missing = set(product_ids) - names.keys()
    if missing:
        names.update(
            (p.pk, (p.sku, p.name)) for p in Product.objects.filter(pk__in=missing)
        )
    return names


def _reserved_movements(demand, warehouse, actor):
    reason = _("Reserved for order %(number)s") % {"number": demand.order.number}
    return [
        StockMovement(
            product_id=pid,
            warehouse=warehouse,
            kind=Kind.RESERVED,
            reserved_delta=q,
            order=demand.order,
            reason=reason,
            **_movement_actor(actor),
        )
        for pid, q in demand.units.items()
    ]


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
