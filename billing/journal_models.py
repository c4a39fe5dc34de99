"""Financial records (财务记录): a double-entry journal, append-only.

Written only by ``billing.journal``; corrections are reversing entries, never edits.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}


class Account(models.Model):
    """An account of the shop's small chart of accounts."""

    class Kind(models.TextChoices):
        ASSET = "asset", _("Asset")
        LIABILITY = "liability", _("Liability")
        INCOME = "income", _("Income")
        EXPENSE = "expense", _("Expense")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class JournalEntry(models.Model):
    """One balanced posting; at most one per (kind, source) so a retry never posts twice."""

    class Kind(models.TextChoices):
        SALE = "sale", _("Sale recognised")
        COGS = "cogs", _("Cost of goods")
        PAYMENT = "payment", _("Payment received")
        COD_COLLECTION = "cod_collection", _("COD collected")
        COD_REMITTANCE = "cod_remittance", _("COD remitted")
        SETTLEMENT = "settlement", _("Marketplace settlement")
        CARRIER_CHARGE = "carrier_charge", _("Carrier charge")
        REFUND = "refund", _("Refund paid")
        REVERSAL = "reversal", _("Reversal")

    date = models.DateField(_("date"), db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=64)
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="journal_entries",
        verbose_name=_("order"),
    )
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["date", "id"]
        permissions = [("view_finance_reports", _("Can view financial reports"))]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source"], name="journal_entry_once_per_source"
            ),
        ]
        indexes = [models.Index(fields=["kind", "date"])]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.source}"


class JournalLine(models.Model):
    """A debit or a credit on one account; one side is always zero.

    Besides the account a line carries analytic dimensions, copied or known when it is
    posted: the entry's date, the order's channel, and for goods figures the product and
    the warehouse. The reports read lines alone, so a month over a million orders is
    one index range with no joins (see ``billing.reports``).
    """

    entry = models.ForeignKey(
        JournalEntry,
        on_delete=models.PROTECT,
        related_name="lines",
        verbose_name=_("entry"),
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    debit = models.DecimalField(_("debit"), **MONEY, default=Decimal("0"))
    credit = models.DecimalField(_("credit"), **MONEY, default=Decimal("0"))
    date = models.DateField(_("date"))
    channel = models.ForeignKey(
        "orders.Channel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("channel"),
    )
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("product"),
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("warehouse"),
    )

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        ordering = ["entry_id", "id"]
        indexes = [
            # The reports read these indexes alone (index-only scans on PostgreSQL):
            # per account a date range, channel filtered inside the index; the
            # receivables are two accounts' lines up to a day.
            models.Index(
                fields=["account", "date"],
                include=["channel", "product", "warehouse", "debit", "credit"],
                name="journal_line_report",
            ),
            # A SKU's or a warehouse's lines, found directly.
            models.Index(
                fields=["product", "date"],
                include=["account", "channel", "warehouse", "debit", "credit"],
                condition=Q(product__isnull=False),
                name="journal_line_product",
            ),
            models.Index(
                fields=["warehouse", "date"],
                include=["account", "channel", "product", "debit", "credit"],
                condition=Q(warehouse__isnull=False),
                name="journal_line_warehouse",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(debit__gte=0) & Q(credit__gte=0),
                name="journal_line_not_negative",
            ),
            models.CheckConstraint(
                condition=(Q(debit=0) & Q(credit__gt=0))
                | (Q(credit=0) & Q(debit__gt=0)),
                name="journal_line_one_sided",
            ),
        ]

    def __str__(self):
        return f"{self.account.code} {self.debit} / {self.credit}"
