"""Admin for COD collections, remittances, differences and marketplace settlements.

Read-only: they are written by billing/cod.py and billing/settlements.py (the
finance console pages), so every change has who and when.
"""

from django.contrib import admin

from billing.cod_models import (
    CodCollection,
    CodDifference,
    CodRemittance,
    CodRemittanceLine,
    MarketplaceSettlement,
    MarketplaceSettlementLine,
)
from orders.admin import ReadOnlyAdmin, ReadOnlyInline


@admin.register(CodCollection)
class CodCollectionAdmin(ReadOnlyAdmin):
    list_display = (
        "collected_at",
        "order",
        "shipment",
        "amount_due",
        "amount",
        "source",
        "recorded_by",
    )
    list_filter = ("source",)
    list_select_related = ("order", "shipment", "recorded_by")
    search_fields = ("order__number", "shipment__tracking_number")
    date_hierarchy = "collected_at"


class CodRemittanceLineInline(ReadOnlyInline):
    model = CodRemittanceLine
    fields = ("row_number", "tracking_number", "amount", "collection")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("collection__shipment")


@admin.register(CodRemittance)
class CodRemittanceAdmin(ReadOnlyAdmin):
    list_display = (
        "remitted_on",
        "carrier",
        "reference",
        "total",
        "source",
        "created_by",
    )
    list_filter = ("carrier", "source")
    list_select_related = ("carrier", "created_by")
    search_fields = ("reference", "lines__tracking_number")
    date_hierarchy = "remitted_on"
    inlines = [CodRemittanceLineInline]


@admin.register(CodDifference)
class CodDifferenceAdmin(ReadOnlyAdmin):
    list_display = (
        "found_at",
        "kind",
        "carrier",
        "tracking_number",
        "expected",
        "received",
        "resolved_at",
        "resolved_by",
    )
    list_filter = ("kind", "carrier", ("resolved_at", admin.EmptyFieldListFilter))
    list_select_related = ("carrier", "resolved_by")
    search_fields = ("tracking_number", "resolution_note")


class SettlementLineInline(ReadOnlyInline):
    model = MarketplaceSettlementLine
    fields = (
        "row_number",
        "external_id",
        "order",
        "amount_received",
        "platform_fee",
        "expected",
        "settled_at",
        "status",
        "resolution_note",
        "resolved_at",
        "resolved_by",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "resolved_by")


@admin.register(MarketplaceSettlement)
class MarketplaceSettlementAdmin(ReadOnlyAdmin):
    list_display = ("imported_at", "channel", "file_name", "imported_by")
    list_filter = ("channel",)
    list_select_related = ("channel", "imported_by")
    search_fields = ("file_name", "lines__external_id")
    inlines = [SettlementLineInline]
