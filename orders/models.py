from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Right, Round, Upper
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
    # The shop's own app backend, told of customer notifications by a signed
    # webhook (HMAC-SHA256 over timestamp and body); empty: no app push.
    push_url = models.URLField(_("app push URL"), blank=True)
    push_secret = models.CharField(_("app push secret"), max_length=128, blank=True)

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
    # The customer's choice per channel; messages already waiting are skipped too.
    notify_email = models.BooleanField(_("email messages"), default=True)
    notify_sms = models.BooleanField(_("SMS messages"), default=True)
    notify_push = models.BooleanField(_("app notifications"), default=True)
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
        # The order search finds customers by the last 4 digits of their phone;
        # the customer search by email, whatever its case (email__iexact).
        indexes = [
            models.Index(Right("phone", 4), name="customer_phone_last4"),
            models.Index(Upper("email"), name="customer_email_upper"),
        ]
        permissions = [
            ("merge_customer", _("Can merge customers")),
        ]

    def __str__(self):
        return f"{self.name} ({self.phone})" if self.phone else self.name

    def get_absolute_url(self):
        return reverse("customers:detail", kwargs={"pk": self.pk})


class CustomerNote(models.Model):
    """What staff wrote down about a customer, and what was done to the record (a merge)."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="notes",
        verbose_name=_("customer"),
    )
    text = models.CharField(_("note"), max_length=1000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("customer note")
        verbose_name_plural = _("customer notes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["customer", "-created_at"], name="customer_note_recent"
            )
        ]

    def __str__(self):
        return self.text[:50]


class Order(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        NEEDS_CORRECTION = "needs_correction", _("Needs correction")
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        REVIEW = "review", _("In review")
        BACKORDERED = "backordered", _("Backordered")
        READY_TO_FULFILL = "ready_to_fulfill", _("Ready to fulfil")
        IN_FULFILLMENT = "in_fulfillment", _("In fulfilment")
        PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        # Goods sent back after delivery, refunded (exchanges keep the order as it is).
        PARTIALLY_RETURNED = "partially_returned", _("Partially returned")
        RETURNED = "returned", _("Returned")

    class PaymentStatus(models.TextChoices):
        UNPAID = "unpaid", _("Unpaid")
        PAID = "paid", _("Paid")
        COD_PENDING = "cod_pending", _("Cash on delivery: to collect")
        COD_COLLECTED = "cod_collected", _("Cash on delivery: collected")
        COD_REMITTED = "cod_remitted", _("Cash on delivery: remitted")
        REFUNDED = "refunded", _("Refunded")

    class PaymentMethod(models.TextChoices):
        PREPAID = "prepaid", _("Prepaid")
        COD = "cod", _("Cash on delivery")

    class CarrierChoice(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        STAFF = "staff", _("Staff")

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
    # True: prices already contain VAT, tax_total only shows the VAT inside the total
    # and is not added to it (orders/pricing.py); False: tax is added on top.
    prices_include_tax = models.BooleanField(_("prices include tax"), default=False)
    # How the price came about, for "why this price" and later partial refunds
    # (orders/pricing.py writes it; see its docstring for the shape).
    price_explanation = models.JSONField(
        _("price explanation"), default=dict, blank=True
    )

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
    # The carrier the customer chose at checkout, or staff set on the order page;
    # empty: the selection rules pick one (fulfillment/carriers.py).
    carrier = models.ForeignKey(
        "fulfillment.Carrier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("carrier"),
    )
    carrier_chosen_by = models.CharField(
        _("carrier chosen by"),
        max_length=8,
        choices=CarrierChoice.choices,
        blank=True,
    )
    # When the goods must leave: set once the order is accepted, from its channel's
    # shipping deadline (marketplaces penalise late shipping).
    ship_by = models.DateTimeField(_("ship by"), null=True, blank=True, db_index=True)
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        permissions = [
            ("cancel_order", _("Can cancel orders")),
            ("complete_order", _("Can close settled orders")),
            ("export_orders", _("Can export orders")),
            ("view_analytics", _("Can view analytics")),
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
                # Tax counts only when it is added on top of the prices.
                condition=(
                    Q(prices_include_tax=False)
                    & Q(
                        total=Round(
                            F("subtotal")
                            - F("discount_total")
                            + F("shipping_fee")
                            + F("tax_total"),
                            2,
                        )
                    )
                )
                | (
                    Q(prices_include_tax=True)
                    & Q(
                        total=Round(
                            F("subtotal") - F("discount_total") + F("shipping_fee"),
                            2,
                        )
                    )
                ),
                name="order_total_adds_up",
            ),
        ]
        # The console lists orders newest first and pages by (placed_at, id) (see
        # orders.selectors.order_page): each filter leads an index in that order, so
        # a page is a short index range at any depth. Searches read their own
        # indexes: the last 4 digits of the phone, and trigrams (PostgreSQL only,
        # migration 0016) for substrings of the number, external id and name.
        indexes = [
            models.Index(fields=["-placed_at", "-id"], name="order_placed_id"),
            models.Index(
                fields=["status", "-placed_at", "-id"], name="order_status_placed"
            ),
            models.Index(
                fields=["channel", "-placed_at", "-id"], name="order_channel_placed"
            ),
            models.Index(
                fields=["payment_status", "-placed_at", "-id"],
                name="order_payment_placed",
            ),
            models.Index(fields=["recipient_phone"], name="order_recipient_phone"),
            # The dashboard's ship-by deadlines of the open statuses, from the index.
            models.Index(
                fields=["status", "ship_by", "id"], name="order_status_ship_by"
            ),
            models.Index(Right("recipient_phone", 4), name="order_recipient_last4"),
            # The sync API pages through changes by (updated_at, id).
            models.Index(fields=["updated_at", "id"], name="order_updated_id"),
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
    def ship_by_late(self) -> bool:
        """Return whether the order should have shipped by now and has not."""
        return bool(
            self.ship_by
            and self.ship_by < timezone.now()
            and self.status
            in (
                self.Status.REVIEW,
                self.Status.BACKORDERED,
                self.Status.READY_TO_FULFILL,
                self.Status.IN_FULFILLMENT,
                self.Status.PARTIALLY_SHIPPED,
            )
        )

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
    # The catalogue price when ordered; unit_price is what this channel charged
    # before promotions (a channel price, or the platform's price).
    list_price = models.DecimalField(_("list price"), **MONEY, default=Decimal("0"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    quantity = models.PositiveIntegerField(_("quantity"))
    discount = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    line_total = models.DecimalField(_("line total"), **MONEY)
    # This line's part of the order-level discounts (Order.discount_total less the
    # line discounts), for partial refunds: the lines' shares add up exactly.
    order_discount_share = models.DecimalField(
        _("share of order discount"), **MONEY, default=Decimal("0")
    )
    # Units staff chose to ship later (a split backorder): owed, not yet reserved.
    backordered_quantity = models.PositiveIntegerField(
        _("backordered quantity"), default=0
    )

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
                & Q(list_price__gte=0)
                & Q(discount__gte=0)
                & Q(line_total__gte=0)
                & Q(order_discount_share__gte=0),
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
            models.Index(fields=["order", "created_at"], name="order_event_timeline"),
            # When an order held for correction was held (orders_with_correction_wait).
            models.Index(
                fields=["order", "-created_at"],
                condition=Q(to_status="needs_correction"),
                name="order_event_held",
            ),
        ]

    def __str__(self):
        return f"{self.order_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def who(self):
        """Return who did it: the staff member's name, or the system/channel label."""
        if self.actor_id:
            return self.actor.get_full_name() or self.actor.get_username()
        label = self.actor_label or "system"
        kind, _sep, name = label.partition(":")
        if kind in ACTOR_KINDS:
            readable = ACTOR_KINDS[kind]
            return f"{readable} {name}" if name else str(readable)
        return label


