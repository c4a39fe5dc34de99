from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TrackingStatus(models.TextChoices):
    """Every carrier's wording maps to one of these."""

    INFO_RECEIVED = "info_received", _("Label created")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    FAILED_ATTEMPT = "failed_attempt", _("Delivery attempt failed")
    AVAILABLE_FOR_PICKUP = "available_for_pickup", _("Ready for pickup")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    RETURNED = "returned", _("Returned to sender")
    EXPIRED = "expired", _("Lost or expired")


class TrackingEvent(models.Model):
    """One scan of a parcel by its carrier (or typed in by staff)."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by staff")
        DEMO = "demo", _("Demo carrier")
        KUAIDI100 = "kuaidi100", _("Kuaidi100")
        AFTERSHIP = "aftership", _("AfterShip")

    shipment = models.ForeignKey(
        "fulfillment.Shipment",
        on_delete=models.CASCADE,
        related_name="tracking_events",
        verbose_name=_("shipment"),
    )
    occurred_at = models.DateTimeField(_("time"))
    location = models.CharField(_("location"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=300)
    status = models.CharField(
        _("status"), max_length=24, choices=TrackingStatus.choices
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    raw = models.JSONField(_("raw data"), default=dict, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ["occurred_at", "id"]
        constraints = [
            # The same scan delivered twice (push and poll, or a retry) is stored once.
            models.UniqueConstraint(
                fields=["shipment", "occurred_at", "status", "description"],
                name="tracking_event_once",
            )
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.description}"


class Notification(models.Model):
    """A message to a customer, stored before it is sent (the outbox)."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        PUSH = "push", _("App push")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to send")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent")

    customer = models.ForeignKey(
        "orders.Customer",
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("customer"),
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("order"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    template = models.CharField(_("template"), max_length=40)
    recipient = models.CharField(_("recipient"), max_length=200)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    # One cause never makes two messages on the same channel.
    dedupe_key = models.CharField(_("dedupe key"), max_length=120, unique=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    provider_reference = models.CharField(
        _("provider reference"), max_length=100, blank=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="notification_pending",
            )
        ]

    def __str__(self):
        return f"{self.get_channel_display()} → {self.recipient}: {self.template}"
