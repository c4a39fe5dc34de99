from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from orders.models import Channel, Customer, Order, OrderLine
from tests.factories.inventory import ProductFactory


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    password = factory.django.Password("pass-Word-123")
    is_staff = True


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("code",)

    code = "web"
    name = "官网"
    kind = Channel.Kind.WEB


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = "张三"
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")


class OrderFactory(factory.django.DjangoModelFactory):
    """A bare order row in any status, for pages and selectors; services build real ones."""

    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"2611280{n:05d}")
    channel = factory.SubFactory(ChannelFactory)
    customer = factory.SubFactory(CustomerFactory)
    payment_method = Order.PaymentMethod.PREPAID
    recipient_name = factory.SelfAttribute("customer.name")
    recipient_phone = factory.SelfAttribute("customer.phone")
    province = "广东省"
    city = "深圳市"
    district = "南山区"
    address_detail = "科技园路1号"
    postal_code = "518000"
    subtotal = Decimal("100.00")
    total = Decimal("100.00")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    sku = factory.SelfAttribute("product.sku")
    name = factory.SelfAttribute("product.name")
    unit_price = factory.SelfAttribute("product.price")
    quantity = 1
    line_total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)