# Labels of actors that are not staff (see orders.events.Actor), shown translated.
ACTOR_KINDS = {
    "system": _("system"),
    "customer": _("customer"),
    "channel": _("channel"),
    "carrier": _("carrier"),
    "command": _("command line"),
    "import": _("import"),
}


class RoutingRule(models.Model):
    """Orders matching this rule wait for a team's review before stock is reserved.

    Every condition that is set must hold (an empty one is ignored); a rule with no
    condition set matches nothing.
    """

    class Team(models.TextChoices):
        CUSTOMER_SERVICE = "customer_service", _("Customer service")
        WAREHOUSE = "warehouse", _("Warehouse")
        FINANCE = "finance", _("Finance")

    name = models.CharField(_("name"), max_length=100)
    team = models.CharField(
        _("team"), max_length=20, choices=Team.choices, default=Team.CUSTOMER_SERVICE
    )
    min_total = models.DecimalField(_("total at least"), **MONEY, null=True, blank=True)
    with_buyer_note = models.BooleanField(_("has a buyer note"), default=False)
    channel = models.ForeignKey(
        Channel,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("channel"),
    )
    payment_method = models.CharField(
        _("payment method"),
        max_length=16,
        choices=Order.PaymentMethod.choices,
        blank=True,
    )
    # Lower numbers are checked first; the first matching rule names the team.
    position = models.PositiveSmallIntegerField(_("position"), default=10)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    def matches(self, order) -> bool:
        """Return whether every condition set on the rule holds for the order."""
        checks = []
        if self.min_total is not None:
            checks.append(order.total >= self.min_total)
        if self.with_buyer_note:
            checks.append(bool(order.buyer_note.strip()))
        if self.channel_id:
            checks.append(order.channel_id == self.channel_id)
        if self.payment_method:
            checks.append(order.payment_method == self.payment_method)
        return bool(checks) and all(checks)


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


