"""Fixtures of the order tests: a Taobao store and the product behind its listing."""

from decimal import Decimal

import pytest

from inventory.services import stock_receive
from orders.models import Channel, ChannelListing
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory


@pytest.fixture
def taobao(db):
    return ChannelFactory(code="taobao", name="淘宝", kind=Channel.Kind.MARKETPLACE)


@pytest.fixture
def tea(warehouse, taobao):
    """Our product behind the Taobao listing 红茶礼盒, 20 units in stock."""
    product = ProductFactory(sku="TEA-001", name="红茶", price=Decimal("60.00"))
    stock_receive(product=product, warehouse=warehouse, quantity=20, actor="test")
    ChannelListing.objects.create(channel=taobao, code="红茶礼盒", product=product)
    return product
