from django.conf import settings
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
    # Not before this time (an SMS held back by quiet hours); empty: at once.
    send_after = models.DateTimeField(_("send after"), null=True, blank=True)
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


class NotificationTemplate(models.Model):
    """Staff's wording of one event's message on one channel in one language.

    Without a row the text comes from the file template shipped with the code.
    Placeholders are ``{name}`` from a fixed list per event; nothing else is evaluated.
    """

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    event = models.CharField(_("event"), max_length=40)
    channel = models.CharField(
        _("channel"), max_length=8, choices=Notification.Channel.choices
    )
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    # Aliyun only sends texts approved in advance: the approved template's code.
    sms_template_code = models.CharField(
        _("SMS provider template code"), max_length=40, blank=True
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        ordering = ["event", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "channel", "language"],
                name="notification_template_once",
            )
        ]

    def __str__(self):
        return f"{self.event} · {self.get_channel_display()} · {self.language}"


class ParcelWatch(models.Model):
    """Following one shipped parcel at its tracking provider until it arrives.

    Parcels with a push subscription wait for the provider's callbacks; the others
    are polled when ``next_check_at`` comes, spread out and backing off on errors.
    """

    class Provider(models.TextChoices):
        DEMO = "demo", _("Demo carrier")
        KUAIDI100 = "kuaidi100", _("Kuaidi100")
        AFTERSHIP = "aftership", _("AfterShip")
        MANUAL = "manual", _("Entered by staff")

    shipment = models.OneToOneField(
        "fulfillment.Shipment",
        on_delete=models.CASCADE,
        related_name="watch",
        verbose_name=_("shipment"),
    )
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    pushed = models.BooleanField(_("push subscription"), default=False)
    resubscribe_after = models.DateTimeField(
        _("subscribe again after"), null=True, blank=True
    )
    next_check_at = models.DateTimeField(_("next check"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    done = models.BooleanField(_("finished"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("parcel watch")
        verbose_name_plural = _("parcel watches")
        indexes = [
            models.Index(
                fields=["next_check_at"],
                condition=models.Q(done=False, pushed=False),
                name="watch_due",
            )
        ]

    def __str__(self):
        return f"{self.shipment} ({self.provider})"


class ProviderReceipt(models.Model):
    """A provider's webhook event id, kept so a replayed event is refused."""

    provider = models.CharField(_("provider"), max_length=16)
    event_id = models.CharField(_("event id"), max_length=100)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("provider webhook receipt")
        verbose_name_plural = _("provider webhook receipts")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="provider_event_once"
            )
        ]

    def __str__(self):
        return f"{self.provider} {self.event_id}"


# --- Delays and lost parcels (异常处理) -------------------------------------------


class TransitStandard(models.Model):
    """How many hours a carrier should take from one province to another.

    Staff set standards; the periodic learning task writes ``learned`` ones from the
    shop's delivered parcels. A staff standard wins over a learned one for its route.
    """

    class Source(models.TextChoices):
        STAFF = "staff", _("Set by staff")
        LEARNED = "learned", _("Learned from deliveries")

    carrier = models.ForeignKey(
        "fulfillment.Carrier",
        on_delete=models.CASCADE,
        related_name="transit_standards",
        verbose_name=_("carrier"),
    )
    origin_province = models.CharField(_("from province"), max_length=32)
    destination_province = models.CharField(_("to province"), max_length=32)
    hours = models.PositiveIntegerField(_("hours in transit"))
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.STAFF
    )
    # Learned standards: how many delivered parcels the figure comes from.
    sample_size = models.PositiveIntegerField(_("parcels measured"), default=0)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("transit-time standard")
        verbose_name_plural = _("transit-time standards")
        ordering = ["carrier", "origin_province", "destination_province", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "origin_province", "destination_province", "source"],
                name="transit_standard_once",
            ),
            models.CheckConstraint(
                condition=Q(hours__gt=0), name="transit_standard_hours_positive"
            ),
        ]

    def __str__(self):
        return (
            f"{self.carrier}: {self.origin_province} → {self.destination_province}"
            f" {self.hours}h"
        )


class ParcelException(models.Model):
    """A parcel that needs attention: late, not delivered, refused, returned or lost.

    A parcel has at most one open exception; detection updates its kind as things get
    worse (delayed → lost) and clears it when a new scan shows the parcel moving again.
    """

    class Kind(models.TextChoices):
        DELAYED = "delayed", _("Delayed")
        FAILED_ATTEMPT = "failed_attempt", _("Delivery attempt failed")
        REFUSED = "refused", _("Refused")
        RETURNED = "returned", _("Returned to sender")
        LOST = "lost", _("Probably lost")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLEARED = "cleared", _("Cleared by a new scan")
        CLOSED = "closed", _("Closed")

    shipment = models.ForeignKey(
        "fulfillment.Shipment",
        on_delete=models.CASCADE,
        related_name="exceptions",
        verbose_name=_("shipment"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=300)
    # When the condition began (the standard ran out, the last scan, the refusal).
    since = models.DateTimeField(_("since"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    # When the parcel should have arrived by its transit-time standard.
    expected_by = models.DateTimeField(_("expected by"), null=True, blank=True)
    replacement = models.ForeignKey(
        "fulfillment.Shipment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replacement parcel"),
    )
    customer_notified_at = models.DateTimeField(
        _("customer notified at"), null=True, blank=True
    )
    last_action_at = models.DateTimeField(_("last action"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("flagged at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )

    class Meta:
        verbose_name = _("parcel exception")
        verbose_name_plural = _("parcel exceptions")
        ordering = ["since", "id"]
        permissions = [("handle_parcelexception", _("Can handle parcel exceptions"))]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment"],
                condition=Q(status="open"),
                name="parcel_exception_one_open",
            )
        ]
        indexes = [models.Index(fields=["status", "kind"], name="parcel_exc_queue")]

    def __str__(self):
        return f"{self.shipment}: {self.get_kind_display()}"


class CarrierClaim(models.Model):
    """A claim filed with the carrier for a lost or damaged parcel."""

    class Status(models.TextChoices):
        FILED = "filed", _("Filed")
        ACCEPTED = "accepted", _("Accepted")
        SETTLED = "settled", _("Settled")
        REJECTED = "rejected", _("Rejected")

    exception = models.ForeignKey(
        ParcelException,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("parcel exception"),
    )
    carrier = models.ForeignKey(
        "fulfillment.Carrier",
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("carrier"),
    )
    amount = models.DecimalField(_("amount claimed"), max_digits=12, decimal_places=2)
    evidence = models.TextField(_("evidence"))
    reference = models.CharField(_("carrier's claim number"), max_length=60, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.FILED
    )
    settlement_amount = models.DecimalField(
        _("settlement amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    filed_at = models.DateTimeField(_("filed at"), default=timezone.now)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("filed by"),
    )

    class Meta:
        verbose_name = _("carrier claim")
        verbose_name_plural = _("carrier claims")
        ordering = ["-filed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="carrier_claim_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(settlement_amount__isnull=True)
                | Q(settlement_amount__gte=0),
                name="carrier_claim_settlement_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.carrier} {self.reference or self.pk}: {self.amount}"


from tracking.webhook_models import (  # noqa: E402, F401
    WebhookDelivery,
    WebhookEndpoint,
)
