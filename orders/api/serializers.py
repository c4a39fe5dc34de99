"""The order as channels send it, and as the API answers it."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fulfillment.models import Carrier
from inventory.models import Product
from orders.addresses import address_parse
from orders.models import Order
from orders.services import LineInput, OrderInput
from orders.validation import problem_message


class CustomerIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    phone = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default=""
    )
    email = serializers.EmailField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if not attrs.get("phone") and not attrs.get("email"):
            raise serializers.ValidationError(
                {
                    "phone": _(
                        "Give a phone number or an email address to reach the customer."
                    )
                }
            )
        return attrs


class AddressIn(serializers.Serializer):
    """Either the parts, or ``full``: one line that is split into parts."""

    full = serializers.CharField(max_length=300, required=False)
    province = serializers.CharField(max_length=32, required=False, allow_blank=True)
    city = serializers.CharField(max_length=32, required=False, allow_blank=True)
    district = serializers.CharField(max_length=32, required=False, allow_blank=True)
    detail = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=6, required=False, allow_blank=True)

    def validate(self, attrs):
        if attrs.get("full"):
            parsed = address_parse(attrs["full"])
            return {
                "province": parsed.province,
                "city": parsed.city,
                "district": parsed.district,
                "address_detail": parsed.detail,
                "postal_code": attrs.get("postal_code") or parsed.postal_code,
            }
        if not any(attrs.get(f) for f in ("province", "city", "district", "detail")):
            raise serializers.ValidationError(
                _("Give the address parts or the full address.")
            )
        return {
            "province": attrs.get("province", ""),
            "city": attrs.get("city", ""),
            "district": attrs.get("district", ""),
            "address_detail": attrs.get("detail", ""),
            "postal_code": attrs.get("postal_code", ""),
        }


class LineIn(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1)

    def validate_quantity(self, value):
        if value > settings.ORDER_LINE_MAX_QUANTITY:
            raise serializers.ValidationError(
                _("At most %(max)d units per line.")
                % {"max": settings.ORDER_LINE_MAX_QUANTITY}
            )
        return value


def products_by_sku(skus) -> dict:
    return {p.sku: p for p in Product.objects.filter(sku__in=skus)}


class OrderIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=64)
    customer = CustomerIn()
    shipping_address = AddressIn()
    lines = LineIn(many=True, allow_empty=False)
    payment_method = serializers.ChoiceField(choices=Order.PaymentMethod.choices)
    coupon_code = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default=""
    )
    buyer_note = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    carrier = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("The carrier the customer chose, by code (sf, zto, jd…)."),
    )

    def validate_carrier(self, code):
        if not code:
            return None
        carrier = Carrier.objects.filter(code=code.strip().lower(), active=True).first()
        if carrier is None:
            raise serializers.ValidationError(
                _("Unknown carrier: %(code)s") % {"code": code}
            )
        return carrier

    def validate_lines(self, lines):
        # A batch looks its products up once for all its orders (``products_by_sku``).
        products = self.context.get("products") or products_by_sku(
            {line["sku"] for line in lines}
        )
        errors, any_error = [], False
        for line in lines:
            product = products.get(line["sku"])
            if product is None:
                errors.append(
                    {"sku": [_("Unknown SKU: %(sku)s") % {"sku": line["sku"]}]}
                )
            elif not product.active:
                errors.append(
                    {"sku": [_("Not for sale: %(sku)s") % {"sku": line["sku"]}]}
                )
            else:
                errors.append({})
                line["product"] = product
                continue
            any_error = True
        if any_error:
            raise serializers.ValidationError(errors)
        return lines

    def to_order_input(self, channel) -> OrderInput:
        return order_input(self.validated_data, channel)


def order_input(data: dict, channel) -> OrderInput:
    """The intake's input from an order ``OrderIn`` validated."""
    return OrderInput(
        channel=channel,
        external_id=data["external_id"],
        customer_name=data["customer"]["name"],
        customer_phone=data["customer"]["phone"],
        customer_email=data["customer"]["email"],
        address=data["shipping_address"],
        lines=[LineInput(line["product"], line["quantity"]) for line in data["lines"]],
        payment_method=data["payment_method"],
        coupon_code=data["coupon_code"],
        buyer_note=data["buyer_note"],
        carrier=data.get("carrier"),
    )


