"""Stock changes. Each one locks the stock rows it touches, in primary-key order so two
transactions never wait on each other in a circle, and writes a movement per change."""

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from config.bulk import bulk_insert
from inventory.allocation import (
    allocation_plan,
    allocation_plan_partial,
    allocation_policy,
    warehouses_ranked,
)
from inventory.exceptions import StockError
from inventory.models import (
    BinLocation,
    Product,
    Reservation,
    StockLevel,
    StockMovement,
    Warehouse,
)
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
    """What one order needs: units per product id.

    ``partial``: reserve what is there now and report the rest as short (a backorder
    that staff chose to split) instead of reserving nothing.
    """

    order: object
    units: dict[int, int]
    partial: bool = False


def demand_for_order(order) -> Demand:
    units: dict[int, int] = defaultdict(int)
    for line in order.lines.all():
        units[line.product_id] += line.quantity
    return Demand(order=order, units=dict(units))


@transaction.atomic
def stock_reserve_for_order(*, order, actor) -> list[Shortage]:
    """Reserve every line of the order as the allocation strategy says; return the shortages."""
    if order.reservations.exists():
        return []
    return stock_reserve(demands=[demand_for_order(order)], actor=actor)[order.pk]


@transaction.atomic
def stock_reserve(*, demands: list[Demand], actor) -> dict[int, list[Shortage]]:
    """Reserve stock for orders in the given order (oldest first); return shortages per order.

    Warehouses are chosen per order by the allocation strategy (``inventory.allocation``):
    whole in one warehouse, or split over several when ``ALLOCATION_ALLOW_SPLIT``. When
    the order cannot be covered, nothing is reserved for it (unless the demand is
    ``partial``) and every short line is reported at once. Stock rows are locked once
    for the whole batch, in primary-key order; the counts are kept in memory and
    written once per row, each write guarded so reserved can never pass on hand.
    """
    warehouses = list(
        Warehouse.objects.filter(active=True).order_by("priority", "code")
    )
    product_ids = {pid for d in demands for pid in d.units}
    levels = _locked_levels(product_ids, [w.pk for w in warehouses])
    level_at = {(lv.warehouse_id, lv.product_id): lv for lv in levels}
    free = {key: lv.available for key, lv in level_at.items()}
    names = _product_names(product_ids, levels)
    policy = allocation_policy(
        provinces={getattr(d.order, "province", "") for d in demands}
    )
    added: dict[tuple[int, int], int] = defaultdict(int)
    reservations, movements, result = [], [], {}
    for demand in demands:
        ranked = warehouses_ranked(
            warehouses=warehouses,
            policy=policy,
            province=getattr(demand.order, "province", ""),
        )
        plan = allocation_plan(
            units=demand.units, ranked=ranked, free=free, policy=policy
        )
        shortages = []
        if plan is None:
            shortages = _shortages(demand, ranked, free, names, policy)
            plan = (
                allocation_plan_partial(
                    units=demand.units, ranked=ranked, free=free, policy=policy
                )
                if demand.partial
                else {}
            )
            if demand.partial:
                shortages = _shortages_after(demand, plan, free, names)
        for warehouse_id, units in plan.items():
            for pid, q in units.items():
                free[(warehouse_id, pid)] -= q
                added[(warehouse_id, pid)] += q
                reservations.append(
                    Reservation(
                        order=demand.order,
                        product_id=pid,
                        warehouse_id=warehouse_id,
                        quantity=q,
                    )
                )
            movements += _reserved_movements(demand, warehouse_id, units, actor)
        result[demand.order.pk] = shortages
    _levels_add_reserved({level_at[key].pk: q for key, q in added.items()})
    bulk_insert(Reservation, reservations)
    bulk_insert(StockMovement, movements)
    return result


def _shortages(demand, ranked, free, names, policy) -> list[Shortage]:
    """Return every short line: in the warehouse that comes closest, or over all of them when split."""
    if policy.allow_split:
        return [
            Shortage(*names[pid], wanted=q, available=total)
            for pid, q in demand.units.items()
            if (total := sum(max(free.get((w.pk, pid), 0), 0) for w in ranked)) < q
        ]
    best = None
    for warehouse in ranked:
        short = [
            Shortage(
                *names[pid],
                wanted=q,
                available=max(free.get((warehouse.pk, pid), 0), 0),
            )
            for pid, q in demand.units.items()
            if free.get((warehouse.pk, pid), 0) < q
        ]
        if best is None or len(short) < len(best):
            best = short
    if best is None:
        return [
            Shortage(*names[pid], wanted=q, available=0)
            for pid, q in demand.units.items()
        ]
    return best


def _shortages_after(demand, plan, free, names) -> list[Shortage]:
    got: dict[int, int] = defaultdict(int)
    for units in plan.values():
        for pid, q in units.items():
            got[pid] += q
    return [
        Shortage(*names[pid], wanted=q, available=got[pid])
        for pid, q in demand.units.items()
        if got[pid] < q
    ]


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


