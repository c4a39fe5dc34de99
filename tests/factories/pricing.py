"""Pricing rules: promotions, coupons, channel prices, shipping and tax rules."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory

from orders.models import (
    ChannelPrice,
    Coupon,
    Promotion,
    ShippingRule,
    TaxRule,
)
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory


class ChannelPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelPrice

    channel = factory.SubFactory(ChannelFactory)
    product = factory.SubFactory(ProductFactory)
    price = Decimal("45.00")


class PromotionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Promotion
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"促销 {n}")
    kind = Promotion.Kind.PERCENT_OFF
    percent = Decimal("10")

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        if create and extracted:
            self.products.set(extracted)

    @factory.post_generation
    def channels(self, create, extracted, **kwargs):
        if create and extracted:
            self.channels.set(extracted)


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"SAVE{n}")
    promotion = factory.SubFactory(
        PromotionFactory,
        kind=Promotion.Kind.AMOUNT_OFF,
        amount=Decimal("10.00"),
        requires_coupon=True,
    )


class ShippingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingRule

    name = factory.Sequence(lambda n: f"运费 {n}")
    first_weight_kg = Decimal("1")
    first_fee = Decimal("10.00")
    additional_weight_kg = Decimal("1")
    additional_fee = Decimal("5.00")


class TaxRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRule

    name = "增值税 13%"
    rate = Decimal("0.1300")
    effective_from = datetime(2019, 4, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
