from django.conf import settings
from django.db import models
from django.db.models import Q
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
