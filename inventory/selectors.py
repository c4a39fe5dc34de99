"""Reads of products and stock."""

from django.db.models import Case, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from inventory.models import Product


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
