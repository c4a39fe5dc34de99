"""Admin for provider notifications: read-only, they are the providers' record."""

from django.contrib import admin

from billing.models import PaymentNotification
from orders.admin import ReadOnlyAdmin


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "provider",
        "trade_no",
        "trade_status",
        "order",
        "amount",
        "verified",
        "outcome",
    )
    list_filter = ("provider", "outcome", "verified")
    list_select_related = ("order",)
    search_fields = ("trade_no", "out_trade_no", "order__number")
    date_hierarchy = "received_at"
    raw_id_fields = ("order", "payment")
