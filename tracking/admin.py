"""Admin for parcel scans and customer notifications, both written only by services."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.admin import ReadOnlyAdmin, ReadOnlyInline
from tracking.models import (
    CarrierClaim,
    Notification,
    NotificationTemplate,
    ParcelException,
    ParcelWatch,
    ProviderReceipt,
    TrackingEvent,
    TransitStandard,
    WebhookDelivery,
    WebhookEndpoint,
)


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
        "send_after",
        "sent_at",
    )
    list_filter = ("status", "channel", "template")
    list_select_related = ("order",)
    search_fields = ("recipient", "order__number", "provider_reference")
    date_hierarchy = "created_at"


class NotificationTemplateAdminForm(forms.ModelForm):
    event = forms.ChoiceField(label=_("event"))

    class Meta:
        model = NotificationTemplate
        fields = (
            "event",
            "channel",
            "language",
            "subject",
            "body",
            "sms_template_code",
        )

    def __init__(self, *args, **kwargs):
        from tracking.notifications import EVENTS

        super().__init__(*args, **kwargs)
        self.fields["event"].choices = [(k, v[0]) for k, v in EVENTS.items()]

    def clean(self):
        from tracking.notifications import _template_check, placeholders_unknown

        data = super().clean()
        if self.errors:
            return data
        try:
            _template_check(
                event=data["event"],
                channel=data["channel"],
                language=data["language"],
                body=data["body"],
            )
        except ValidationError as error:
            raise ValidationError(error.message_dict) from error
        unknown = placeholders_unknown(data["event"], data.get("subject", ""))
        if unknown:
            self.add_error("subject", ", ".join(unknown))
        return data


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    """Staff's wording of customer messages (also edited in the console, with a preview)."""

    form = NotificationTemplateAdminForm
    list_display = (
        "event",
        "channel",
        "language",
        "subject",
        "updated_by",
        "updated_at",
    )
    list_filter = ("event", "channel", "language")
    search_fields = ("subject", "body", "sms_template_code")
    readonly_fields = ("updated_by", "updated_at")

    def save_model(self, request, obj, form, change):
        from django.utils import timezone

        obj.updated_by = request.user
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


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


@admin.register(TransitStandard)
class TransitStandardAdmin(admin.ModelAdmin):
    """Staff standards are edited here or on the console; learned ones are read-only."""

    list_display = (
        "carrier",
        "origin_province",
        "destination_province",
        "hours",
        "source",
        "sample_size",
        "updated_at",
    )
    list_filter = ("source", "carrier")
    search_fields = ("origin_province", "destination_province")
    readonly_fields = ("source", "sample_size", "updated_at")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.source == TransitStandard.Source.LEARNED:
            return False
        return super().has_change_permission(request, obj)


class CarrierClaimInline(ReadOnlyInline):
    model = CarrierClaim
    fields = (
        "carrier",
        "amount",
        "status",
        "settlement_amount",
        "reference",
        "filed_at",
    )


@admin.register(ParcelException)
class ParcelExceptionAdmin(ReadOnlyAdmin):
    """Opened, escalated and closed by detection and the console's queue actions."""

    list_display = (
        "shipment",
        "kind",
        "status",
        "since",
        "reason",
        "created_at",
        "ended_at",
    )
    list_filter = ("status", "kind", "shipment__carrier")
    list_select_related = ("shipment",)
    search_fields = ("shipment__tracking_number", "shipment__order__number")
    date_hierarchy = "since"
    inlines = [CarrierClaimInline]


@admin.register(CarrierClaim)
class CarrierClaimAdmin(ReadOnlyAdmin):
    list_display = (
        "filed_at",
        "carrier",
        "exception",
        "amount",
        "status",
        "settlement_amount",
        "reference",
    )
    list_filter = ("status", "carrier")
    list_select_related = ("carrier", "exception__shipment")
    search_fields = ("reference", "exception__shipment__tracking_number")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    """Endpoints are made and changed in the console (URL checks, the secret shown once)."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("url", "description", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "description")
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "endpoint",
        "event_type",
        "event_id",
        "status",
        "attempts",
        "response_status",
        "delivered_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("endpoint",)
    search_fields = ("event_id", "endpoint__url")
    date_hierarchy = "created_at"
