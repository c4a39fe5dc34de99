"""What the shop's other systems read and send with a staff key: orders, stock, products."""

import base64
import binascii
from datetime import UTC, datetime

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


def _money(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


# --- Order sync feed ------------------------------------------------------------


def cursor_encode(order) -> str:
    """Return the opaque position after ``order`` in the (updated_at, id) order."""
    raw = f"{order.updated_at.isoformat()}|{order.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    """Return the (updated_at, id) a cursor stands for; ValueError when it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, pk = raw.split("|")
        when = datetime.fromisoformat(at)
        if when.tzinfo is None or not 0 < int(pk) < 2**63:
            raise ValueError(cursor)
        return when.astimezone(UTC), int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise ValueError(cursor) from exc


class OrderSyncQuery(serializers.Serializer):
    updated_since = serializers.DateTimeField(
        required=False,
        help_text="Only orders changed at or after this time (ISO 8601 with offset); "
        "for the first call. Then follow next_cursor.",
    )
    cursor = serializers.CharField(
        required=False,
        help_text="next_cursor of the previous answer: continues right after it.",
    )
    limit = serializers.IntegerField(
        required=False, default=100, min_value=1, max_value=500
    )

    def validate_cursor(self, value):
        try:
            return cursor_decode(value)
        except ValueError:
            raise serializers.ValidationError(
                _("Not a cursor this API gave out.")
            ) from None


class SyncLineOut(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = _money()
    discount = _money()
    line_total = _money()
    backordered_quantity = serializers.IntegerField()


class SyncShipmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    carrier = serializers.CharField(source="carrier.code", default="")
    tracking_number = serializers.CharField()
    status = serializers.CharField()
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)


class SyncPaymentOut(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    amount = _money()
    status = serializers.CharField()
    reference = serializers.CharField(source="provider_reference")
    confirmed_at = serializers.DateTimeField()


class SyncCustomerOut(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()


class SyncAddressOut(serializers.Serializer):
    name = serializers.CharField(source="recipient_name")
    phone = serializers.CharField(source="recipient_phone")
    province = serializers.CharField()
    city = serializers.CharField()
    district = serializers.CharField()
    detail = serializers.CharField(source="address_detail")
    postal_code = serializers.CharField()


class OrderSyncOut(serializers.Serializer):
    number = serializers.CharField()
    channel = serializers.CharField(source="channel.code")
    external_id = serializers.CharField()
    status = serializers.CharField()
    payment_status = serializers.CharField()
    payment_method = serializers.CharField()
    currency = serializers.CharField()
    subtotal = _money()
    discount_total = _money()
    shipping_fee = _money()
    tax_total = _money()
    total = _money()
    customer = SyncCustomerOut()
    shipping_address = SyncAddressOut(source="*")
    placed_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    lines = SyncLineOut(many=True)
    shipments = SyncShipmentOut(many=True)
    payments = SyncPaymentOut(many=True)


class OrderSyncPageOut(serializers.Serializer):
    results = OrderSyncOut(many=True)
    next_cursor = serializers.CharField(
        allow_null=True,
        help_text="Send it as cursor to continue; kept even on the last page, so the "
        "next poll starts where this one stopped. Null only when nothing has been "
        "read yet.",
    )
    has_more = serializers.BooleanField(
        help_text="True: more changes are waiting now; call again at once."
    )


# --- Stock and products ---------------------------------------------------------


class StockQuery(serializers.Serializer):
    sku = serializers.CharField(required=False, default="", allow_blank=True)
    warehouse = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="Warehouse code."
    )


class StockLevelOut(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    warehouse = serializers.CharField(source="warehouse.code")
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField(help_text="Promised to orders, not shipped.")
    available = serializers.IntegerField(help_text="on_hand − reserved.")


class ProductQuery(serializers.Serializer):
    sku = serializers.CharField(required=False, default="", allow_blank=True)
    active = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Only on sale (true) or not (false).",
    )


class ProductOut(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    barcode = serializers.CharField()
    category = serializers.CharField()
    price = _money()
    weight_kg = serializers.DecimalField(max_digits=8, decimal_places=3)
    active = serializers.BooleanField()


# --- Stock adjustments ------------------------------------------------------------


class StockAdjustmentIn(serializers.Serializer):
    reference = serializers.CharField(
        max_length=100,
        help_text="Your own id of this adjustment; sending it again (a retry) "
        "answers the first result and changes nothing.",
    )
    sku = serializers.CharField(max_length=64)
    warehouse = serializers.CharField(max_length=32, help_text="Warehouse code.")
    quantity_change = serializers.IntegerField(
        required=False,
        min_value=-100000,
        max_value=100000,
        help_text="Units to add (positive) or take out (negative).",
    )
    counted = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=10000000,
        help_text="Units counted on the shelf; the books are set to it.",
    )
    reason = serializers.CharField(max_length=200)

    def validate(self, attrs):
        if ("quantity_change" in attrs) == ("counted" in attrs):
            raise serializers.ValidationError(
                {
                    "quantity_change": [
                        _("Give either quantity_change or counted, not both.")
                    ]
                }
            )
        return attrs


class StockAdjustmentOut(serializers.Serializer):
    """An ``inventory.adjustments.AdjustmentResult``."""

    reference = serializers.CharField(source="receipt.reference")
    sku = serializers.CharField(source="receipt.product.sku")
    warehouse = serializers.CharField(source="receipt.warehouse.code")
    on_hand_change = serializers.IntegerField(
        source="receipt.on_hand_delta", help_text="What the adjustment changed on hand."
    )
    on_hand = serializers.IntegerField(
        source="receipt.on_hand", help_text="Units on hand right after it."
    )
    movement = serializers.IntegerField(
        source="receipt.movement_id",
        allow_null=True,
        help_text="The stock movement written; null when a count matched the books.",
    )
    created_at = serializers.DateTimeField(source="receipt.created_at")
    replayed = serializers.BooleanField(
        help_text="True: this reference was applied before; this is its answer."
    )
