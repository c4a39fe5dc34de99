"""Outbound webhooks: the shop's other systems subscribe to events; deliveries are an outbox.

A delivery row is written in the transaction of the change it reports, so it commits
or rolls back with it; workers send it after commit and the beat task sends what the
broker lost (``tracking.outbound_webhooks``).
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def webhook_secret_new() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEvent(models.TextChoices):
    """What an endpoint may subscribe to; the value is the ``type`` receivers see."""

    ORDER_CREATED = "order.created", _("Order created")
    ORDER_NEEDS_CORRECTION = "order.needs_correction", _("Order needs correction")
    ORDER_PAID = "order.paid", _("Order paid")
    ORDER_ALLOCATED = "order.allocated", _("Stock allocated")
    ORDER_SHIPPED = "order.shipped", _("Order shipped")
    ORDER_DELIVERED = "order.delivered", _("Order delivered")
    ORDER_EXCEPTION = "order.exception", _("Parcel exception")
    ORDER_CANCELLED = "order.cancelled", _("Order cancelled")
    ORDER_REFUNDED = "order.refunded", _("Refund paid")
    STOCK_LOW = "stock.low", _("Stock low")


# Sent only by "Send test event", to one endpoint; nobody subscribes to it.
TEST_EVENT = "webhook.test"


class WebhookEndpoint(models.Model):
    """A URL of another system that is told of the events it subscribes to."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("events"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Kept as is: we need it to sign. Shown once when made or rotated.
    secret = models.CharField(_("secret"), max_length=100, default=webhook_secret_new)
    # After a rotation the old secret signs too, until this time, so the receiver
    # can switch without losing a delivery.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["url", "id"]
        permissions = [("manage_webhooks", _("Can manage outbound webhooks"))]

    def __str__(self):
        return self.url

    def get_event_types_display(self) -> list[str]:
        labels = dict(WebhookEvent.choices)
        return [str(labels.get(value, value)) for value in self.event_types]


class WebhookDelivery(models.Model):
    """One event for one endpoint, kept from the change that caused it until it is delivered."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to send")
        SENDING = "sending", _("Sending")
        FAILED = "failed", _("Failed, will retry")
        DELIVERED = "delivered", _("Delivered")
        GIVEN_UP = "given_up", _("Given up")

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event_type = models.CharField(_("event"), max_length=40)
    # The same on every attempt and replay of one event: receivers drop repeats by it.
    event_id = models.UUIDField(_("event id"))
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # While a worker sends: after this time another may take the delivery over.
    sending_until = models.DateTimeField(null=True, blank=True, editable=False)
    response_status = models.PositiveSmallIntegerField(
        _("response status"), null=True, blank=True
    )
    response_body = models.CharField(_("response body"), max_length=1000, blank=True)
    response_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    replay_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replays",
        verbose_name=_("replay of"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending", "failed"]),
                name="webhook_delivery_open",
            ),
            models.Index(
                fields=["endpoint", "-created_at"], name="webhook_delivery_log"
            ),
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id} → {self.endpoint_id}"
