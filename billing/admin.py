"""Admin for payments and refunds: read-only, since both move through the console."""

from django.contrib import admin

from billing.models import Payment, Refund, RefundLine
from orders.admin import ReadOnlyAdmin, ReadOnlyInline


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


class RefundLineInline(ReadOnlyInline):
    model = RefundLine
    fields = ("order_line", "quantity", "amount")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    """Refunds move through billing.services (the order page's finance buttons)."""

    list_display = (
        "requested_at",
        "order",
        "source",
        "amount",
        "shipping_amount",
        "status",
        "source_ref",
        "provider_state",
        "provider_reference",
        "paid_at",
    )
    list_filter = ("status", "source", "provider_state")
    list_select_related = ("order",)
    search_fields = ("order__number", "source_ref", "provider_reference")
    date_hierarchy = "requested_at"
    inlines = [RefundLineInline]


# Registers the COD, settlement and journal admins, and the payment notification admin.
from billing import cod_admin, journal_admin, payment_admin  # noqa: E402, F401
