"""Notifications from payment providers (Alipay, WeChat Pay), each kept once."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import MONEY


class PaymentNotification(models.Model):
    """One notification a payment provider sent us, with its raw payload and what we did."""

    class Provider(models.TextChoices):
        ALIPAY = "alipay", _("Alipay")
        WECHAT = "wechat", _("WeChat Pay")

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Payment applied")
        REVIEW = "review", _("Held for finance review")
        IGNORED = "ignored", _("Nothing to do")
        CLOSED = "closed", _("Trade closed")
        UNKNOWN_ORDER = "unknown_order", _("No such order")
        REJECTED = "rejected", _("Rejected (not verified)")

    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    trade_no = models.CharField(_("provider trade number"), max_length=100, blank=True)
    trade_status = models.CharField(_("trade status"), max_length=32, blank=True)
    out_trade_no = models.CharField(_("our order number"), max_length=100, blank=True)
    amount = models.DecimalField(_("amount"), null=True, blank=True, **MONEY)
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_notifications",
        verbose_name=_("order"),
    )
    payment = models.ForeignKey(
        "billing.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("payment"),
    )
    verified = models.BooleanField(_("signature verified"), default=False)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    message = models.CharField(_("message"), max_length=300, blank=True)
    raw_payload = models.TextField(_("raw payload"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        ordering = ["-received_at", "-id"]
        constraints = [
            # Providers repeat a notification until we answer; a verified one is kept once.
            models.UniqueConstraint(
                fields=["provider", "trade_no", "trade_status"],
                condition=Q(verified=True),
                name="payment_notification_once",
            ),
        ]

    def __str__(self):
        return f"{self.get_provider_display()} {self.trade_no} {self.trade_status}"
