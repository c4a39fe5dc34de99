from decimal import Decimal

import pytest
from django.conf import settings

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
def staff_user(db):
    return UserFactory(username="clerk")


@pytest.fixture
def place_order(channel, stocked_product):
    """Return a function that places a valid order through the real service."""

    def place(*, quantity=1, payment_method="prepaid", product=None, phone="13800138000", **extra):
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
