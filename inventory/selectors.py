"""Reads of products and stock."""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Case,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory.models import (
    BinLocation,
    Product,
    Reservation,
    StockLevel,
    StockMovement,
)


def products_with_available() -> QuerySet[Product]:
    """Return the products on sale with ``available``: units on hand and not reserved.

    Only active warehouses count: stock is reserved from them alone.
    """
    in_stock = Q(stock_levels__warehouse__active=True)
    return Product.objects.filter(active=True).annotate(
        available=Coalesce(
            Sum(
                F("stock_levels__on_hand") - F("stock_levels__reserved"),
                filter=in_stock,
            ),
            0,
        )
    )


def products_search(q: str, *, limit: int = 10) -> list[Product]:
    """Return up to ``limit`` products on sale whose SKU, name or barcode matches q.

    An exact SKU or barcode comes first (a scanner's code adds the right product),
    then SKUs and names that start with q, then the rest; each has ``available``.
    """
    q = (q or "").strip()
    if not q:
        return []
    rank = Case(
        When(Q(sku__iexact=q) | Q(barcode=q), then=Value(0)),
        When(sku__istartswith=q, then=Value(1)),
        When(name__istartswith=q, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    matches = Q(sku__icontains=q) | Q(name__icontains=q) | Q(barcode__startswith=q)
    return list(
        products_with_available()
        .filter(matches)
        .annotate(rank=rank)
        .order_by("rank", "sku")[:limit]
    )


# --- Stock levels, replenishment, backorders -------------------------------------


def warehouses_free(product_ids) -> dict[tuple[int, int], int]:
    """Return units not reserved per (warehouse id, product id) in active warehouses."""
    return {
        (wid, pid): on_hand - reserved
        for wid, pid, on_hand, reserved in StockLevel.objects.filter(
            product_id__in=product_ids, warehouse__active=True
        ).values_list("warehouse_id", "product_id", "on_hand", "reserved")
    }


def demand_fits_somewhere(units: dict[int, int], free) -> bool:
    """Return whether the active warehouses have every unit of ``units`` free.

    ``free`` is ``warehouses_free``'s answer. Mirrors the reservation rule (a whole
    order from one warehouse, or from several when ``ALLOCATION_ALLOW_SPLIT``) so
    hopeless orders are not retried.
    """
    for wid in {w for w, _p in free}:
        if all(free.get((wid, pid), 0) >= q for pid, q in units.items()):
            return True
    if getattr(settings, "ALLOCATION_ALLOW_SPLIT", False):
        total: dict[int, int] = defaultdict(int)
        for (_wid, pid), units_free in free.items():
            total[pid] += max(units_free, 0)
        return all(total[pid] >= q for pid, q in units.items())
    return False


@dataclass
class ReplenishmentRow:
    """One stock level with its sales velocity and reorder figures."""

    level: StockLevel
    sold: int  # units reserved in the velocity window
    velocity: Decimal  # units per day
    owed: int  # units owed to backorders, counted on the SKU's first warehouse
    reorder_point: int
    manual: bool  # reorder point set by hand on the stock level
    low: bool
    suggested: int

    @property
    def available(self):
        return self.level.available


def replenishment_rows(
    *,
    warehouse=None,
    q: str = "",
    low_only: bool = False,
    active_only: bool = True,
    now=None,
) -> list[ReplenishmentRow]:
    """Return every stock level with its low-stock flag and reorder suggestion.

    With N = ``REPLENISHMENT_VELOCITY_DAYS``, R = ``REPLENISHMENT_REVIEW_DAYS``,
    L = the supplier lead time (days) and S = the safety stock, each the stock
    level's own when set, else the product's:

    - velocity v = units reserved from this warehouse in the last N days ÷ N
      (demand when an order is accepted; shipping only consumes what was reserved,
      so counting both would count a sale twice);
    - owed = units owed to backordered orders for the SKU (they reserve nothing,
      so they add no velocity), counted on the SKU's highest-priority warehouse,
      the one reservations try first;
    - reorder point ROP = ⌈v × L + S⌉, or the level's own ``reorder_point`` when set;
    - net = available − owed; low stock when net ≤ ROP (a level with ROP 0 and
      nothing owed is never low);
    - suggested quantity = ⌈v × (L + R) + S⌉ − net − on order, when low, else 0
      (on order is 0: there are no purchase orders yet).

    Low rows come first, then by SKU and warehouse priority.
    """
    now = now or timezone.now()
    days = max(settings.REPLENISHMENT_VELOCITY_DAYS, 1)
    review = settings.REPLENISHMENT_REVIEW_DAYS
    sold = (
        StockMovement.objects.filter(
            product=OuterRef("product_id"),
            warehouse=OuterRef("warehouse_id"),
            kind=StockMovement.Kind.RESERVED,
            created_at__gte=now - timedelta(days=days),
        )
        .values("product")
        .annotate(units=Sum("reserved_delta"))
        .values("units")
    )
    levels = StockLevel.objects.select_related("product", "warehouse").annotate(
        sold=Coalesce(Subquery(sold, output_field=IntegerField()), 0)
    )
    if active_only:
        levels = levels.filter(product__active=True, warehouse__active=True)
    if warehouse is not None:
        levels = levels.filter(warehouse=warehouse)
    q = (q or "").strip()
    if q:
        levels = levels.filter(
            Q(product__sku__icontains=q)
            | Q(product__name__icontains=q)
            | Q(product__barcode=q)
        )
    levels = list(levels.order_by("product__sku", "warehouse__priority", "pk"))
    owed = backorder_units_owed({lv.product_id for lv in levels})
    first = first_warehouse_per_product({lv.product_id for lv in levels})
    rows = []
    for level in levels:
        product = level.product
        velocity = Decimal(level.sold) / days
        lead = level.lead_time_effective
        safety = level.safety_stock_effective
        row_owed = (
            owed.get(product.pk, 0)
            if first.get(product.pk) == level.warehouse_id
            else 0
        )
        manual = level.reorder_point is not None
        rop = level.reorder_point if manual else math.ceil(velocity * lead + safety)
        net = level.available - row_owed
        low = net <= rop and (rop > 0 or net < 0)
        target = math.ceil(velocity * (lead + review) + safety)
        rows.append(
            ReplenishmentRow(
                level=level,
                sold=level.sold,
                velocity=velocity.quantize(Decimal("0.01")),
                owed=row_owed,
                reorder_point=rop,
                manual=manual,
                low=low,
                suggested=max(target - net, 0) if low else 0,
            )
        )
    if low_only:
        rows = [row for row in rows if row.low]
    rows.sort(key=lambda row: not row.low)  # stable: keeps SKU order within
    return rows


def first_warehouse_per_product(product_ids) -> dict[int, int]:
    """Return, per product, the active warehouse that reservations try first and that stocks it."""
    first: dict[int, int] = {}
    for pid, wid in (
        StockLevel.objects.filter(product_id__in=product_ids, warehouse__active=True)
        .order_by("warehouse__priority", "warehouse__code")
        .values_list("product_id", "warehouse_id")
    ):
        first.setdefault(pid, wid)
    return first


def _backordered_lines():
    from orders.models import Order, OrderEvent, OrderLine

    reserved = (
        Reservation.objects.filter(
            order=OuterRef("order_id"), product=OuterRef("product_id")
        )
        .values("order")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    since = (
        OrderEvent.objects.filter(
            order=OuterRef("order_id"), to_status=Order.Status.BACKORDERED
        )
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )
    # A backordered order owes what it has not reserved; a split order that went on
    # owes its lines' backordered units.
    backordered = Q(order__status=Order.Status.BACKORDERED)
    return (
        OrderLine.objects.filter(
            backordered
            | Q(
                order__status__in=[
                    Order.Status.READY_TO_FULFILL,
                    Order.Status.IN_FULFILLMENT,
                    Order.Status.PARTIALLY_SHIPPED,
                ],
                backordered_quantity__gt=0,
            )
        )
        .annotate(
            reserved_units=Coalesce(Subquery(reserved, output_field=IntegerField()), 0),
            waiting_since=Subquery(since),
        )
        .annotate(
            owed=Case(
                When(backordered, then=F("quantity") - F("reserved_units")),
                default=F("backordered_quantity"),
                output_field=IntegerField(),
            )
        )
        .filter(owed__gt=0)
    )


def backorders_exist(product_ids) -> bool:
    """Return whether any order waits for units of these products."""
    return _backordered_lines().filter(product_id__in=product_ids).exists()


def backorder_units_owed(product_ids=None) -> dict[int, int]:
    """Return units owed to backordered orders per product id."""
    lines = _backordered_lines()
    if product_ids is not None:
        lines = lines.filter(product_id__in=product_ids)
    owed: dict[int, int] = defaultdict(int)
    for pid, units in lines.values_list("product_id", "owed"):
        owed[pid] += units
    return dict(owed)


@dataclass
class BackorderEntry:
    line: object  # orders.OrderLine with its order and customer
    owed: int
    waiting_since: object


@dataclass
class BackorderGroup:
    product: Product
    available: int  # free units in active warehouses now
    entries: list[BackorderEntry] = field(default_factory=list)

    @property
    def owed(self):
        return sum(entry.owed for entry in self.entries)

    @property
    def short(self):
        return max(self.owed - self.available, 0)

    @property
    def oldest(self):
        return self.entries[0].line.order.placed_at


def backorders_owed() -> list[BackorderGroup]:
    """Return the 缺货 list: per SKU, the backordered orders owed it, oldest first.

    Backorders are filled in the order they were placed, so each SKU lists its orders
    by ``placed_at`` and the SKUs come by their oldest order.
    """
    lines = list(
        _backordered_lines()
        .select_related("order", "order__customer", "product")
        .order_by("order__placed_at", "order__pk", "pk")
    )
    free: dict[int, int] = defaultdict(int)
    for (_wid, pid), units in warehouses_free({ln.product_id for ln in lines}).items():
        free[pid] += max(units, 0)
    groups: dict[int, BackorderGroup] = {}
    for line in lines:
        group = groups.setdefault(
            line.product_id,
            BackorderGroup(product=line.product, available=free[line.product_id]),
        )
        group.entries.append(
            BackorderEntry(line=line, owed=line.owed, waiting_since=line.waiting_since)
        )
    return list(groups.values())  # dicts keep insertion order: oldest order first


def stocktake_preview(*, warehouse, counts: dict[int, int]) -> list[dict]:
    """Return what posting these counts would change: on record, counted, difference.

    ``counts`` maps product ids to units counted; rows below their reservations
    carry ``too_low`` (the post would be refused).
    """
    levels = {
        lv.product_id: lv
        for lv in StockLevel.objects.filter(warehouse=warehouse, product_id__in=counts)
    }
    products = Product.objects.in_bulk(list(counts))
    rows = []
    for pid, counted in counts.items():
        level = levels.get(pid)
        on_hand = level.on_hand if level else 0
        reserved = level.reserved if level else 0
        rows.append(
            {
                "product": products[pid],
                "on_hand": on_hand,
                "reserved": reserved,
                "counted": counted,
                "difference": counted - on_hand,
                "too_low": counted < reserved,
            }
        )
    rows.sort(key=lambda row: row["product"].sku)
    return rows


def stocktake_sheet(*, warehouse) -> list[Product]:
    """Return the active products to count in a warehouse, each with ``on_hand`` there."""
    on_hand = StockLevel.objects.filter(
        warehouse=warehouse, product=OuterRef("pk")
    ).values("on_hand")[:1]
    return list(
        Product.objects.filter(active=True)
        .annotate(on_hand=Coalesce(Subquery(on_hand), 0))
        .order_by("sku")
    )


def product_by_code(code: str) -> Product | None:
    """Return the product whose SKU (any case) or barcode is exactly ``code``."""
    code = (code or "").strip()
    if not code:
        return None
    return (
        Product.objects.filter(Q(sku__iexact=code) | Q(barcode=code))
        .order_by("pk")
        .first()
    )


def stock_levels_for_export():
    """Return every stock level with its SKU and warehouse code, for the CSV export."""
    return (
        StockLevel.objects.select_related("product", "warehouse")
        .order_by("product__sku", "warehouse__priority", "warehouse__code")
        .iterator(chunk_size=2000)
    )


def movements_recent(*, kind: str, limit: int = 10):
    """Return the latest movements of one kind, newest first, for the console."""
    return list(
        StockMovement.objects.filter(kind=kind)
        .select_related("product", "warehouse", "actor", "order")
        .order_by("-created_at", "-pk")[:limit]
    )


def order_for_return(number: str):
    """Return the order with this number (any case), or None, for a customer return."""
    from orders.models import Order

    number = (number or "").strip()
    if not number:
        return None
    return Order.objects.filter(number__iexact=number).first()


def stock_level_for_plan(pk: int) -> StockLevel | None:
    """Return one stock level with its product and warehouse, or None."""
    return (
        StockLevel.objects.select_related("product", "warehouse").filter(pk=pk).first()
    )


def bin_codes(*, warehouse_id: int, product_ids) -> dict[int, str]:
    """Return the bin location code of each product in the warehouse (products without one are left out)."""
    return dict(
        BinLocation.objects.filter(
            warehouse_id=warehouse_id, product_id__in=set(product_ids)
        ).values_list("product_id", "code")
    )


def bin_codes_for_levels(levels) -> dict[tuple[int, int], str]:
    """Return the bin code per (product id, warehouse id) of these stock levels."""
    levels = list(levels)
    rows = BinLocation.objects.filter(
        product_id__in={lv.product_id for lv in levels},
        warehouse_id__in={lv.warehouse_id for lv in levels},
    ).values_list("product_id", "warehouse_id", "code")
    return {(p, w): code for p, w, code in rows}


def bin_codes_all() -> dict[tuple[int, int], str]:
    """Return every bin code by (product id, warehouse id), for the CSV export."""
    return {
        (p, w): code
        for p, w, code in BinLocation.objects.values_list(
            "product_id", "warehouse_id", "code"
        )
    }
