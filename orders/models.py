from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 12, "decimal_places": 2}


class Channel(models.Model):
    """A sales channel: the shop's website, app, phone line, or a marketplace store."""

    class Kind(models.TextChoices):
        WEB = "web", _("Website")
        APP = "app", _("Mobile app")
        PHONE = "phone", _("Phone")
        MARKETPLACE = "marketplace", _("Marketplace")
        API = "api", _("API")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    active = models.BooleanField(_("active"), default=True)
    # Shared secret for pushed orders (HMAC-SHA256); empty: pushes are refused.
    webhook_secret = models.CharField(_("webhook secret"), max_length=128, blank=True)
    # Marketplace file imports: the platform of this store's exports ("taobao",
    # "jd", "pinduoduo"; empty: found from the headers), or a column mapping of
    # its own for another platform (see orders/adapters/marketplaces.py).
    import_platform = models.CharField(_("export format"), max_length=16, blank=True)
    import_mapping = models.JSONField(
        _("custom column mapping"), default=dict, blank=True
    )

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from orders.adapters.marketplace_files import MarketplaceFileError
        from orders.adapters.marketplaces import BUILT_IN, mapping_validate

        if self.import_platform and self.import_platform not in BUILT_IN:
            raise ValidationError(
                {
                    "import_platform": _("Known formats: %(formats)s.")
                    % {"formats": ", ".join(BUILT_IN)}
                }
            )
        if self.import_mapping:
            try:
                mapping_validate(self.import_mapping)
            except MarketplaceFileError as exc:
                raise ValidationError({"import_mapping": str(exc)}) from exc


class ChannelToken(models.Model):
    """An API key of one channel. Only its SHA-256 digest is stored; the key is shown once."""

    channel = models.ForeignKey(
        Channel,
        on_delete=models.CASCADE,
        related_name="tokens",
        verbose_name=_("channel"),
    )
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("channel API key")
        verbose_name_plural = _("channel API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.channel.code} {self.prefix}…"


class WebhookReceipt(models.Model):
    """A signed push already accepted; a second delivery of the same signature is a replay."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "signature"], name="webhook_receipt_once"
            )
        ]

    def __str__(self):
        return f"{self.channel_id}:{self.signature[:12]}"


class Customer(models.Model):
    """One person across every channel, matched by normalised phone number."""

    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"],
                condition=~Q(phone=""),
                name="customer_phone_unique",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.phone})" if self.phone else self.name


class Order(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        NEEDS_CORRECTION = "needs_correction", _("Needs correction")
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        BACKORDERED = "backordered", _("Backordered")
        READY_TO_FULFILL = "ready_to_fulfill", _("Ready to fulfil")
        IN_FULFILLMENT = "in_fulfillment", _("In fulfilment")
        PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class PaymentStatus(models.TextChoices):
        UNPAID = "unpaid", _("Unpaid")
        PAID = "paid", _("Paid")
        COD_PENDING = "cod_pending", _("Cash on delivery: to collect")
        COD_COLLECTED = "cod_collected", _("Cash on delivery: collected")
        REFUNDED = "refunded", _("Refunded")

    class PaymentMethod(models.TextChoices):
        PREPAID = "prepaid", _("Prepaid")
        COD = "cod", _("Cash on delivery")

    number = models.CharField(_("order number"), max_length=20, unique=True)
    channel = models.ForeignKey(
        Channel,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("channel"),
    )
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("customer"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    payment_status = models.CharField(
        _("payment status"),
        max_length=16,
        choices=PaymentStatus.choices,
        default=PaymentStatus.UNPAID,
    )
    payment_method = models.CharField(
        _("payment method"), max_length=16, choices=PaymentMethod.choices
    )
    # Shipping address and recipient, as the customer gave them for this order.
    recipient_name = models.CharField(_("recipient"), max_length=100)
    recipient_phone = models.CharField(_("recipient phone"), max_length=20)
    province = models.CharField(_("province"), max_length=32, blank=True)
    city = models.CharField(_("city"), max_length=32, blank=True)
    district = models.CharField(_("district"), max_length=32, blank=True)
    address_detail = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=6, blank=True)

    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    subtotal = models.DecimalField(_("subtotal"), **MONEY, default=Decimal("0"))
    discount_total = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    shipping_fee = models.DecimalField(_("shipping fee"), **MONEY, default=Decimal("0"))
    tax_total = models.DecimalField(_("tax"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))

    buyer_note = models.CharField(_("buyer note"), max_length=500, blank=True)
    coupon_code = models.CharField(_("coupon code"), max_length=40, blank=True)
    # SHA-256 of the order as the channel sent it: a replay with the same content is
    # answered with the same order, a different content under the same id is refused.
    intake_fingerprint = models.CharField(
        _("intake fingerprint"), max_length=64, blank=True
    )
    problems = models.JSONField(_("problems"), default=list, blank=True)
    import_batch = models.ForeignKey(
        "orders.ImportBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders_created",
        verbose_name=_("created by import"),
    )
    placed_at = models.DateTimeField(
        _("placed at"), default=timezone.now, db_index=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        permissions = [
            ("cancel_order", _("Can cancel orders")),
            ("complete_order", _("Can close settled orders")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="order_external_id_unique_per_channel",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0)
                & Q(discount_total__gte=0)
                & Q(shipping_fee__gte=0)
                & Q(tax_total__gte=0)
                & Q(total__gte=0),
                name="order_money_not_negative",
            ),
            models.CheckConstraint(
                # Round(): SQLite keeps decimals as binary floats (3 × 39.90 ≠ 119.70).
                condition=Q(
                    total=Round(
                        F("subtotal")
                        - F("discount_total")
                        + F("shipping_fee")
                        + F("tax_total"),
                        2,
                    )
                ),
                name="order_total_adds_up",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-placed_at"], name="order_status_placed")
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("console:order_detail", args=[self.number])

    @property
    def status_url(self):
        """Return the link customers follow to this order's status page."""
        return f"{settings.SITE_URL}/track/?number={self.number}"

    @property
    def full_address(self):
        return f"{self.province}{self.city}{self.district}{self.address_detail}"

    @property
    def is_cod(self):
        return self.payment_method == self.PaymentMethod.COD


class OrderLine(models.Model):
    """One SKU on an order, with name and price as they were when the order was placed."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.PROTECT,
        related_name="order_lines",
        verbose_name=_("product"),
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    quantity = models.PositiveIntegerField(_("quantity"))
    discount = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    line_total = models.DecimalField(_("line total"), **MONEY)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0)
                & Q(discount__gte=0)
                & Q(line_total__gte=0),
                name="order_line_money_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    line_total=Round(F("unit_price") * F("quantity") - F("discount"), 2)
                ),
                name="order_line_total_adds_up",
            ),
        ]

    def __str__(self):
        return f"{self.sku} × {self.quantity}"


class OrderEvent(models.Model):
    """Something that happened to an order: who, when, what changed."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Order created")
        STATUS = "status", _("Status changed")
        PAYMENT = "payment", _("Payment")
        STOCK = "stock", _("Stock")
        SHIPMENT = "shipment", _("Shipment")
        TRACKING = "tracking", _("Tracking")
        NOTIFICATION = "notification", _("Notification")
        CORRECTION = "correction", _("Correction")
        NOTE = "note", _("Note")

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    actor_label = models.CharField(_("by"), max_length=64, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["order", "created_at"], name="order_event_timeline")
        ]

    def __str__(self):
        return f"{self.order_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def who(self):
        """Return who did it: the staff member's name, or the system/channel label."""
        if self.actor_id:
            return self.actor.get_full_name() or self.actor.get_username()
        return self.actor_label or _("system")