def _reserved_movements(demand, warehouse_id, units, actor):
    reason = _("Reserved for order %(number)s") % {"number": demand.order.number}
    return [
        StockMovement(
            product_id=pid,
            warehouse_id=warehouse_id,
            kind=Kind.RESERVED,
            reserved_delta=q,
            order=demand.order,
            reason=reason,
            **_movement_actor(actor),
        )
        for pid, q in units.items()
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
def stock_receive(
    *, product, warehouse, quantity: int, actor, reason="", reference=""
) -> StockLevel:
    """Add units that arrived at the warehouse (goods-in); backorders are filled after commit.

    ``reference`` names the supplier's delivery note or purchase reference.
    """
    if quantity <= 0:
        raise StockError(_("Quantity received must be a positive whole number."))
    return _on_hand_add(
        level=_level_for_update(product, warehouse),
        delta=quantity,
        kind=Kind.RECEIVED,
        actor=actor,
        reason=reason,
        reference=reference,
    )


def _level_for_update(product, warehouse) -> StockLevel:
    """Return the product's stock row in the warehouse, created when missing, locked."""
    StockLevel.objects.get_or_create(product=product, warehouse=warehouse)
    return (
        StockLevel.objects.select_for_update(of=("self",))
        .select_related("product", "warehouse")
        .get(product=product, warehouse=warehouse)
    )


def _on_hand_add(
    *, level, delta, kind, actor, reason="", reference="", order=None
) -> StockLevel:
    """Change the locked row's units on hand by ``delta`` and write the movement."""
    StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + delta)
    StockMovement.objects.create(
        product_id=level.product_id,
        warehouse_id=level.warehouse_id,
        kind=kind,
        on_hand_delta=delta,
        order=order,
        reason=str(reason)[:200],
        reference=str(reference)[:100],
        **_movement_actor(actor),
    )
    level.refresh_from_db(fields=["on_hand", "reserved"])
    if delta > 0:
        _backorders_fill_on_commit([level.product_id])
    return level


