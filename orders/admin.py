"""Admin for orders, customers and channels.

Orders are read here, not edited: status, payment and address changes go through the
services (the console's order page), which check the lifecycle and write the timeline.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db import models
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orders.exceptions import OrderError
from orders.forms import AdminLoginForm
from orders.models import (
    Channel,
    ChannelListing,
    ChannelPrice,
    ChannelToken,
    Coupon,
    CouponRedemption,
    Customer,
    CustomerNote,
    ImportBatch,
    ImportRejection,
    Order,
    OrderEvent,
    OrderLine,
    Promotion,
    RoutingRule,
    ShippingRule,
    TaxRule,
    WebhookReceipt,
)
from orders.phones import phone_normalise
from orders.services import order_cancel

# The admin's sign-in page is a second door: it counts failures like the console's.
admin.site.login_form = AdminLoginForm


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services (ledgers, timelines): listed and shown, never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Channels -----------------------------------------------------------------


class ChannelTokenInline(ReadOnlyInline):
    model = ChannelToken
    fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    # An app push URL typed without a scheme is https (Django 6's default too).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name", "code", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "code")
    inlines = [ChannelTokenInline]
    fieldsets = (
        (None, {"fields": ("name", "code", "kind", "active", "webhook_secret")}),
        (
            _("Marketplace file imports"),
            {
                "description": _(
                    "Leave both empty to recognise Taobao, JD and Pinduoduo exports by "
                    "their headers. A custom mapping (JSON) reads another platform's export."
                ),
                "fields": ("import_platform", "import_mapping"),
            },
        ),
        (
            _("App push"),
            {
                "description": _(
                    "Customer messages are also posted to this URL of the shop's own "
                    "app backend, signed with the secret (X-Signature: t=…,v1=HMAC-SHA256 "
                    'of "t.body"). Leave empty for no app push.'
                ),
                "fields": ("push_url", "push_secret"),
            },
        ),
    )


@admin.register(ChannelListing)
class ChannelListingAdmin(admin.ModelAdmin):
    """Which of our products a marketplace's outer id, item id or title stands for."""

    list_display = ("code", "product", "channel")
    list_filter = ("channel",)
    list_select_related = ("product", "channel")
    search_fields = ("code", "product__sku", "product__name")
    autocomplete_fields = ("product",)


@admin.register(ChannelToken)
class ChannelTokenAdmin(ReadOnlyAdmin):
    """API keys are issued once through the service; only their digest is stored."""

    list_display = ("channel", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("channel",)
    list_select_related = ("channel",)
    search_fields = ("prefix", "channel__code", "channel__name")
    exclude = ("digest",)


@admin.register(WebhookReceipt)
class WebhookReceiptAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "channel", "signature")
    list_filter = ("channel",)
    list_select_related = ("channel",)
    search_fields = ("signature",)
    date_hierarchy = "received_at"


# --- Customers ----------------------------------------------------------------


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ("name", "phone", "email", "notify_email", "notify_sms", "notify_push")

    def clean_phone(self):
        # Customers are matched by the normalised number; store it the same way.
        return phone_normalise(self.cleaned_data["phone"])


class CustomerNoteInline(ReadOnlyInline):
    model = CustomerNote
    fields = ("text", "author", "created_at")
    readonly_fields = fields


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerForm
    list_display = ("name", "phone", "email", "created_at")
    search_fields = ("name", "phone", "email")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at",)
    inlines = [CustomerNoteInline]


@admin.register(CustomerNote)
class CustomerNoteAdmin(ReadOnlyAdmin):
    """Notes are written on the console's customer page (orders.customer_services)."""

    list_display = ("customer", "text", "author", "created_at")
    list_select_related = ("customer", "author")
    search_fields = ("text", "customer__name", "customer__phone")
    date_hierarchy = "created_at"


