"""Admin for parcel scans and customer notifications, both written only by services."""

from django.contrib import admin

from orders.admin import ReadOnlyAdmin
from tracking.models import Notification, TrackingEvent


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
