"""Admin for products, warehouses and stock.

Stock figures are read-only here: every change goes through ``inventory.services``,
which locks the rows and writes the movement ledger.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from inventory.models import (
    BinLocation,
    Product,
    Reservation,
    StockAdjustmentReceipt,
    StockLevel,
    StockMovement,
    Warehouse,
    WarehouseRegion,
)
from orders.admin import ReadOnlyAdmin, ReadOnlyInline


class StockLevelInline(ReadOnlyInline):
    model = StockLevel
    fields = ("warehouse", "on_hand", "reserved", "available")
    readonly_fields = fields

    @admin.display(description=_("available"))
    def available(self, level):
        return level.available


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = (
        "sku",
        "name",
        "category",
        "price",
        "barcode",
        "safety_stock",
        "lead_time_days",
        "active",
    )
    list_filter = ("active", "category")
    search_fields = ("sku", "name", "barcode")
    inlines = [StockLevelInline]


class WarehouseRegionInline(admin.TabularInline):
    model = WarehouseRegion
    fields = ("province", "rank")
    extra = 0


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "province", "city", "priority", "active")
    list_filter = ("active", "province")
    search_fields = ("code", "name", "city")
    inlines = [WarehouseRegionInline]


@admin.register(WarehouseRegion)
class WarehouseRegionAdmin(admin.ModelAdmin):
    """The region-to-warehouse table of the ``nearest`` strategy: per province, nearest first."""

    list_display = ("province", "rank", "warehouse")
    list_editable = ("rank",)
    list_filter = ("province", "warehouse")
    list_select_related = ("warehouse",)
    search_fields = ("province", "warehouse__name", "warehouse__code")


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    """Only the replenishment figures are edited here; the units change through the services."""

    list_display = (
        "product",
        "warehouse",
        "on_hand",
        "reserved",
        "available",
        "reorder_point",
        "safety_stock",
        "lead_time_days",
    )
    list_filter = ("warehouse",)
    list_select_related = ("product", "warehouse")
    search_fields = ("product__sku", "product__name", "product__barcode")
    fields = (
        "product",
        "warehouse",
        "on_hand",
        "reserved",
        "available",
        "reorder_point",
        "safety_stock",
        "lead_time_days",
    )
    readonly_fields = ("product", "warehouse", "on_hand", "reserved", "available")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("available"))
    def available(self, level):
        return level.available


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "product",
        "warehouse",
        "kind",
        "on_hand_delta",
        "reserved_delta",
        "order",
        "actor",
        "reason",
        "reference",
    )
    list_filter = ("kind", "warehouse")
    list_select_related = ("product", "warehouse", "order", "actor")
    search_fields = (
        "product__sku",
        "product__name",
        "order__number",
        "reason",
        "reference",
    )
    date_hierarchy = "created_at"


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ("order", "product", "warehouse", "quantity")
    list_filter = ("warehouse",)
    list_select_related = ("order", "product", "warehouse")
    search_fields = ("order__number", "product__sku", "product__name")


@admin.register(BinLocation)
class BinLocationAdmin(admin.ModelAdmin):
    list_display = ("product", "warehouse", "code")
    list_filter = ("warehouse",)
    search_fields = ("product__sku", "product__name", "code")
    list_select_related = ("product", "warehouse")
    autocomplete_fields = ("product",)


@admin.register(StockAdjustmentReceipt)
class StockAdjustmentReceiptAdmin(ReadOnlyAdmin):
    """Adjustments sent through the API, by reference: what makes a retry harmless."""

    list_display = (
        "created_at",
        "reference",
        "user",
        "product",
        "warehouse",
        "on_hand_delta",
        "on_hand",
        "movement",
    )
    list_filter = ("warehouse",)
    list_select_related = ("user", "product", "warehouse", "movement")
    search_fields = ("reference", "product__sku")
