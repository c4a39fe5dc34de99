"""Carrier services and accounts, and each channel's shipping deadline and carrier.

Imported by ``fulfillment.models`` so Django finds them; the rules that use them are
in ``fulfillment.carriers``. A carrier's rate table is its ``orders.ShippingRule``
rows (首重/续重 per province group), the same table pricing uses.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CarrierService(models.Model):
    """A product of a carrier: 标快, 特快, 经济件…"""

    carrier = models.ForeignKey(
        "fulfillment.Carrier",
        on_delete=models.CASCADE,
        related_name="services",
        verbose_name=_("carrier"),
    )
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("carrier service")
        verbose_name_plural = _("carrier services")
        ordering = ["carrier__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "code"], name="carrier_service_code_unique"
            )
        ]

    def __str__(self):
        return f"{self.carrier.name} {self.name}"


class CarrierAccount(models.Model):
    """The shop's account (月结账号) with a carrier, for one warehouse or all of them.

    ``label_source`` says who draws the label: our own renderer, or later the
    carrier's e-waybill (电子面单) API through ``fulfillment.labels``.
    """

    class LabelSource(models.TextChoices):
        OWN = "own", _("Our own label")

    carrier = models.ForeignKey(
        "fulfillment.Carrier",
        on_delete=models.CASCADE,
        related_name="accounts",
        verbose_name=_("carrier"),
    )
    name = models.CharField(_("name"), max_length=100)
    account_number = models.CharField(
        _("account number"), max_length=64, help_text=_("月结账号 / customer code")
    )
    # Empty: the account ships from every warehouse.
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="carrier_accounts",
        verbose_name=_("warehouse"),
    )
    label_source = models.CharField(
        _("label source"),
        max_length=16,
        choices=LabelSource.choices,
        default=LabelSource.OWN,
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("carrier account")
        verbose_name_plural = _("carrier accounts")
        ordering = ["carrier__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "account_number"],
                name="carrier_account_number_unique",
            )
        ]

    def __str__(self):
        return f"{self.carrier.name} {self.name}"


class ChannelShipping(models.Model):
    """How fast a channel's orders must ship, and the carrier it ships them with."""

    channel = models.OneToOneField(
        "orders.Channel",
        on_delete=models.CASCADE,
        related_name="shipping_policy",
        verbose_name=_("channel"),
    )
    ship_within_hours = models.PositiveIntegerField(
        _("ship within (hours)"),
        default=48,
        help_text=_("Hours after the order is accepted (paid, or COD confirmed)."),
    )
    # Empty: the cheapest carrier for the parcel (fulfillment/carriers.py).
    carrier = models.ForeignKey(
        "fulfillment.Carrier",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("carrier"),
    )

    class Meta:
        verbose_name = _("channel shipping policy")
        verbose_name_plural = _("channel shipping policies")
        ordering = ["channel__name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ship_within_hours__gt=0),
                name="channel_shipping_hours_positive",
            )
        ]

    def __str__(self):
        return str(self.channel)