def _backorders_fill_on_commit(product_ids):
    """Queue the backorder fill for these products once the new stock is committed.

    After commit, not inside the stock change: the receipt must land even when an
    order cannot be processed, and each order is then moved in its own short
    transaction instead of one long one holding every stock row. robust: a broker
    outage must not fail the saved receipt; the periodic sweep catches up.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return
    # inventory.tasks imports orders.services, which imports this module.
    from inventory.selectors import backorders_exist
    from inventory.tasks import backorders_fill

    def queue():
        # Checked after commit, so an order backordered meanwhile is seen too.
        if backorders_exist(ids):
            backorders_fill.delay(ids)

    transaction.on_commit(queue, robust=True)


@transaction.atomic
def stock_adjust(
    *, product, warehouse, delta: int, reason: str, actor, reference=""
) -> StockLevel:
    """Correct the units on hand by ``delta`` (found, damaged, lost); never below what is reserved."""
    if not delta:
        raise StockError(_("An adjustment must change the stock by at least one unit."))
    if not (reason or "").strip():
        raise StockError(_("Say why the stock is adjusted."))
    level = _level_for_update(product, warehouse)
    if level.on_hand + delta < level.reserved:
        raise StockError(
            _(
                "Cannot take %(units)d of %(sku)s out of %(warehouse)s: only "
                "%(free)d are not reserved for orders."
            )
            % {
                "units": -delta,
                "sku": product.sku,
                "warehouse": warehouse.name,
                "free": level.available,
            }
        )
    return _on_hand_add(
        level=level,
        delta=delta,
        kind=Kind.ADJUSTED,
        actor=actor,
        reason=reason,
        reference=reference,
    )


@transaction.atomic
def stock_return(
    *, product, warehouse, quantity: int, actor, order=None, reason="", reference=""
) -> StockLevel:
    """Put goods a customer sent back on hand again, tied to their order when known."""
    if quantity <= 0:
        raise StockError(_("Quantity returned must be a positive whole number."))
    if order is not None and not order.lines.filter(product=product).exists():
        raise StockError(
            _("Order %(number)s has no %(sku)s to return.")
            % {"number": order.number, "sku": product.sku}
        )
    if not reason:
        reason = (
            _("Returned from order %(number)s") % {"number": order.number}
            if order is not None
            else _("Returned by a customer")
        )
    return _on_hand_add(
        level=_level_for_update(product, warehouse),
        delta=quantity,
        kind=Kind.RETURNED,
        actor=actor,
        reason=reason,
        reference=reference,
        order=order,
    )


@transaction.atomic
def stocktake_post(
    *, warehouse, counts: dict, actor, reason="", reference=""
) -> list[StockMovement]:
    """Set each counted product's units on hand, posting every difference as a movement.

    ``counts`` maps products (or their ids) to the units counted. The rows are
    locked in primary-key order; a count below the units reserved for orders is
    refused, every such SKU named at once, and nothing is posted. Returns the
    movements written (none for products counted as recorded).
    """
    counts = {getattr(p, "pk", p): c for p, c in counts.items()}
    for counted in counts.values():
        if not isinstance(counted, int) or isinstance(counted, bool) or counted < 0:
            raise StockError(_("A count must be a whole number, 0 or more."))
    StockLevel.objects.bulk_create(
        [StockLevel(product_id=pid, warehouse=warehouse) for pid in counts],
        ignore_conflicts=True,
    )
    levels = _locked_levels(counts.keys(), [warehouse.pk])
    too_low = [lv for lv in levels if counts[lv.product_id] < lv.reserved]
    if too_low:
        raise StockError(
            _(
                "Counted fewer units than are reserved for orders; re-allocate or "
                "cancel those orders first: %(detail)s"
            )
            % {
                "detail": "; ".join(
                    _("%(sku)s counted %(counted)d, reserved %(reserved)d")
                    % {
                        "sku": lv.product.sku,
                        "counted": counts[lv.product_id],
                        "reserved": lv.reserved,
                    }
                    for lv in too_low
                )
            }
        )
    movements = []
    for level in levels:
        counted = counts[level.product_id]
        difference = counted - level.on_hand
        if not difference:
            continue
        StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + difference)
        movements.append(
            StockMovement(
                product_id=level.product_id,
                warehouse=warehouse,
                kind=Kind.STOCKTAKE,
                on_hand_delta=difference,
                reason=str(
                    reason
                    or _("Stocktake: counted %(counted)d, on record %(on_hand)d")
                    % {"counted": counted, "on_hand": level.on_hand}
                )[:200],
                reference=str(reference)[:100],
                **_movement_actor(actor),
            )
        )
    StockMovement.objects.bulk_create(movements)
    _backorders_fill_on_commit(m.product_id for m in movements if m.on_hand_delta > 0)
    return movements


@transaction.atomic
def stock_level_plan_update(
    *,
    level: StockLevel,
    reorder_point: int | None,
    safety_stock: int | None,
    lead_time_days: int | None,
    actor,
) -> StockLevel:
    """Set a stock level's replenishment figures; ``None`` goes back to the calculated or product's value.

    Only the planning figures change: units on hand and reserved are not touched, so
    no movement is written. ``actor`` is taken for the house rule; the figures carry
    no history of who set them.
    """
    values = {
        "reorder_point": reorder_point,
        "safety_stock": safety_stock,
        "lead_time_days": lead_time_days,
    }
    for name, value in values.items():
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise StockError(
                _("%(field)s must be a whole number, 0 or more.")
                % {"field": StockLevel._meta.get_field(name).verbose_name}
            )
    if lead_time_days is not None and lead_time_days > 365:
        raise StockError(_("A supplier lead time longer than a year is not accepted."))
    level = StockLevel.objects.select_for_update(of=("self",)).get(pk=level.pk)
    for name, value in values.items():
        setattr(level, name, value)
    level.save(update_fields=list(values))
    return level


@transaction.atomic
def bin_location_set(*, product, warehouse, code: str, actor) -> BinLocation | None:
    """Set where the product sits in the warehouse; an empty code clears it.

    Codes are kept upper case (what the shelf label and the scanner show). No stock
    moves, so no movement is written; ``actor`` is taken for the house rule.
    """
    code = (code or "").strip().upper()
    if len(code) > BinLocation._meta.get_field("code").max_length:
        raise StockError(_("A bin location has at most 32 characters."))
    if not code:
        BinLocation.objects.filter(product=product, warehouse=warehouse).delete()
        return None
    location, _created = BinLocation.objects.update_or_create(
        product=product, warehouse=warehouse, defaults={"code": code}
    )
    return location


def stock_low_alerts_record(*, now=None) -> list:
    """Send a "stock low" webhook for each level that fell to its reorder point since the last check.

    The reorder point follows sales velocity (``replenishment_rows``), so this runs
    periodically rather than on every movement. Each level is marked while it stays
    low, so it is announced once per fall; it is unmarked when it is above again.
    Returns the rows announced now.
    """
    from inventory.selectors import replenishment_rows
    from tracking.outbound_webhooks import stock_low_webhook_queue

    now = now or timezone.now()
    rows = replenishment_rows(now=now)
    StockLevel.objects.filter(
        pk__in=[r.level.pk for r in rows if not r.low and r.level.low_since]
    ).update(low_since=None)
    announced = []
    for row in rows:
        if not row.low or row.level.low_since:
            continue
        with transaction.atomic():
            # Only the check that marks the level announces it (two may overlap).
            marked = StockLevel.objects.filter(
                pk=row.level.pk, low_since__isnull=True
            ).update(low_since=now)
            if marked:
                stock_low_webhook_queue(row=row, now=now)
                announced.append(row)
    return announced
