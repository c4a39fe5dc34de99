from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 12, "decimal_places": 2}


class Product(models.Model):
    """A sellable item, identified by its SKU code."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    barcode = models.CharField(_("barcode"), max_length=64, blank=True, db_index=True)
    category = models.CharField(_("category"), max_length=64, blank=True)
    price = models.DecimalField(_("price"), **MONEY)
    cost = models.DecimalField(_("cost"), **MONEY, default=Decimal("0"))
    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=8, decimal_places=3, default=Decimal("0")
    )
    active = models.BooleanField(_("active"), default=True)
    # Replenishment: see inventory.selectors.replenishment_rows for the formula.
    safety_stock = models.PositiveIntegerField(
        _("safety stock"),
        default=0,
        help_text=_("Units kept in each warehouse for surprises in demand or supply."),
    )
    lead_time_days = models.PositiveSmallIntegerField(
        _("supplier lead time (days)"),
        default=7,
        help_text=_("Days from ordering from the supplier to the goods arriving."),
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0) & Q(cost__gte=0) & Q(weight_kg__gte=0),
                name="product_values_not_negative",
            )
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"


class Warehouse(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    province = models.CharField(_("province"), max_length=32, blank=True)
    city = models.CharField(_("city"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # Lower numbers are tried first when stock is reserved.
    priority = models.PositiveSmallIntegerField(_("priority"), default=10)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["priority", "code"]

    def __str__(self):
        return self.name


class StockLevel(models.Model):
    """How many units of a product a warehouse holds, and how many are promised."""

    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="stock_levels",
        verbose_name=_("product"),
    )
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        related_name="stock_levels",
        verbose_name=_("warehouse"),
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    reorder_point = models.PositiveIntegerField(
        _("reorder point"),
        null=True,
        blank=True,
        help_text=_(
            "Warn when available stock falls to this many units. "
            "Empty: calculated from sales, lead time and safety stock."
        ),
    )
    # Per-warehouse overrides of the product's figures (a supplier near one warehouse
    # delivers there sooner); empty: the product's own.
    safety_stock = models.PositiveIntegerField(
        _("safety stock here"),
        null=True,
        blank=True,
        help_text=_("Empty: the product's safety stock."),
    )
    lead_time_days = models.PositiveSmallIntegerField(
        _("supplier lead time here (days)"),
        null=True,
        blank=True,
        help_text=_("Empty: the product's supplier lead time."),
    )
    # Since when the level has been at or below its reorder point (empty: above it),
    # so the "stock low" webhook is sent once each time it falls, not at every check.
    low_since = models.DateTimeField(
        _("low since"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["product__sku", "warehouse__priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"], name="stock_level_unique"
            ),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(on_hand__gte=F("reserved")),
                name="stock_reserved_within_on_hand",
            ),
        ]

    def __str__(self):
        return f"{self.product.sku} @ {self.warehouse.code}: {self.on_hand}/{self.reserved}"

    @property
    def available(self):
        return self.on_hand - self.reserved

    @property
    def safety_stock_effective(self) -> int:
        """Return the safety stock that counts here: this level's, else the product's."""
        if self.safety_stock is not None:
            return self.safety_stock
        return self.product.safety_stock

    @property
    def lead_time_effective(self) -> int:
        """Return the supplier lead time (days) that counts here: this level's, else the product's."""
        if self.lead_time_days is not None:
            return self.lead_time_days
        return self.product.lead_time_days


class Reservation(models.Model):
    """Units of a product held in one warehouse for one order until it ships or is cancelled."""

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.CASCADE,
        related_name="reservations",
        verbose_name=_("order"),
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, verbose_name=_("product")
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, verbose_name=_("warehouse")
    )
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "product", "warehouse"], name="reservation_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="reservation_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.order_id}: {self.product_id} × {self.quantity} @ {self.warehouse_id}"


class StockMovement(models.Model):
    """The ledger: every change of on-hand or reserved units, with why and who."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        ADJUSTED = "adjusted", _("Adjusted")
        RESERVED = "reserved", _("Reserved")
        RELEASED = "released", _("Released")
        SHIPPED = "shipped", _("Shipped")
        RETURNED = "returned", _("Returned")
        STOCKTAKE = "stocktake", _("Stocktake")

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, verbose_name=_("product")
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, verbose_name=_("warehouse")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    on_hand_delta = models.IntegerField(_("on hand change"), default=0)
    reserved_delta = models.IntegerField(_("reserved change"), default=0)
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_movements",
        verbose_name=_("order"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    # Supplier delivery note, return number or stocktake sheet the change came from.
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["product", "warehouse"], name="movement_product_wh"),
            # Sales velocity reads recent movements of one kind.
            models.Index(fields=["kind", "created_at"], name="movement_kind_time"),
        ]

    def __str__(self):
        return f"{self.kind} {self.product_id}@{self.warehouse_id} {self.on_hand_delta:+}/{self.reserved_delta:+}"


class WarehouseRegion(models.Model):
    """Which warehouses serve a destination province, nearest first (the ``nearest`` strategy)."""

    province = models.CharField(_("province"), max_length=32)
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.CASCADE,
        related_name="regions",
        verbose_name=_("warehouse"),
    )
    # Lower numbers are nearer: tried first for orders to this province.
    rank = models.PositiveSmallIntegerField(_("rank"), default=1)

    class Meta:
        verbose_name = _("warehouse region")
        verbose_name_plural = _("warehouse regions")
        ordering = ["province", "rank", "warehouse__priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "warehouse"], name="warehouse_region_unique"
            )
        ]

    def __str__(self):
        return f"{self.province} → {self.warehouse} ({self.rank})"


class BinLocation(models.Model):
    """Where a product sits on the shelves of one warehouse (aisle-rack-shelf, e.g. A-03-2).

    Pick lists are sorted by this code, so a picker walks the warehouse once.
    """

    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="bin_locations",
        verbose_name=_("product"),
    )
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.CASCADE,
        related_name="bin_locations",
        verbose_name=_("warehouse"),
    )
    code = models.CharField(_("bin location"), max_length=32)

    class Meta:
        verbose_name = _("bin location")
        verbose_name_plural = _("bin locations")
        ordering = ["warehouse__priority", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"], name="bin_location_unique"
            ),
            models.CheckConstraint(
                condition=~Q(code=""), name="bin_location_code_not_empty"
            ),
        ]

    def __str__(self):
        return f"{self.product.sku} @ {self.warehouse.code}: {self.code}"


class StockAdjustmentReceipt(models.Model):
    """A stock adjustment an outside warehouse system sent through the API, by its reference.

    Kept so a retried request is answered with the first answer and never applied
    twice (the unique constraint decides, not a check before inserting). A counted
    quantity that matched the books has no movement but still a receipt.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("staff member"),
    )
    reference = models.CharField(_("reference"), max_length=100)
    # SHA-256 of what was asked: the same reference with other content is refused.
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    movement = models.ForeignKey(
        StockMovement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("stock movement"),
    )
    on_hand_delta = models.IntegerField(_("on hand change"), default=0)
    on_hand = models.IntegerField(_("on hand after"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("API stock adjustment")
        verbose_name_plural = _("API stock adjustments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "reference"], name="stock_adjustment_reference_once"
            )
        ]

    def __str__(self):
        return f"{self.reference} {self.on_hand_delta:+}"
