"""Returns (RMA): goods a customer sends back, inspected per line, refunded or exchanged.

Imported by ``fulfillment.models`` so Django finds them; the services are in
``fulfillment.returns``.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReturnRequest(models.Model):
    """A customer's request to send goods of a shipped order back (退货/换货)."""

    class Reason(models.TextChoices):
        DAMAGED = "damaged", _("Damaged")
        WRONG_ITEM = "wrong_item", _("Wrong item")
        NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
        CHANGED_MIND = "changed_mind", _("Changed mind")
        OTHER = "other", _("Other")

    class Resolution(models.TextChoices):
        REFUND = "refund", _("Refund")
        EXCHANGE = "exchange", _("Exchange")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        RECEIVED = "received", _("Received, inspecting")
        COMPLETED = "completed", _("Completed")

    number = models.CharField(_("return number"), max_length=32, unique=True)
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="returns",
        verbose_name=_("order"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    resolution = models.CharField(
        _("resolution"),
        max_length=16,
        choices=Resolution.choices,
        default=Resolution.REFUND,
    )
    description = models.CharField(_("description"), max_length=500, blank=True)
    # Where the goods come back to: the warehouse that shipped them, unless staff say.
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("return to warehouse"),
    )
    staff_note = models.CharField(_("staff note"), max_length=300, blank=True)
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
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("completed by"),
    )
    refund = models.ForeignKey(
        "billing.Refund",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("refund"),
    )
    replacements = models.ManyToManyField(
        "fulfillment.Shipment",
        blank=True,
        related_name="+",
        verbose_name=_("replacement parcels"),
    )

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("decide_return", _("Can approve and reject returns")),
            ("inspect_return", _("Can receive and inspect returned goods")),
        ]
        indexes = [
            models.Index(fields=["status", "-requested_at"], name="return_status_time")
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("returns:detail", args=[self.number])

    @property
    def is_open(self):
        return self.status not in (self.Status.REJECTED, self.Status.COMPLETED)


class ReturnLine(models.Model):
    """Units of one shipped order line coming back, and what inspection made of them."""

    return_request = models.ForeignKey(
        ReturnRequest,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("return"),
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        related_name="return_lines",
        verbose_name=_("order line"),
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    restocked_quantity = models.PositiveIntegerField(_("restocked"), default=0)
    written_off_quantity = models.PositiveIntegerField(_("written off"), default=0)
    # Exchange for another SKU; empty: the same one again.
    replacement_product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replace with"),
    )
    inspection_note = models.CharField(_("inspection note"), max_length=300, blank=True)
    inspected_at = models.DateTimeField(_("inspected at"), null=True, blank=True)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("inspected by"),
    )

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="return_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(
                    restocked_quantity__lte=F("quantity") - F("written_off_quantity")
                ),
                name="return_line_inspected_within_quantity",
            ),
            models.UniqueConstraint(
                fields=["return_request", "order_line"], name="return_line_unique"
            ),
        ]

    def __str__(self):
        return f"{self.order_line.sku} × {self.quantity}"

    @property
    def inspected_quantity(self):
        return self.restocked_quantity + self.written_off_quantity

    @property
    def uninspected_quantity(self):
        return self.quantity - self.inspected_quantity