# --- Pricing rules (orders/pricing.py applies them) ------------------------------


class ChannelPrice(models.Model):
    """A channel's own price for a product, valid for a time window."""

    channel = models.ForeignKey(
        Channel,
        on_delete=models.CASCADE,
        related_name="prices",
        verbose_name=_("channel"),
    )
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.CASCADE,
        related_name="channel_prices",
        verbose_name=_("product"),
    )
    price = models.DecimalField(_("price"), **MONEY)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("channel price")
        verbose_name_plural = _("channel prices")
        ordering = ["channel", "product", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0), name="channel_price_not_negative"
            )
        ]

    def __str__(self):
        return f"{self.channel} {self.product}: {self.price}"


class Promotion(models.Model):
    """A discount rule: what it gives, to which goods and channels, when, and with what."""

    class Kind(models.TextChoices):
        PERCENT_OFF = "percent_off", _("Percentage off")
        AMOUNT_OFF = "amount_off", _("Fixed amount off")
        THRESHOLD = "threshold", _("Spend X, save Y (满减)")
        BUY_X_GET_Y = "buy_x_get_y", _("Buy X get Y free")
        FREE_SHIPPING = "free_shipping", _("Free shipping")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Higher first. An exclusive promotion applies only when nothing applied before
    # it, and then nothing after it does.
    priority = models.IntegerField(_("priority"), default=0)
    stackable = models.BooleanField(_("combines with others"), default=True)
    active = models.BooleanField(_("active"), default=True)
    requires_coupon = models.BooleanField(_("needs a coupon code"), default=False)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    # What it applies to; empty: everything.
    channels = models.ManyToManyField(
        Channel, blank=True, related_name="+", verbose_name=_("channels")
    )
    products = models.ManyToManyField(
        "inventory.Product", blank=True, related_name="+", verbose_name=_("products")
    )
    categories = models.JSONField(
        _("categories"), default=list, blank=True, help_text=_('e.g. ["茶叶", "茶具"]')
    )
    percent = models.DecimalField(
        _("percent off"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    amount = models.DecimalField(_("amount off"), **MONEY, null=True, blank=True)
    # 满 X: the spend on the goods it applies to (threshold, amount off, free shipping).
    threshold = models.DecimalField(_("minimum spend"), **MONEY, null=True, blank=True)
    repeatable = models.BooleanField(
        _("repeat for every multiple of the minimum spend"), default=False
    )
    buy_quantity = models.PositiveIntegerField(_("buy"), null=True, blank=True)
    get_quantity = models.PositiveIntegerField(_("get free"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(percent__isnull=True) | Q(percent__gt=0, percent__lte=100))
                & (Q(amount__isnull=True) | Q(amount__gte=0))
                & (Q(threshold__isnull=True) | Q(threshold__gte=0)),
                name="promotion_values_in_range",
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        needed = {
            self.Kind.PERCENT_OFF: ["percent"],
            self.Kind.AMOUNT_OFF: ["amount"],
            self.Kind.THRESHOLD: ["threshold", "amount"],
            self.Kind.BUY_X_GET_Y: ["buy_quantity", "get_quantity"],
            self.Kind.FREE_SHIPPING: [],
        }.get(self.kind, [])
        missing = {
            f: _("Needed for this kind.") for f in needed if not getattr(self, f)
        }
        if missing:
            raise ValidationError(missing)


class Coupon(models.Model):
    """A code that unlocks a promotion, with limits per code and per customer."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    promotion = models.ForeignKey(
        Promotion,
        on_delete=models.CASCADE,
        related_name="coupons",
        verbose_name=_("promotion"),
    )
    usage_limit = models.PositiveIntegerField(
        _("uses in all"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    per_customer_limit = models.PositiveIntegerField(
        _("uses per customer"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    times_used = models.PositiveIntegerField(_("times used"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True)
                | Q(times_used__lte=F("usage_limit")),
                name="coupon_used_within_limit",
            )
        ]

    def __str__(self):
        return self.code


class CouponRedemption(models.Model):
    """One use of a coupon by an order."""

    coupon = models.ForeignKey(
        Coupon,
        on_delete=models.PROTECT,
        related_name="redemptions",
        verbose_name=_("coupon"),
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.CASCADE,
        related_name="coupon_redemptions",
        verbose_name=_("order"),
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="coupon_redemptions",
        verbose_name=_("customer"),
    )
    amount = models.DecimalField(_("amount"), **MONEY, default=Decimal("0"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("coupon use")
        verbose_name_plural = _("coupon uses")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["coupon", "order"], name="coupon_used_once_per_order"
            )
        ]

    def __str__(self):
        return f"{self.coupon} → {self.order}"


class ShippingRule(models.Model):
    """Shipping fee by weight (首重/续重) to a group of provinces, for a carrier or by default."""

    name = models.CharField(_("name"), max_length=100)
    # Empty: the default rule, used when an order has not chosen a carrier.
    carrier = models.ForeignKey(
        "fulfillment.Carrier",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("carrier"),
    )
    # Empty: every province not named by another rule.
    provinces = models.JSONField(
        _("provinces"),
        default=list,
        blank=True,
        help_text=_('Region group, e.g. ["江苏", "浙江", "上海"]'),
    )
    first_weight_kg = models.DecimalField(
        _("first weight (kg)"), max_digits=8, decimal_places=3, default=Decimal("1")
    )
    first_fee = models.DecimalField(_("first weight fee"), **MONEY)
    additional_weight_kg = models.DecimalField(
        _("additional weight step (kg)"),
        max_digits=8,
        decimal_places=3,
        default=Decimal("1"),
    )
    additional_fee = models.DecimalField(
        _("fee per additional step"), **MONEY, default=Decimal("0")
    )
    free_over = models.DecimalField(
        _("free shipping from"), **MONEY, null=True, blank=True
    )
    remote_provinces = models.JSONField(
        _("remote provinces"),
        default=list,
        blank=True,
        help_text=_('e.g. ["新疆", "西藏", "内蒙古", "青海", "宁夏"]'),
    )
    remote_surcharge = models.DecimalField(
        _("remote-area surcharge"), **MONEY, default=Decimal("0")
    )
    priority = models.IntegerField(_("priority"), default=0)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("shipping rule")
        verbose_name_plural = _("shipping rules")
        ordering = ["-priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_fee__gte=0)
                & Q(additional_fee__gte=0)
                & Q(remote_surcharge__gte=0)
                & Q(first_weight_kg__gte=0)
                & Q(additional_weight_kg__gt=0),
                name="shipping_rule_values_in_range",
            )
        ]

    def __str__(self):
        return self.name


class TaxRule(models.Model):
    """A VAT rate from a date on; a policy change is a new row, not an edit."""

    name = models.CharField(_("name"), max_length=100)
    # Empty: every product category without a rule of its own.
    category = models.CharField(_("category"), max_length=64, blank=True)
    rate = models.DecimalField(
        _("rate"), max_digits=6, decimal_places=4, help_text=_("0.1300 for 13%")
    )
    effective_from = models.DateTimeField(_("effective from"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("tax rule")
        verbose_name_plural = _("tax rules")
        ordering = ["category", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lt=1), name="tax_rate_in_range"
            ),
            models.UniqueConstraint(
                fields=["category", "effective_from"], name="tax_rule_once_per_date"
            ),
        ]

    def __str__(self):
        return f"{self.name} {self.rate:%}"


from orders.analytics_models import OrderStageTimes  # noqa: E402, F401
from orders.token_models import StaffToken  # noqa: E402, F401
