"""Allocation: which warehouse (or warehouses) an order's stock is reserved in.

Planning is pure: it works on the free units ``stock_reserve`` counted under its row
locks, so a batch of thousands of orders costs no query per order. The strategy is the
``ALLOCATION_STRATEGY`` setting:

- ``priority``: the first warehouse by ``Warehouse.priority`` that can ship the whole
  order. With splitting allowed, each line comes from the highest-priority warehouses
  that hold it, even when a lower one could ship everything (a strict priority list).
- ``nearest``: warehouses are ranked for the destination province by the region table
  (``WarehouseRegion``), then those in the province itself, then the rest by priority;
  the nearest warehouse that can ship everything wins, otherwise (split allowed) lines
  come from the nearest warehouses first.
- ``whole_order``: a warehouse that can ship everything wins; otherwise the split starts
  with the warehouse covering the most units.
- ``fewest_parcels``: the smallest set of warehouses that covers the order.

``ALLOCATION_ALLOW_SPLIT`` (default off) decides whether an order may be reserved in
several warehouses at all; without it an order is whole in one warehouse or waits.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.translation import gettext as _

from inventory.exceptions import StockError
from inventory.models import Reservation, StockLevel, StockMovement, WarehouseRegion

STRATEGIES = ("priority", "nearest", "whole_order", "fewest_parcels")
# Beyond this many candidate warehouses fewest_parcels falls back to a greedy cover.
EXACT_COVER_LIMIT = 8

Plan = dict[int, dict[int, int]]  # warehouse id -> product id -> units


@dataclass
class AllocationPolicy:
    strategy: str = "priority"
    allow_split: bool = False
    # province -> warehouse ids, nearest first (only read by ``nearest``)
    regions: dict[str, list[int]] = field(default_factory=dict)


def allocation_policy(*, provinces=()) -> AllocationPolicy:
    """Return the configured strategy, with the region table for these provinces."""
    strategy = settings.ALLOCATION_STRATEGY
    if strategy not in STRATEGIES:
        raise ImproperlyConfigured(
            f"ALLOCATION_STRATEGY must be one of {', '.join(STRATEGIES)}, not {strategy!r}"
        )
    regions: dict[str, list[int]] = defaultdict(list)
    if strategy == "nearest" and provinces:
        rows = WarehouseRegion.objects.filter(province__in=set(provinces)).order_by(
            "province", "rank", "warehouse__priority", "warehouse_id"
        )
        for province, warehouse_id in rows.values_list("province", "warehouse_id"):
            regions[province].append(warehouse_id)
    return AllocationPolicy(
        strategy=strategy,
        allow_split=settings.ALLOCATION_ALLOW_SPLIT,
        regions=dict(regions),
    )


def warehouses_ranked(*, warehouses, policy: AllocationPolicy, province: str) -> list:
    """Return the warehouses in the order the strategy tries them for this destination.

    ``nearest``: the region table's ranking for the province first, then warehouses
    in the province itself, then the rest, each group by priority.
    """
    if policy.strategy != "nearest" or not province:
        return warehouses
    position = {w_id: i for i, w_id in enumerate(policy.regions.get(province, ()))}

    def distance(warehouse):
        if warehouse.pk in position:
            return (0, position[warehouse.pk])
        return (1 if warehouse.province == province else 2, 0)

    # sorted() is stable: within a group the priority order stays.
    return sorted(warehouses, key=distance)


def _covers(warehouse_id, units, free) -> bool:
    return all(free.get((warehouse_id, pid), 0) >= q for pid, q in units.items())


def _fill(ranked_ids, units, free) -> Plan:
    """Return what each warehouse gives, taking every line from the first ones that hold it."""
    plan: Plan = defaultdict(dict)
    for pid, wanted in units.items():
        for warehouse_id in ranked_ids:
            if wanted <= 0:
                break
            take = min(max(free.get((warehouse_id, pid), 0), 0), wanted)
            if take > 0:
                plan[warehouse_id][pid] = take
                wanted -= take
    return dict(plan)


def _units_covered(warehouse_id, units, free) -> int:
    return sum(
        min(max(free.get((warehouse_id, pid), 0), 0), q) for pid, q in units.items()
    )


def _fewest(ranked_ids, units, free) -> list[int] | None:
    """Return the smallest set of warehouses whose free units cover the order, or None."""
    candidates = [w for w in ranked_ids if _units_covered(w, units, free)]
    if len(candidates) > EXACT_COVER_LIMIT:
        return None
    for size in range(2, len(candidates) + 1):
        for chosen in combinations(candidates, size):
            if all(
                sum(max(free.get((w, pid), 0), 0) for w in chosen) >= q
                for pid, q in units.items()
            ):
                return list(chosen)
    return None


def _by_coverage(ranked_ids, units, free) -> list[int]:
    """Return the warehouses, the one covering the most of what is still missing first."""
    left = dict(units)
    order, pool = [], list(ranked_ids)
    while pool and any(left.values()):
        best = max(pool, key=lambda w: _units_covered(w, left, free))
        pool.remove(best)
        order.append(best)
        for pid in left:
            left[pid] -= min(max(free.get((best, pid), 0), 0), left[pid])
    return order + pool


def allocation_plan(
    *, units: dict[int, int], ranked: list, free: dict, policy: AllocationPolicy
) -> Plan | None:
    """Return units to reserve per warehouse for the whole order, or None when it cannot be covered.

    ``ranked`` are the warehouses in the strategy's order (``warehouses_ranked``);
    ``free`` maps (warehouse id, product id) to units free now.
    """
    ids = [w.pk for w in ranked]
    strict_priority = policy.allow_split and policy.strategy == "priority"
    if not strict_priority:
        for warehouse_id in ids:
            if _covers(warehouse_id, units, free):
                return {warehouse_id: dict(units)}
    if not policy.allow_split:
        return None
    if policy.strategy == "fewest_parcels":
        chosen = _fewest(ids, units, free)
        ids = chosen if chosen is not None else _by_coverage(ids, units, free)
    elif policy.strategy == "whole_order":
        ids = _by_coverage(ids, units, free)
    plan = _fill(ids, units, free)
    got = defaultdict(int)
    for taken in plan.values():
        for pid, q in taken.items():
            got[pid] += q
    if any(got[pid] < q for pid, q in units.items()):
        return None
    return plan


def allocation_plan_partial(
    *, units: dict[int, int], ranked: list, free: dict, policy: AllocationPolicy
) -> Plan:
    """Return as much of the order as can be reserved now (the rest stays owed).

    Split allowed: from every warehouse in the strategy's order. Otherwise from the one
    warehouse that covers the most units.
    """
    ids = [w.pk for w in ranked]
    if policy.allow_split:
        return _fill(ids, units, free)
    best = max(ids, key=lambda w: _units_covered(w, units, free), default=None)
    if best is None or not _units_covered(best, units, free):
        return {}
    return _fill([best], units, free)


@transaction.atomic
def reservation_move(*, order, warehouse, actor, product_ids=None) -> int:
    """Move the order's reserved units (all, or of these products) to ``warehouse``.

    One transaction: the source and target stock rows are locked together in primary-key
    order, each source gets a release movement and the target a reserve movement. Refused
    with every shortfall listed when the target lacks free stock. Returns units moved.
    """
    # Imported here: inventory.services imports this module for planning.
    from inventory.services import _locked_levels, _movement_actor

    query = order.reservations.select_for_update(of=("self",)).exclude(
        warehouse=warehouse
    )
    if product_ids is not None:
        query = query.filter(product_id__in=product_ids)
    moving = list(query.select_related("product").order_by("pk"))
    if not moving:
        raise StockError(_("Nothing reserved for this order can move there."))
    pids = {r.product_id for r in moving}
    levels = _locked_levels(pids, {r.warehouse_id for r in moving} | {warehouse.pk})
    level_at = {(lv.warehouse_id, lv.product_id): lv for lv in levels}
    wanted: dict[int, int] = defaultdict(int)
    for r in moving:
        wanted[r.product_id] += r.quantity
    short = []
    for r in moving:
        if r.product_id not in wanted:
            continue
        target = level_at.get((warehouse.pk, r.product_id))
        available = target.available if target else 0
        if available < wanted[r.product_id]:
            short.append(
                _("%(sku)s: %(wanted)d wanted, %(available)d free")
                % {
                    "sku": r.product.sku,
                    "wanted": wanted[r.product_id],
                    "available": max(available, 0),
                }
            )
        del wanted[r.product_id]
    if short:
        raise StockError(
            _("%(warehouse)s does not have enough stock: %(detail)s")
            % {"warehouse": warehouse.name, "detail": "; ".join(short)}
        )
    reason = _("Moved to %(warehouse)s for order %(number)s") % {
        "warehouse": warehouse.name,
        "number": order.number,
    }
    delta: dict[int, int] = defaultdict(int)  # stock level pk -> reserved change
    movements = []
    into: dict[int, int] = defaultdict(int)
    for r in moving:
        delta[level_at[(r.warehouse_id, r.product_id)].pk] -= r.quantity
        delta[level_at[(warehouse.pk, r.product_id)].pk] += r.quantity
        into[r.product_id] += r.quantity
        movements.append(
            StockMovement(
                product_id=r.product_id,
                warehouse_id=r.warehouse_id,
                kind=StockMovement.Kind.RELEASED,
                reserved_delta=-r.quantity,
                order=order,
                reason=reason,
                **_movement_actor(actor),
            )
        )
    movements += [
        StockMovement(
            product_id=pid,
            warehouse=warehouse,
            kind=StockMovement.Kind.RESERVED,
            reserved_delta=q,
            order=order,
            reason=reason,
            **_movement_actor(actor),
        )
        for pid, q in into.items()
    ]
    for level_pk in sorted(delta):
        level = next(lv for lv in levels if lv.pk == level_pk)
        level.reserved += delta[level_pk]
        if not 0 <= level.reserved <= level.on_hand:
            raise StockError(_("Stock changed while it was being reserved."))
        StockLevel.objects.filter(pk=level_pk).update(reserved=level.reserved)
    Reservation.objects.filter(pk__in=[r.pk for r in moving]).delete()
    for pid, q in into.items():
        existing = order.reservations.filter(
            product_id=pid, warehouse=warehouse
        ).first()
        if existing:
            existing.quantity += q
            existing.save(update_fields=["quantity"])
        else:
            Reservation.objects.create(
                order=order, product_id=pid, warehouse=warehouse, quantity=q
            )
    StockMovement.objects.bulk_create(movements)
    return sum(into.values())
