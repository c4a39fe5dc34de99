"""Admin for payments: read-only, since payments are confirmed through the console."""

from django.contrib import admin

from billing.models import Payment
from orders.admin import ReadOnlyAdmin


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "confirmed_at",
        "order",
        "method",
        "amount",
        "status",
        "provider_reference",
        "confirmed_by",
    )
    list_filter = ("method", "status")
    list_select_related = ("order", "confirmed_by")
    search_fields = ("provider_reference", "order__number")
    date_hierarchy = "confirmed_at"
