"""Reads for the integration API: the order sync feed, stock levels and products."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from inventory.models import Product, StockLevel, Warehouse
from orders.models import Order


def orders_changed(
    *,
    updated_since: datetime | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = 100,
    now: datetime | None = None,
) -> list[Order]:
    """Return up to ``limit`` orders changed since a time or after a position, oldest change first.

    Orders are ordered by (updated_at, id), so a position (the last order's
    updated_at and id) continues exactly where the last page stopped, even when
    many orders share one timestamp. Changes younger than ``SYNC_SETTLE_SECONDS``
    are left for the next call: a transaction still running may commit an older
    ``updated_at`` after a caller has moved past it.
    """
    now = now or timezone.now()
    orders = Order.objects.filter(
        updated_at__lte=now - timedelta(seconds=settings.SYNC_SETTLE_SECONDS)
    )
    if updated_since is not None:
        orders = orders.filter(updated_at__gte=updated_since)
    if after is not None:
        at, pk = after
        # "at or later" first: an index range PostgreSQL starts from, instead of
        # reading the index from its beginning to find the OR's rows.
        orders = orders.filter(updated_at__gte=at).filter(
            Q(updated_at__gt=at) | Q(pk__gt=pk)
        )
    return list(
        orders.select_related("channel", "customer")
        .prefetch_related("lines", "shipments__carrier", "payments")
        .order_by("updated_at", "pk")[:limit]
    )


def stock_levels_for_api(*, sku: str = "", warehouse: str = "") -> QuerySet[StockLevel]:
    """Return stock levels by SKU and warehouse code (either may be empty: all)."""
    levels = StockLevel.objects.select_related("product", "warehouse")
    if sku:
        levels = levels.filter(product__sku=sku)
    if warehouse:
        levels = levels.filter(warehouse__code=warehouse)
    return levels


def products_for_api(*, sku: str = "", active: bool | None = None) -> QuerySet[Product]:
    """Return the catalogue, optionally one SKU or only products on sale (or not)."""
    products = Product.objects.all()
    if sku:
        products = products.filter(sku=sku)
    if active is not None:
        products = products.filter(active=active)
    return products


def warehouse_for_code(code: str) -> Warehouse | None:
    """Return the active warehouse with this code, or None."""
    return Warehouse.objects.filter(code=code, active=True).first()
