"""Pick lists (one order or a wave of orders), short picks, box presets and packing.

Imported by ``fulfillment.models`` so Django finds them; the services are in
``fulfillment.picking`` and ``fulfillment.packing``.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PickList(models.Model):
    """What a picker fetches from one warehouse for one or more parcels (a wave)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    number = models.CharField(_("pick list number"), max_length=32, unique=True)
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.PROTECT,
        related_name="pick_lists",
        verbose_name=_("warehouse"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    # The filters the wave was built with, shown on the list for the record.
    filters = models.JSONField(_("filters"), default=dict, blank=True)
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
        verbose_name = _("pick list")
        verbose_name_plural = _("pick lists")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("fulfillment:pick_list_detail", args=[self.number])


class PickListParcel(models.Model):
    """A parcel on a pick list; a parcel is picked through one list only."""

    pick_list = models.ForeignKey(
        PickList,
        on_delete=models.CASCADE,
        related_name="parcels",
        verbose_name=_("pick list"),
    )
    shipment = models.OneToOneField(
        "fulfillment.Shipment",
        on_delete=models.CASCADE,
        related_name="pick_entry",
        verbose_name=_("parcel"),
    )
    # Tote or slot the picker sorts this parcel's items into (1, 2, 3…).
    position = models.PositiveSmallIntegerField(_("slot"))

    class Meta:
        verbose_name = _("parcel on a pick list")
        verbose_name_plural = _("parcels on pick lists")
        ordering = ["pick_list", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["pick_list", "position"], name="pick_list_slot_unique"
            )
        ]

    def __str__(self):
        return f"{self.pick_list.number} #{self.position}"


class ShortPick(models.Model):
    """A picker found fewer units at the bin than the list asked for."""

    class Reason(models.TextChoices):
        MISSING = "missing", _("Missing at the bin")
        DAMAGED = "damaged", _("Damaged")

    pick_list = models.ForeignKey(
        PickList,
        on_delete=models.CASCADE,
        related_name="short_picks",
        verbose_name=_("pick list"),
    )
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("units short"))
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    bin_code = models.CharField(_("bin location"), max_length=32, blank=True)
    # Order numbers taken off the list and sent back through allocation.
    orders = models.JSONField(_("orders re-allocated"), default=list, blank=True)
    created_at = models.DateTimeField(_("reported at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
    )

    class Meta:
        verbose_name = _("short pick")
        verbose_name_plural = _("short picks")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="short_pick_quantity_positive"
            )
        ]

    def __str__(self):
        return f"{self.pick_list.number}: {self.product_id} −{self.quantity}"


class BoxPreset(models.Model):
    """A carton size the pack station offers with one click."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    length_cm = models.PositiveSmallIntegerField(_("length (cm)"))
    width_cm = models.PositiveSmallIntegerField(_("width (cm)"))
    height_cm = models.PositiveSmallIntegerField(_("height (cm)"))
    # The empty carton, added to the goods when no scale reading is typed.
    tare_kg = models.DecimalField(
        _("box weight (kg)"), max_digits=6, decimal_places=3, default=Decimal("0")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("box preset")
        verbose_name_plural = _("box presets")
        ordering = ["length_cm", "width_cm", "height_cm"]
        constraints = [
            models.CheckConstraint(
                condition=Q(length_cm__gt=0) & Q(width_cm__gt=0) & Q(height_cm__gt=0),
                name="box_preset_size_positive",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.length_cm}×{self.width_cm}×{self.height_cm} cm)"


class Packing(models.Model):
    """The pack station's work on one parcel: items scanned so far, then box and weight.

    Kept in the database so a reload (or another packer) carries on where it stopped.
    """

    shipment = models.OneToOneField(
        "fulfillment.Shipment",
        on_delete=models.CASCADE,
        related_name="packing",
        verbose_name=_("parcel"),
    )
    # product id (as text, JSON keys) -> units scanned into the box
    scanned = models.JSONField(_("scanned"), default=dict, blank=True)
    box_preset = models.ForeignKey(
        BoxPreset,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("box"),
    )
    length_cm = models.PositiveSmallIntegerField(_("length (cm)"), null=True)
    width_cm = models.PositiveSmallIntegerField(_("width (cm)"), null=True)
    height_cm = models.PositiveSmallIntegerField(_("height (cm)"), null=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    packed_at = models.DateTimeField(_("packed at"), null=True, blank=True)
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("packed by"),
    )

    class Meta:
        verbose_name = _("packing")
        verbose_name_plural = _("packings")

    def __str__(self):
        return f"{self.shipment} packing"
