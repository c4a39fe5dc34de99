"""Admin for parcel scans and customer notifications, both written only by services."""

from django.contrib import admin

from orders.admin import ReadOnlyAdmin
from tracking.models import Notification, ParcelWatch, ProviderReceipt, TrackingEvent


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "shipment",
        "status",
        "location",
        "description",
        "source",
        "recorded_at",
    )
    list_filter = ("status", "source")
    list_select_related = ("shipment",)
    search_fields = (
        "shipment__tracking_number",
        "shipment__order__number",
        "description",
        "location",
    )
    date_hierarchy = "occurred_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "order",
        "channel",
        "template",
        "recipient",
        "status",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "channel", "template")
    list_select_related = ("order",)
    search_fields = ("recipient", "order__number", "provider_reference")
    date_hierarchy = "created_at"


@admin.register(ParcelWatch)
class ParcelWatchAdmin(admin.ModelAdmin):
    """Parcels followed at their provider; staff may stop one or check it sooner."""

    list_display = (
        "shipment",
        "provider",
        "pushed",
        "next_check_at",
        "last_checked_at",
        "failures",
        "last_error",
        "done",
    )
    list_filter = ("provider", "pushed", "done")
    list_select_related = ("shipment",)
    search_fields = ("shipment__tracking_number", "shipment__order__number")
    readonly_fields = (
        "shipment",
        "provider",
        "pushed",
        "last_checked_at",
        "failures",
        "last_error",
        "created_at",
    )


@admin.register(ProviderReceipt)
class ProviderReceiptAdmin(ReadOnlyAdmin):
    list_display = ("provider", "event_id", "received_at")
    list_filter = ("provider",)
    search_fields = ("event_id",)
