"""Fixtures for cash on delivery: COD orders shipped in one or two parcels."""

from decimal import Decimal

import pytest

from fulfillment.services import fulfillment_start, shipment_ship
from inventory.services import stock_receive
from orders.services import LineInput, OrderInput, order_create
from tests.factories.inventory import ProductFactory, WarehouseFactory


@pytest.fixture
def split_cod_order(settings, warehouse, channel, carrier):
    """A COD order of 100.00 + 2 × 33.33 reserved in two warehouses, both parcels shipped."""
    settings.ALLOCATION_ALLOW_SPLIT = True
    a = ProductFactory(sku="COD-A", price=Decimal("100.00"))
    b = ProductFactory(sku="COD-B", price=Decimal("33.33"))
    sh = WarehouseFactory(code="sh", name="上海仓", priority=5)
    stock_receive(product=a, warehouse=warehouse, quantity=5, actor="test")
    stock_receive(product=b, warehouse=sh, quantity=5, actor="test")
    order = order_create(
        data=OrderInput(
            channel=channel,
            customer_name="李四",
            customer_phone="13900139000",
            customer_email="",
            lines=[LineInput(a, 1), LineInput(b, 2)],
            payment_method="cod",
            address={
                "province": "广东省",
                "city": "深圳市",
                "district": "南山区",
                "address_detail": "科技园路1号",
                "postal_code": "518000",
            },
        ),
        actor="test",
    )
    parcels = fulfillment_start(order=order, actor="test")
    parcels = [
        shipment_ship(
            shipment=parcel,
            carrier=carrier,
            tracking_number=f"SF{9000000000000 + parcel.pk}",
            actor="test",
        )
        for parcel in sorted(parcels, key=lambda p: p.pk)
    ]
    order.refresh_from_db()
    return order, parcels
