from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 12, "decimal_places": 2}


class Payment(models.Model):
    """Money received for an order (or, with a negative kind later, paid back)."""

    class Method(models.TextChoices):
        ALIPAY = "alipay", _("Alipay")
        WECHAT = "wechat", _("WeChat Pay")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        MARKETPLACE = "marketplace", _("Paid on marketplace")
        COD = "cod", _("Cash on delivery")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        REVIEW = "review", _("Needs review")
        VOID = "void", _("Void")

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("order"),
    )
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    provider_reference = models.CharField(_("reference"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.CONFIRMED
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["confirmed_at", "id"]
        permissions = [("confirm_payment", _("Can confirm payments"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payment_amount_positive"
            ),
            # A provider's notification arrives again and again; it is applied once.
            models.UniqueConstraint(
                fields=["method", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payment_reference_once",
            ),
        ]

    def __str__(self):
        return f"{self.get_method_display()} {self.amount}"


class Refund(models.Model):
    """Money to give back for an order: requested by a return, a lost parcel, or staff.

    Finance approves it, then pays it back through Alipay or WeChat Pay (when the
    order was paid there in one payment) or by hand, marking it paid with the
    transfer's reference.
    """

    class Source(models.TextChoices):
        RETURN = "return", _("Return")
        LOST_PARCEL = "lost_parcel", _("Lost parcel")
        GOODWILL = "goodwill", _("Goodwill")
        CANCELLATION = "cancellation", _("Cancellation")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")

    class ProviderState(models.TextChoices):
        """Where a refund sent through the payment provider stands."""

        NONE = "", _("Not sent")
        SENDING = "sending", _("Sending")
        PROCESSING = "processing", _("Provider processing")
        FAILED = "failed", _("Provider refused")
        REFUNDED = "refunded", _("Refunded by provider")

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="refunds",
        verbose_name=_("order"),
    )
    # The whole sum to pay back, shipping included.
    amount = models.DecimalField(_("amount"), **MONEY)
    shipping_amount = models.DecimalField(
        _("of which shipping"), **MONEY, default=Decimal("0")
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    # What asked for it, as "<kind>:<id>" (e.g. "return:12", "shipment:7"), so the
    # same return or lost parcel is refunded once.
    source_ref = models.CharField(_("source reference"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED
    )
    provider_reference = models.CharField(
        _("payment reference"), max_length=100, blank=True
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    # The payment the refund was sent back through (Alipay or WeChat Pay).
    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("refunded through payment"),
    )
    provider_state = models.CharField(
        _("provider state"),
        max_length=16,
        choices=ProviderState.choices,
        default=ProviderState.NONE,
        blank=True,
    )
    # The provider's last answer, or why there was none, for finance to read.
    provider_message = models.CharField(
        _("provider message"), max_length=300, blank=True
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_by_label = models.CharField(_("requested by"), max_length=64, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paid by"),
    )

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["requested_at", "id"]
        permissions = [("approve_refund", _("Can approve and pay refunds"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0)
                & Q(shipping_amount__gte=0)
                & Q(shipping_amount__lte=F("amount")),
                name="refund_amount_positive",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | ~Q(provider_reference=""),
                name="refund_paid_has_reference",
            ),
            # One live refund per return or lost parcel; a rejected one may be asked again.
            models.UniqueConstraint(
                fields=["source", "source_ref"],
                condition=~Q(source_ref="") & ~Q(status="rejected"),
                name="refund_source_once",
            ),
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.amount}"

    @property
    def provider_refund_no(self) -> str:
        """Return our number for this refund at the provider (out_request_no /
        out_refund_no): the same on every attempt, so it is paid back once."""
        return str(self.pk)


class RefundLine(models.Model):
    """Units of one order line that a refund pays back, and what they are worth."""

    refund = models.ForeignKey(
        Refund, on_delete=models.CASCADE, related_name="lines", verbose_name=_("refund")
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        related_name="refund_lines",
        verbose_name=_("order line"),
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("refund line")
        verbose_name_plural = _("refund lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0) & Q(amount__gte=0),
                name="refund_line_positive",
            ),
        ]

    def __str__(self):
        return f"{self.order_line.sku} × {self.quantity}"


from billing.cod_models import (  # noqa: E402, F401
    CodCollection,
    CodDifference,
    CodRemittance,
    CodRemittanceLine,
    MarketplaceSettlement,
    MarketplaceSettlementLine,
)
from billing.journal_models import (  # noqa: E402, F401
    Account,
    JournalEntry,
    JournalLine,
)
from billing.payment_models import PaymentNotification  # noqa: E402, F401
