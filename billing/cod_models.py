"""Cash on delivery per parcel, the carriers' remittances, and marketplace settlements.

Imported from billing/models.py, so Django sees these as billing's models.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 12, "decimal_places": 2}


def _user(name):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=name,
    )


class Resolution(models.Model):
    """A difference finance closes with a note, recording who and when."""

    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = _user(_("resolved by"))
    resolved_by_label = models.CharField(_("resolved by"), max_length=64, blank=True)
    resolution_note = models.CharField(_("resolution"), max_length=300, blank=True)

    class Meta:
        abstract = True


class CodCollection(models.Model):
    """The cash the courier collected for one parcel of a cash-on-delivery order."""

    class Source(models.TextChoices):
        SCAN = "scan", _("Carrier's delivered scan")
        STAFF = "staff", _("Entered by staff")

    shipment = models.OneToOneField(
        "fulfillment.Shipment",
        on_delete=models.PROTECT,
        related_name="cod_collection",
        verbose_name=_("parcel"),
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="cod_collections",
        verbose_name=_("order"),
    )
    # The parcel's share of the order's cash to collect, as printed on its label.
    amount_due = models.DecimalField(_("amount due"), **MONEY)
    amount = models.DecimalField(_("amount collected"), **MONEY)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    payment = models.ForeignKey(
        "billing.Payment",
        on_delete=models.PROTECT,
        related_name="cod_collections",
        verbose_name=_("payment"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    collected_at = models.DateTimeField(_("collected at"), default=timezone.now)
    recorded_by = _user(_("recorded by"))

    class Meta:
        verbose_name = _("COD collection")
        verbose_name_plural = _("COD collections")
        ordering = ["collected_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(amount_due__gte=0),
                name="cod_collection_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.shipment} ¥{self.amount}"


class CodRemittance(models.Model):
    """One batch of cash-on-delivery money a carrier paid over to the shop."""

    class Source(models.TextChoices):
        IMPORT = "import", _("Imported file")
        MANUAL = "manual", _("Entered by hand")

    carrier = models.ForeignKey(
        "fulfillment.Carrier",
        on_delete=models.PROTECT,
        related_name="cod_remittances",
        verbose_name=_("carrier"),
    )
    reference = models.CharField(_("remittance reference"), max_length=64)
    remitted_on = models.DateField(_("remitted on"))
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))
    # Rows of the file not taken: [{"row": 7, "reason": "..."}].
    rejected_rows = models.JSONField(_("rejected rows"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = _user(_("created by"))

    class Meta:
        verbose_name = _("COD remittance")
        verbose_name_plural = _("COD remittances")
        ordering = ["-remitted_on", "-id"]
        permissions = [
            ("reconcile_cod", _("Can reconcile cash on delivery remittances"))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "reference"], name="cod_remittance_reference_once"
            ),
        ]

    def __str__(self):
        return f"{self.carrier} {self.reference}"


class CodRemittanceLine(models.Model):
    """One parcel's money in a remittance, matched to its collection when known."""

    remittance = models.ForeignKey(
        CodRemittance,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("remittance"),
    )
    row_number = models.PositiveIntegerField(_("row"), null=True, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=40)
    amount = models.DecimalField(_("amount"), **MONEY)
    collection = models.ForeignKey(
        CodCollection,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="remittance_lines",
        verbose_name=_("collection"),
    )

    class Meta:
        verbose_name = _("COD remittance line")
        verbose_name_plural = _("COD remittance lines")
        ordering = ["id"]

    def __str__(self):
        return f"{self.tracking_number} ¥{self.amount}"


class CodDifference(Resolution):
    """Something in the COD money that does not add up, open until finance resolves it."""

    class Kind(models.TextChoices):
        MISSING = "missing", _("Collected, not remitted")
        SHORT = "short", _("Remitted short")
        EXTRA = "extra", _("Remitted too much")
        UNKNOWN = "unknown", _("Unknown tracking number")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    carrier = models.ForeignKey(
        "fulfillment.Carrier",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("carrier"),
    )
    tracking_number = models.CharField(_("tracking number"), max_length=40)
    collection = models.ForeignKey(
        CodCollection,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="differences",
        verbose_name=_("collection"),
    )
    remittance_line = models.ForeignKey(
        CodRemittanceLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="differences",
        verbose_name=_("remittance line"),
    )
    expected = models.DecimalField(_("expected"), **MONEY)
    received = models.DecimalField(_("received"), **MONEY)
    found_at = models.DateTimeField(_("found at"), default=timezone.now)

    class Meta:
        verbose_name = _("COD difference")
        verbose_name_plural = _("COD differences")
        ordering = ["found_at", "id"]
        constraints = [
            # A collection is missing from the remittances once at a time.
            models.UniqueConstraint(
                fields=["collection"],
                condition=Q(kind="missing", resolved_at__isnull=True),
                name="cod_difference_missing_once",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | ~Q(resolution_note=""),
                name="cod_difference_resolved_with_note",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.tracking_number}"

    @property
    def difference(self) -> Decimal:
        return self.received - self.expected


class MarketplaceSettlement(models.Model):
    """One settlement file from a marketplace: what the platform paid out per order."""

    channel = models.ForeignKey(
        "orders.Channel",
        on_delete=models.PROTECT,
        related_name="settlements",
        verbose_name=_("channel"),
    )
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    rejected_rows = models.JSONField(_("rejected rows"), default=list, blank=True)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    imported_by = _user(_("imported by"))

    class Meta:
        verbose_name = _("marketplace settlement")
        verbose_name_plural = _("marketplace settlements")
        ordering = ["-imported_at", "-id"]

    def __str__(self):
        return f"{self.channel} {self.file_name or self.pk}"


class MarketplaceSettlementLine(Resolution):
    """One order's settlement: money received and the platform's fee.

    A row that differs from its order, or matches no order, stays open until
    finance resolves it with a note.
    """

    class Status(models.TextChoices):
        MATCHED = "matched", _("Matched")
        DIFFERENT = "different", _("Amount differs")
        UNMATCHED = "unmatched", _("No such order")

    settlement = models.ForeignKey(
        MarketplaceSettlement,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("settlement"),
    )
    row_number = models.PositiveIntegerField(_("row"))
    external_id = models.CharField(_("order external id"), max_length=64)
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="settlement_lines",
        verbose_name=_("order"),
    )
    amount_received = models.DecimalField(_("amount received"), **MONEY)
    platform_fee = models.DecimalField(_("platform fee"), **MONEY)
    # What the buyer paid for the order; received + fee should make it.
    expected = models.DecimalField(_("expected"), **MONEY, null=True, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)

    class Meta:
        verbose_name = _("marketplace settlement line")
        verbose_name_plural = _("marketplace settlement lines")
        ordering = ["id"]
        constraints = [
            # An order is settled once: the same file imported again adds nothing.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(order__isnull=False),
                name="settlement_line_order_once",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | ~Q(resolution_note=""),
                name="settlement_line_resolved_with_note",
            ),
        ]

    def __str__(self):
        return f"{self.external_id} ¥{self.amount_received}"

    @property
    def difference(self) -> Decimal | None:
        if self.expected is None:
            return None
        return self.amount_received + self.platform_fee - self.expected