# --- Orders -------------------------------------------------------------------


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("sku", "name", "unit_price", "quantity", "discount", "line_total")
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ("created_at", "kind", "from_status", "to_status", "who", "message")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("by"))
    def who(self, event):
        return event.who


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "placed_at",
        "channel",
        "customer",
        "status",
        "payment_status",
        "payment_method",
        "total",
    )
    list_filter = ("status", "payment_status", "channel", "payment_method")
    list_select_related = ("channel", "customer")
    search_fields = (
        "number",
        "external_id",
        "customer__name",
        "customer__phone",
        "recipient_name",
        "recipient_phone",
    )
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline, OrderEventInline]
    actions = ["cancel_selected"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "channel", "external_id"),
                    "customer",
                    ("status", "payment_status", "payment_method"),
                    "placed_at",
                    "problems",
                )
            },
        ),
        (
            _("Ship to"),
            {
                "description": _(
                    "Correct the recipient and address on the console's order page, "
                    "so the change is checked and recorded."
                ),
                "fields": (
                    ("recipient_name", "recipient_phone"),
                    ("province", "city", "district"),
                    ("address_detail", "postal_code"),
                ),
            },
        ),
        (
            _("Money"),
            {
                "fields": (
                    "currency",
                    ("subtotal", "discount_total", "shipping_fee", "tax_total"),
                    "total",
                    "coupon_code",
                )
            },
        ),
        (
            _("Why this price"),
            {"classes": ("collapse",), "fields": ("price_explained",)},
        ),
        (
            _("Other"),
            {
                "fields": (
                    "buyer_note",
                    "intake_fingerprint",
                    ("created_at", "updated_at"),
                )
            },
        ),
    )
    # Only the buyer's note is free text; everything else has a service behind it.
    readonly_fields = tuple(
        name
        for section in fieldsets
        for row in section[1]["fields"]
        for name in (row if isinstance(row, tuple) else (row,))
        if name != "buyer_note"
    )

    @admin.display(description=_("Why this price"))
    def price_explained(self, order):
        why = order.price_explanation or {}
        if not why.get("lines"):
            return "—"
        # The console's own partial: every value in it is escaped by the template.
        return mark_safe(  # noqa: S308
            render_to_string("orders/partials/price_explanation.html", {"why": why})
        )

    def has_add_permission(self, request):
        return False  # orders come in through the channels and the phone-order page

    def has_delete_permission(self, request, obj=None):
        return False  # the stock ledger and payments point at orders

    def has_cancel_permission(self, request):
        codename = get_permission_codename("cancel", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    @admin.action(description=_("Cancel selected orders"), permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        cancelled = 0
        for order in queryset.order_by("pk"):
            try:
                order_cancel(
                    order=order,
                    actor=request.user,
                    reason=_("Cancelled in the admin."),
                )
            except OrderError as error:
                self.message_user(request, str(error), level=messages.ERROR)
            else:
                cancelled += 1
        if cancelled:
            self.message_user(
                request,
                ngettext(
                    "%(count)d order cancelled.",
                    "%(count)d orders cancelled.",
                    cancelled,
                )
                % {"count": cancelled},
                level=messages.SUCCESS,
            )


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    list_display = ("order", "sku", "name", "unit_price", "quantity", "line_total")
    list_select_related = ("order",)
    search_fields = ("order__number", "sku", "name")


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "order",
        "kind",
        "from_status",
        "to_status",
        "who",
        "message",
    )
    list_filter = ("kind",)
    list_select_related = ("order", "actor")
    search_fields = ("order__number", "message", "actor_label", "actor__username")
    date_hierarchy = "created_at"

    @admin.display(description=_("by"))
    def who(self, event):
        return event.who


# --- Marketplace imports ------------------------------------------------------


class ImportRejectionInline(ReadOnlyInline):
    model = ImportRejection
    fields = ("row", "file", "field", "code", "message")
    readonly_fields = fields


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = (
        "original_name",
        "channel",
        "platform",
        "status",
        "rows_done",
        "created_count",
        "updated_count",
        "unchanged_count",
        "rejected_count",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "channel", "platform")
    list_select_related = ("channel", "created_by")
    search_fields = ("original_name", "error")
    date_hierarchy = "created_at"
    inlines = [ImportRejectionInline]


@admin.register(ImportRejection)
class ImportRejectionAdmin(ReadOnlyAdmin):
    list_display = ("batch", "row", "file", "field", "code", "message")
    list_filter = ("code",)
    list_select_related = ("batch",)
    search_fields = ("batch__original_name", "message")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Which orders wait for a team's review before stock is reserved."""

    list_display = (
        "name",
        "team",
        "min_total",
        "with_buyer_note",
        "channel",
        "payment_method",
        "position",
        "active",
    )
    list_editable = ("position", "active")
    list_filter = ("active", "team", "channel")
    list_select_related = ("channel",)
    search_fields = ("name",)


# --- Pricing rules (orders/pricing.py). Saving a rule changes the tables' version,
# so intake picks it up on its next order.


@admin.register(ChannelPrice)
class ChannelPriceAdmin(admin.ModelAdmin):
    list_display = ("product", "channel", "price", "valid_from", "valid_until")
    list_filter = ("channel", "valid_from", "valid_until")
    list_select_related = ("product", "channel")
    search_fields = ("product__sku", "product__name")
    autocomplete_fields = ("product",)


class CouponInline(admin.TabularInline):
    model = Coupon
    extra = 0
    fields = ("code", "usage_limit", "per_customer_limit", "times_used", "active")
    readonly_fields = ("times_used",)


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "priority",
        "stackable",
        "requires_coupon",
        "active",
        "valid_from",
        "valid_until",
    )
    list_filter = ("kind", "active", "stackable", "requires_coupon", "channels")
    search_fields = ("name",)
    filter_horizontal = ("channels",)
    autocomplete_fields = ("products",)
    inlines = [CouponInline]


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "promotion",
        "times_used",
        "usage_limit",
        "per_customer_limit",
        "active",
    )
    list_filter = ("active", "promotion")
    list_select_related = ("promotion",)
    search_fields = ("code", "promotion__name")
    # Counted by orders (orders.pricing.coupon_redeem), under a row lock.
    readonly_fields = ("times_used",)


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "coupon", "order", "customer", "amount")
    list_filter = ("coupon",)
    list_select_related = ("coupon", "order", "customer")
    search_fields = ("coupon__code", "order__number", "customer__phone")


@admin.register(ShippingRule)
class ShippingRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "carrier",
        "provinces",
        "first_weight_kg",
        "first_fee",
        "additional_weight_kg",
        "additional_fee",
        "free_over",
        "remote_surcharge",
        "priority",
        "active",
    )
    list_filter = ("active", "carrier")
    list_select_related = ("carrier",)
    search_fields = ("name",)


@admin.register(TaxRule)
class TaxRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "rate", "effective_from")
    list_filter = ("category", "effective_from")
    search_fields = ("name", "category")


from orders import token_admin  # noqa: E402, F401
