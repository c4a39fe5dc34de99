from decimal import Decimal

import factory

from inventory.models import Product, Warehouse


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"商品 {n}")
    barcode = factory.Sequence(lambda n: f"69{n:011d}")
    price = Decimal("50.00")
    cost = Decimal("20.00")
    weight_kg = Decimal("0.300")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = "hz"
    name = "杭州仓"
    province = "浙江省"
    city = "杭州市"
    priority = 1