class ProblemOut(serializers.Serializer):
    code = serializers.CharField()
    field = serializers.CharField()
    message = serializers.SerializerMethodField()

    def get_message(self, problem) -> str:
        return problem_message(problem)


def _money(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class LineOut(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    list_price = _money(help_text="The catalogue price when ordered.")
    unit_price = _money(help_text="What this channel charged before promotions.")
    discount = _money(help_text="Line discounts (percentage off, buy X get Y).")
    line_total = _money(help_text="unit_price × quantity − discount.")
    order_discount_share = _money(
        help_text="This line's part of the order-level discounts; the shares add up "
        "exactly (largest remainder)."
    )


# --- "Why this price": Order.price_explanation, as orders/pricing.py writes it ------


class PriceLineOut(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    list_price = _money()
    unit_price = _money()
    price_source = serializers.ChoiceField(
        choices=["catalogue", "channel_price", "given"],
        help_text="Where unit_price came from: the catalogue, the channel's price "
        "list, or given with the order (a platform's or a clerk's price).",
    )
    discount = _money()
    order_discount_share = _money()
    net = _money(help_text="After line and order discounts.")
    tax = _money(help_text="This line's part of the order's tax.")


class PromotionAppliedOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Null: the platform's.")
    name = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=[
            "percent_off",
            "amount_off",
            "threshold",
            "buy_x_get_y",
            "free_shipping",
            "platform",
        ]
    )
    amount = _money()
    coupon = serializers.CharField(
        help_text="The coupon code that unlocked it, or empty."
    )
    lines = serializers.DictField(
        child=_money(), help_text="Amount per SKU: the line discount or its share."
    )


class ShippingExplainedOut(serializers.Serializer):
    source = serializers.ChoiceField(
        choices=["rule", "given"],
        help_text="rule: a shipping fee rule (首重/续重); given: as sent with the order.",
    )
    fee = _money()
    rule_id = serializers.IntegerField(required=False)
    rule = serializers.CharField(required=False)
    weight_kg = serializers.DecimalField(
        max_digits=10, decimal_places=3, required=False
    )
    first_fee = _money(required=False)
    additional_steps = serializers.IntegerField(required=False)
    additional_fee = _money(required=False)
    free_over = _money(required=False, allow_null=True)
    free = serializers.BooleanField(required=False)
    remote_surcharge = _money(required=False)
    waived = _money(
        required=False, help_text="Fee waived by a free-shipping promotion."
    )
    waived_by = serializers.CharField(required=False)


class TaxRuleUsedOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.CharField()
    rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    effective_from = serializers.DateTimeField()


class TaxExplainedOut(serializers.Serializer):
    included = serializers.BooleanField(
        help_text="True: the VAT inside the prices, not added to the total."
    )
    amount = _money()
    rules = TaxRuleUsedOut(many=True)


class CouponUsedOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()


class TotalsOut(serializers.Serializer):
    subtotal = _money()
    discount_total = _money()
    shipping_fee = _money()
    tax_total = _money()
    total = _money()


class OwnPriceOut(TotalsOut):
    promotions = PromotionAppliedOut(many=True)
    shipping = ShippingExplainedOut()
    difference = _money(
        help_text="The platform's total less ours: recorded, not applied."
    )


class RepricingOut(serializers.Serializer):
    at = serializers.DateTimeField()
    province_from = serializers.CharField()
    province_to = serializers.CharField()
    shipping_fee_from = _money()
    shipping_fee_to = _money()
    total_from = _money()
    total_to = _money()
    difference = _money(
        help_text="New shipping less old (own orders), or the platform's total "
        "less our own price (marketplace orders)."
    )
    applied = serializers.BooleanField(
        help_text="False: the order was paid or priced by the platform; the "
        "difference is recorded for staff, the charge unchanged."
    )
    held_because = serializers.ChoiceField(choices=["", "paid", "priced_by_channel"])


class PriceExplanationOut(serializers.Serializer):
    rounding = serializers.CharField()
    priced_by_channel = serializers.BooleanField(
        required=False, help_text="A marketplace priced the order; its prices are kept."
    )
    lines = PriceLineOut(many=True)
    promotions = PromotionAppliedOut(many=True)
    shipping = ShippingExplainedOut()
    tax = TaxExplainedOut()
    coupon = CouponUsedOut(allow_null=True)
    totals = TotalsOut()
    own_price = OwnPriceOut(
        required=False, help_text="Our own price for a marketplace order."
    )
    repricing = RepricingOut(
        many=True,
        required=False,
        help_text="Shipping worked out again after the province was corrected.",
    )


class TrackingEventOut(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    status = serializers.CharField()
    location = serializers.CharField()
    description = serializers.CharField()


class ShipmentOut(serializers.Serializer):
    carrier = serializers.CharField(source="carrier.name", default="")
    tracking_number = serializers.CharField()
    status = serializers.CharField()
    tracking_status = serializers.CharField()
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField()
    tracking_events = TrackingEventOut(many=True)


class OrderOut(serializers.Serializer):
    number = serializers.CharField()
    external_id = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    payment_status = serializers.CharField()
    payment_method = serializers.CharField()
    currency = serializers.CharField()
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    shipping_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    placed_at = serializers.DateTimeField()
    lines = LineOut(many=True)
    price_explanation = serializers.SerializerMethodField(
        help_text="Why this price: list prices, each promotion and coupon, the "
        "order discounts spread over the lines, the shipping rule, the tax. Null "
        "for orders priced before explanations were kept."
    )
    problems = ProblemOut(many=True)
    shipments = ShipmentOut(many=True)
    status_url = serializers.CharField()

    @extend_schema_field(PriceExplanationOut(allow_null=True))
    def get_price_explanation(self, order):
        explanation = order.price_explanation or {}
        if not explanation.get("lines"):
            return None
        return PriceExplanationOut(explanation).data


class OrderBatchIn(serializers.Serializer):
    orders = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        help_text="Orders in the same form as POST /api/v1/orders/.",
    )

    def validate_orders(self, orders):
        most = settings.API_BATCH_MAX_ORDERS
        if len(orders) > most:
            raise serializers.ValidationError(
                _("At most %(max)d orders per batch.") % {"max": most}
            )
        return orders

    def skus(self) -> set[str]:
        """Every SKU the orders name, read defensively (items are checked later)."""
        return {
            str(line.get("sku"))
            for order in self.validated_data["orders"]
            if isinstance(order.get("lines"), list)
            for line in order["lines"]
            if isinstance(line, dict)
        }


class BatchResultOut(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the order in the batch.")
    result = serializers.ChoiceField(
        choices=["created", "replayed", "conflict", "invalid", "refused"],
        help_text="created (new), replayed (sent before with the same content), "
        "conflict (same external_id, other content: nothing changed), invalid (field "
        "errors), refused (the order cannot be taken, see detail).",
    )
    number = serializers.CharField(required=False)
    status = serializers.CharField(required=False)
    payment_status = serializers.CharField(required=False)
    total = _money(required=False)
    problems = ProblemOut(many=True, required=False)
    status_url = serializers.CharField(required=False)
    errors = serializers.DictField(
        required=False, help_text="Field errors of an invalid order."
    )
    detail = serializers.CharField(required=False)


class OrderBatchOut(serializers.Serializer):
    results = BatchResultOut(many=True)


class CancelIn(serializers.Serializer):
    reason = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
