"""Reads for finance's COD reconciliation and marketplace settlement pages."""

from django.db.models import Count, Q, QuerySet, Sum

from billing.cod_models import (
    CodCollection,
    CodDifference,
    CodRemittance,
    MarketplaceSettlement,
    MarketplaceSettlementLine,
)


def cod_differences_list(*, status: str = "open", kind: str = "") -> QuerySet:
    """Return COD differences, oldest first; open, resolved or all, optionally of one kind."""
    qs = CodDifference.objects.select_related(
        "carrier",
        "collection__order",
        "remittance_line__remittance",
        "resolved_by",
    ).order_by("found_at", "id")
    if status == "open":
        qs = qs.filter(resolved_at__isnull=True)
    elif status == "resolved":
        qs = qs.filter(resolved_at__isnull=False).order_by("-resolved_at", "-id")
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def cod_difference_counts() -> dict[str, int]:
    """Return the number of open differences per kind."""
    rows = (
        CodDifference.objects.filter(resolved_at__isnull=True)
        .values("kind")
        .annotate(n=Count("id"))
    )
    return {row["kind"]: row["n"] for row in rows}


def cod_not_remitted_total():
    """Return the cash collected on delivery that no remittance has brought in yet."""
    return CodCollection.objects.filter(remittance_lines__isnull=True).aggregate(
        total=Sum("amount")
    )["total"]


def cod_remittances_list() -> QuerySet[CodRemittance]:
    """Return remittances, newest first, with their line and difference counts."""
    return (
        CodRemittance.objects.select_related("carrier")
        .annotate(
            line_count=Count("lines", distinct=True),
            open_count=Count(
                "lines__differences",
                filter=Q(lines__differences__resolved_at__isnull=True),
                distinct=True,
            ),
        )
        .order_by("-remitted_on", "-id")
    )


def cod_collections_for_order(order) -> QuerySet[CodCollection]:
    """Return the cash collected per parcel of the order, with its remittance."""
    return (
        CodCollection.objects.filter(order=order)
        .select_related("shipment")
        .prefetch_related("remittance_lines__remittance")
    )


def settlements_list() -> QuerySet[MarketplaceSettlement]:
    """Return settlement imports, newest first, with counts per outcome."""
    L = MarketplaceSettlementLine.Status
    return (
        MarketplaceSettlement.objects.select_related("channel")
        .annotate(
            matched=Count("lines", filter=Q(lines__status=L.MATCHED)),
            different=Count("lines", filter=Q(lines__status=L.DIFFERENT)),
            unmatched=Count("lines", filter=Q(lines__status=L.UNMATCHED)),
            open_count=Count(
                "lines",
                filter=~Q(lines__status=L.MATCHED) & Q(lines__resolved_at__isnull=True),
            ),
        )
        .order_by("-imported_at", "-id")
    )


def settlement_for_order(order) -> MarketplaceSettlementLine | None:
    """Return the platform's settlement of the order (received, fee), if imported."""
    return (
        MarketplaceSettlementLine.objects.filter(order=order)
        .select_related("settlement")
        .first()
    )
