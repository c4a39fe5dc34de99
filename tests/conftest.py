from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from inventory.services import stock_receive
from orders.services import LineInput, OrderInput, order_create
from tests.factories.fulfillment import CarrierFactory
from tests.factories.inventory import ProductFactory, WarehouseFactory
from tests.factories.orders import ChannelFactory, UserFactory


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    return [
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or ''} {db['NAME']}",
        f"broker: {settings.CELERY_BROKER_URL.split('@')[-1]}",
    ]


@pytest.fixture
def warehouse(db):
    return WarehouseFactory()


@pytest.fixture
def carrier(db):
    return CarrierFactory()


@pytest.fixture
def channel(db):
    return ChannelFactory()


@pytest.fixture
def stocked_product(warehouse):
    """A product with 10 units on hand in the default warehouse."""
    product = ProductFactory(price=Decimal("128.00"))
    stock_receive(product=product, warehouse=warehouse, quantity=10, actor="test")
    return product


@pytest.fixture
def member(db):
    """Return a function that makes a user in one of the staff roles (Django groups)."""

    def make(role):
        user = UserFactory(username=f"user-{role}", is_staff=False)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def staff_user(db):
    return UserFactory(username="clerk")


@pytest.fixture
def place_order(channel, stocked_product):
    """Return a function that places a valid order through the real service."""

    def place(
        *,
        quantity=1,
        payment_method="prepaid",
        product=None,
        phone="13800138000",
        **extra,
    ):
        data = OrderInput(
            channel=extra.pop("channel", channel),
            customer_name=extra.pop("name", "张三"),
            customer_phone=phone,
            customer_email=extra.pop("email", "buyer@example.com"),
            lines=[LineInput(product or stocked_product, quantity)],
            payment_method=payment_method,
            address=extra.pop(
                "address",
                {
                    "province": "广东省",
                    "city": "深圳市",
                    "district": "南山区",
                    "address_detail": "科技园路1号",
                    "postal_code": "518000",
                },
            ),
            **extra,
        )
        return order_create(data=data, actor="test")

    return place


@pytest.fixture
def sms_outbox():
    """Return the messages the log SMS backend sent during this test."""
    from tracking.adapters.sms import LogSmsBackend

    LogSmsBackend.sent.clear()
    yield LogSmsBackend.sent
    LogSmsBackend.sent.clear()


@pytest.fixture
def ship(carrier):
    """Return a function that picks a ready order and ships every parcel of it."""
    from fulfillment.services import fulfillment_start, shipment_ship

    def ship_order(order, *, actor="test"):
        shipments = fulfillment_start(order=order, actor=actor)
        return [
            shipment_ship(
                shipment=shipment,
                carrier=carrier,
                tracking_number=f"SF{shipment.pk:010d}",
                actor=actor,
            )
            for shipment in shipments
        ]

    return ship_order


@pytest.fixture
def stock_ledger_errors():
    """Return a function listing every stock level that differs from its movements."""
    from django.db.models import Sum

    from inventory.models import StockLevel, StockMovement

    def errors():
        found = []
        for level in StockLevel.objects.select_related("product", "warehouse"):
            sums = StockMovement.objects.filter(
                product=level.product, warehouse=level.warehouse
            ).aggregate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
            ledger = (sums["on_hand"] or 0, sums["reserved"] or 0)
            if ledger != (level.on_hand, level.reserved):
                found.append((str(level), ledger))
        return found

    return errors


@pytest.fixture
def celery_broker():
    """Return a function that sends this test's tasks to a broker instead of running them eagerly.

    The app reads Django's settings under their ``CELERY_`` names, which win over the
    short names (``task_always_eager``), so the overrides use the prefixed names.
    """
    from config.celery_app import app

    def forget_connections():
        # Producers are pooled per broker; drop the app's handles so the next
        # message goes to the broker configured now.
        app._pool = None
        app.amqp._producer_pool = None

    saved = dict(app.conf.changes)

    def use(url):
        app.conf.changes.update(
            CELERY_BROKER_URL=url,
            CELERY_TASK_ALWAYS_EAGER=False,
            CELERY_TASK_EAGER_PROPAGATES=False,
        )
        forget_connections()
        assert (app.conf.broker_url, app.conf.task_always_eager) == (url, False)
        return app

    yield use
    app.conf.changes.clear()
    app.conf.changes.update(saved)
    forget_connections()
