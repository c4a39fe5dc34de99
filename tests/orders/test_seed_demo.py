from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum

from billing.models import Payment
from fulfillment.models import Carrier, Shipment
from inventory.models import Product, Reservation, StockLevel, StockMovement
from orders.demo import UNREACHABLE
from orders.models import (
    Channel,
    Coupon,
    Customer,
    Order,
    OrderEvent,
    Promotion,
    ShippingRule,
    TaxRule,
)
from tracking.models import Notification, TrackingEvent

ORDERS = 45
MODELS = [
    Product,
    StockLevel,
    StockMovement,
    Reservation,
    Carrier,
    Channel,
    Customer,
    Order,
    OrderEvent,
    Payment,
    Shipment,
    TrackingEvent,
    Notification,
    Promotion,
    Coupon,
    ShippingRule,
    TaxRule,
    get_user_model(),
]


def _seed(*args):
    call_command("seed_demo", "--orders", str(ORDERS), *args, stdout=StringIO())


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_twice_creates_nothing_new(db):
    _seed()
    first = _counts()
    _seed()

    assert _counts() == first
    assert first["Order"] == ORDERS
    assert first["Product"] == 31
    assert first["Carrier"] == 9


def test_seed_demo_has_every_kind_of_pricing_rule(db):
    _seed()

    assert set(Promotion.objects.values_list("kind", flat=True)) == set(
        Promotion.Kind.values
    )
    assert Promotion.objects.filter(kind="threshold", repeatable=True).exists()
    assert Promotion.objects.filter(valid_from__isnull=False).exists()
    assert Promotion.objects.filter(stackable=False).exists()
    assert Coupon.objects.count() == 2
    assert ShippingRule.objects.filter(remote_surcharge__gt=0).exists()
    assert ShippingRule.objects.exclude(provinces=[]).count() >= 2
    assert TaxRule.objects.count() == 2


def test_seed_demo_orders_are_priced_by_the_rules(db):
    _seed()

    own = Order.objects.exclude(channel__kind=Channel.Kind.MARKETPLACE)
    explanations = [order.price_explanation for order in own]
    assert any(why["promotions"] for why in explanations)
    assert any(why["shipping"]["source"] == "rule" for why in explanations)
    assert all(why["tax"]["rules"] for why in explanations)
    for order in own:
        assert order.total == order.subtotal - order.discount_total + order.shipping_fee


def test_seed_demo_fills_every_reachable_status(db):
    _seed()

    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == set(Order.Status.values) - set(UNREACHABLE)


def test_seed_demo_stock_levels_equal_their_movements(db):
    _seed()

    for level in StockLevel.objects.all():
        moved = StockMovement.objects.filter(
            product=level.product, warehouse=level.warehouse
        ).aggregate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
        held = Reservation.objects.filter(
            product=level.product, warehouse=level.warehouse
        ).aggregate(n=Sum("quantity"))["n"]
        assert (level.on_hand, level.reserved) == (moved["on_hand"], moved["reserved"])
        assert level.reserved == (held or 0)


def test_seed_demo_shipped_orders_have_tracking_numbers(db):
    _seed()

    left = Order.objects.filter(
        status__in=[
            Order.Status.SHIPPED,
            Order.Status.DELIVERED,
            Order.Status.COMPLETED,
        ]
    )
    assert left.exists()
    for order in left:
        (shipment,) = order.shipments.all()
        assert shipment.tracking_number.startswith("DEMO")
        assert shipment.carrier.code == "demo"


def test_seed_demo_logins_get_their_role_and_password(db):
    _seed()

    owner = get_user_model().objects.get(username="owner")
    clerk = get_user_model().objects.get(username="service")
    assert owner.is_superuser and owner.is_staff
    assert owner.check_password("demo-owner-2026")
    assert not clerk.is_staff
    assert list(clerk.groups.values_list("name", flat=True)) == ["客服"]


def test_seed_demo_keeps_a_changed_password_unless_reset(db):
    _seed()
    owner = get_user_model().objects.get(username="owner")
    owner.set_password("changed-Pass-77")
    owner.save()

    _seed()
    owner.refresh_from_db()
    assert owner.check_password("changed-Pass-77")

    _seed("--reset-passwords")
    owner.refresh_from_db()
    assert owner.check_password("demo-owner-2026")