class ImportBatch(models.Model):
    """One uploaded marketplace export and what importing it did."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    channel = models.ForeignKey(
        Channel,
        on_delete=models.PROTECT,
        related_name="imports",
        verbose_name=_("channel"),
    )
    platform = models.CharField(_("platform"), max_length=16, blank=True)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    items_file = models.FileField(
        _("items file"), upload_to="imports/%Y/%m/", blank=True
    )
    original_name = models.CharField(_("file name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    rows_done = models.PositiveIntegerField(_("rows read"), default=0)
    # Counted before the rows are read, for the progress bar; a CSV cell with a
    # line break makes it a little high.
    rows_total = models.PositiveIntegerField(_("rows in file"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"


class ChannelListing(models.Model):
    """A marketplace's name for one of our products: its outer id, item id or title.

    Imports match a platform line by SKU code first, then through these.
    """

    channel = models.ForeignKey(
        Channel,
        on_delete=models.CASCADE,
        related_name="listings",
        verbose_name=_("channel"),
    )
    code = models.CharField(_("platform code or title"), max_length=200)
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.CASCADE,
        related_name="listings",
        verbose_name=_("product"),
    )

    class Meta:
        verbose_name = _("marketplace listing")
        verbose_name_plural = _("marketplace listings")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "code"], name="listing_code_unique_per_channel"
            )
        ]

    def __str__(self):
        return f"{self.channel}: {self.code} → {self.product}"


class ImportRejection(models.Model):
    """A row of an import that was not taken, with its row number and why."""

    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.CASCADE,
        related_name="rejections",
        verbose_name=_("import"),
    )
    row = models.PositiveIntegerField(_("row"))
    # "" for the orders file, "items" for a Taobao 宝贝报表 uploaded with it.
    file = models.CharField(_("file"), max_length=8, blank=True)
    field = models.CharField(_("field"), max_length=40, blank=True)
    code = models.CharField(_("code"), max_length=40)
    message = models.CharField(_("reason"), max_length=300)

    class Meta:
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        ordering = ["row", "id"]

    def __str__(self):
        return f"{self.row}: {self.message}"
