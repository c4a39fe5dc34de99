"""Admin for carriers and parcels.

A parcel's status, carrier and tracking number change through
``fulfillment.services`` (the console's ship form), which moves stock and the order.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from fulfillment.models import (
    BoxPreset,
    Carrier,
    CarrierAccount,
    CarrierService,
    ChannelShipping,
    Packing,
    PickList,
    PickListParcel,
    ReturnLine,
    ReturnRequest,
    Shipment,
    ShipmentLine,
    ShortPick,
)
from orders.admin import ReadOnlyAdmin, ReadOnlyInline
from orders.models import ShippingRule


class CarrierServiceInline(admin.TabularInline):
    model = CarrierService
    extra = 0
    fields = ("code", "name", "active")


class CarrierAccountInline(admin.TabularInline):
    model = CarrierAccount
    extra = 0
    fields = ("name", "account_number", "warehouse", "label_source", "active")


class CarrierRateInline(admin.TabularInline):
    """The carrier's rate table: 首重/续重 per province group (pricing's ShippingRule)."""

    model = ShippingRule
    fk_name = "carrier"
    extra = 0
    verbose_name = _("rate")
    verbose_name_plural = _("rate table (first weight + additional weight)")
    fields = (
        "name",
        "provinces",
        "first_weight_kg",
        "first_fee",
        "additional_weight_kg",
        "additional_fee",
        "remote_provinces",
        "remote_surcharge",
        "active",
    )


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "supports_cod", "regions", "active", "tracking_url")
    list_filter = ("active", "supports_cod")
    search_fields = ("name", "code")
    inlines = [CarrierServiceInline, CarrierAccountInline, CarrierRateInline]


@admin.register(CarrierService)
class CarrierServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "carrier", "code", "active")
    list_filter = ("active", "carrier")
    list_select_related = ("carrier",)
    search_fields = ("name", "code")


@admin.register(CarrierAccount)
class CarrierAccountAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "carrier",
        "account_number",
        "warehouse",
        "label_source",
        "active",
    )
    list_filter = ("active", "carrier", "label_source")
    list_select_related = ("carrier", "warehouse")
    search_fields = ("name", "account_number")


@admin.register(ChannelShipping)
class ChannelShippingAdmin(admin.ModelAdmin):
    list_display = ("channel", "ship_within_hours", "carrier")
    list_select_related = ("channel", "carrier")


class ShipmentLineInline(ReadOnlyInline):
    model = ShipmentLine
    fields = ("order_line", "quantity")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "order",
        "warehouse",
        "carrier",
        "tracking_number",
        "status",
        "tracking_status",
        "shipped_at",
    )
    list_filter = ("status", "carrier", "warehouse")
    list_select_related = ("order", "warehouse", "carrier")
    search_fields = ("tracking_number", "order__number")
    date_hierarchy = "created_at"
    inlines = [ShipmentLineInline]
    fields = (
        ("order", "warehouse"),
        ("status", "carrier", "tracking_number"),
        ("tracking_status", "last_location"),
        "weight_kg",
        ("created_at", "shipped_at", "delivered_at"),
        "shipped_by",
    )
    # Only the weight may be corrected by hand; the rest moves stock or the order.
    readonly_fields = (
        "order",
        "warehouse",
        "status",
        "carrier",
        "tracking_number",
        "tracking_status",
        "last_location",
        "created_at",
        "shipped_at",
        "delivered_at",
        "shipped_by",
    )

    def has_add_permission(self, request):
        return False  # parcels are made when picking starts

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ShipmentLine)
class ShipmentLineAdmin(ReadOnlyAdmin):
    list_display = ("shipment", "order_line", "quantity")
    list_select_related = ("shipment", "order_line")
    search_fields = ("shipment__tracking_number", "shipment__order__number")


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = (
        "order_line",
        "quantity",
        "restocked_quantity",
        "written_off_quantity",
        "replacement_product",
        "inspection_note",
        "inspected_by",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")


@admin.register(ReturnRequest)
class ReturnRequestAdmin(ReadOnlyAdmin):
    """Returns move through fulfillment.returns (the console's returns screens)."""

    list_display = (
        "number",
        "order",
        "status",
        "reason",
        "resolution",
        "warehouse",
        "requested_at",
        "completed_at",
    )
    list_filter = ("status", "reason", "resolution", "warehouse")
    list_select_related = ("order", "warehouse")
    search_fields = ("number", "order__number")
    date_hierarchy = "requested_at"
    inlines = [ReturnLineInline]


# --- Picking and packing: written by fulfillment.picking / fulfillment.packing ---


class PickListParcelInline(ReadOnlyInline):
    model = PickListParcel
    fields = ("position", "shipment")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shipment")


@admin.register(PickList)
class PickListAdmin(ReadOnlyAdmin):
    list_display = ("number", "warehouse", "status", "created_at", "created_by")
    list_filter = ("status", "warehouse")
    list_select_related = ("warehouse", "created_by")
    search_fields = ("number", "parcels__shipment__order__number")
    date_hierarchy = "created_at"
    inlines = [PickListParcelInline]


@admin.register(ShortPick)
class ShortPickAdmin(ReadOnlyAdmin):
    list_display = (
        "pick_list",
        "product",
        "quantity",
        "reason",
        "bin_code",
        "created_at",
        "created_by",
    )
    list_filter = ("reason",)
    list_select_related = ("pick_list", "product", "created_by")
    search_fields = ("pick_list__number", "product__sku")


@admin.register(BoxPreset)
class BoxPresetAdmin(admin.ModelAdmin):
    """Carton sizes offered at the pack station; staff keep this list."""

    list_display = ("name", "length_cm", "width_cm", "height_cm", "tare_kg", "active")
    list_filter = ("active",)
    search_fields = ("name",)


@admin.register(Packing)
class PackingAdmin(ReadOnlyAdmin):
    list_display = (
        "shipment",
        "box_preset",
        "length_cm",
        "width_cm",
        "height_cm",
        "packed_at",
        "packed_by",
    )
    list_select_related = ("shipment", "box_preset", "packed_by")
    search_fields = ("shipment__order__number",)
