from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Carrier(models.Model):
    """A courier company the shop hands parcels to."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # Where a customer can look a parcel up; "{number}" is replaced.
    tracking_url = models.CharField(_("tracking URL"), max_length=200, blank=True)
    supports_cod = models.BooleanField(_("cash on delivery"), default=False)
    # Provinces the carrier delivers to; empty: everywhere.
    regions = models.JSONField(
        _("regions served"),
        default=list,
        blank=True,
        help_text=_('Provinces, e.g. ["江苏", "浙江", "上海"]; empty: everywhere.'),
    )
    # A regular expression; empty: the built-in format for its code, if one is known
    # (fulfillment/carriers.py TRACKING_NUMBER_FORMATS).
    tracking_number_pattern = models.CharField(
        _("tracking number format"),
        max_length=200,
        blank=True,
        help_text=_(
            "A regular expression the whole number must match; empty: the built-in"
            " format for the carrier's code, if one is known."
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def tracking_url_for(self, number):
        return (
            self.tracking_url.replace("{number}", number) if self.tracking_url else ""
        )


class Shipment(models.Model):
    """One parcel: the lines it carries, from one warehouse, with one tracking number."""

    class Status(models.TextChoices):
        PICKING = "picking", _("Picking")
        PACKED = "packed", _("Packed")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        # Lost or returned, and a replacement parcel was sent in its place.
        REPLACED = "replaced", _("Replaced")

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="shipments",
        verbose_name=_("order"),
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.PROTECT,
        related_name="shipments",
        verbose_name=_("warehouse"),
    )
    carrier = models.ForeignKey(
        Carrier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments",
        verbose_name=_("carrier"),
    )
    service = models.ForeignKey(
        "fulfillment.CarrierService",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments",
        verbose_name=_("service"),
    )
    tracking_number = models.CharField(_("tracking number"), max_length=40, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PICKING
    )
    weight_kg = models.DecimalField(
        _("parcel weight (kg)"), max_digits=8, decimal_places=3, default=Decimal("0")
    )
    # Latest normalised tracking state, kept here so lists need no join.
    tracking_status = models.CharField(_("tracking status"), max_length=24, blank=True)
    last_location = models.CharField(_("last location"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shipped by"),
    )

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"],
                condition=~Q(tracking_number=""),
                name="shipment_tracking_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["picking", "packed", "cancelled"])
                | ~Q(tracking_number=""),
                name="shipment_shipped_has_tracking_number",
            ),
        ]
        # The dashboard's exception rates count the parcels each carrier shipped
        # lately: a short range of this index, without the table.
        indexes = [
            models.Index(
                fields=["shipped_at", "carrier"], name="shipment_shipped_carrier"
            )
        ]

    def __str__(self):
        return self.tracking_number or f"#{self.pk}"

    @property
    def tracking_url(self):
        return (
            self.carrier.tracking_url_for(self.tracking_number) if self.carrier else ""
        )


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(
        Shipment,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("shipment"),
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        related_name="shipment_lines",
        verbose_name=_("order line"),
    )
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="shipment_line_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["shipment", "order_line"], name="shipment_line_unique"
            ),
        ]

    def __str__(self):
        return f"{self.order_line.sku} × {self.quantity}"


from fulfillment.carrier_models import (  # noqa: E402, F401
    CarrierAccount,
    CarrierService,
    ChannelShipping,
)
from fulfillment.picking_models import (  # noqa: E402, F401
    BoxPreset,
    Packing,
    PickList,
    PickListParcel,
    ShortPick,
)
from fulfillment.return_models import ReturnLine, ReturnRequest  # noqa: E402, F401
