"""The order as channels send it, and as the API answers it."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

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

    def validate_lines(self, lines):
        skus = {line["sku"] for line in lines}
        products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
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
        data = self.validated_data
        return OrderInput(
            channel=channel,
            external_id=data["external_id"],
            customer_name=data["customer"]["name"],
            customer_phone=data["customer"]["phone"],
            customer_email=data["customer"]["email"],
            address=data["shipping_address"],
            lines=[
                LineInput(line["product"], line["quantity"]) for line in data["lines"]
            ],
            payment_method=data["payment_method"],
            coupon_code=data["coupon_code"],
            buyer_note=data["buyer_note"],
        )


class ProblemOut(serializers.Serializer):
    code = serializers.CharField()
    field = serializers.CharField()
    message = serializers.SerializerMethodField()

    def get_message(self, problem) -> str:
        return problem_message(problem)


class LineOut(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)


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
    problems = ProblemOut(many=True)
    shipments = ShipmentOut(many=True)
    status_url = serializers.CharField()


class CancelIn(serializers.Serializer):
    reason = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
