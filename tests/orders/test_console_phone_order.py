"""Booking an order while the customer is on the phone."""

import pytest
from django.contrib.messages import get_messages

from inventory.services import stock_receive
from orders.models import Channel, Order
from orders.roles import CUSTOMER_SERVICE, WAREHOUSE
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory

URL = "/console/orders/new/"


@pytest.fixture
def clerk(client, member):
    """The test client, signed in as customer service, reading English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(CUSTOMER_SERVICE))
    return client


@pytest.fixture
def phone_channel(db):
    return ChannelFactory(code="phone", name="电话订购", kind=Channel.Kind.PHONE)


def order_post(*lines, **fields):
    data = {
        "customer_name": "王小明",
        "phone": "13912345678",
        "email": "",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "address_detail": "文三路90号",
        "postal_code": "310000",
        "payment_method": "cod",
        "shipping_fee": "0",
        "buyer_note": "",
        "lines-TOTAL_FORMS": "5",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
    }
    for i in range(5):  # as the browser sends the empty rows
        data[f"lines-{i}-code"] = ""
        data[f"lines-{i}-quantity"] = "1"
    for i, (code, quantity) in enumerate(lines):
        data[f"lines-{i}-code"] = code
        data[f"lines-{i}-quantity"] = str(quantity)
    data.update(fields)
    return data


def test_the_form_offers_products_with_price_and_free_stock(
    clerk, phone_channel, stocked_product
):
    ProductFactory(sku="OLD-1", active=False)
    response = clerk.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{stocked_product.sku}">' in html
    assert "¥128.00 · 10 available" in html
    assert "OLD-1" not in html
    assert "autofocus" in html


def test_a_phone_order_is_created_on_the_phone_channel_and_processed(
    clerk, phone_channel, stocked_product
):
    response = clerk.post(URL, order_post((stocked_product.sku, 2)))
    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    assert order.channel == phone_channel
    assert order.customer.phone == "+8613912345678"
    assert order.payment_method == "cod"
    assert order.status == Order.Status.READY_TO_FULFILL
    assert [(line.sku, line.quantity) for line in order.lines.all()] == [
        (stocked_product.sku, 2)
    ]
    assert order.events.first().actor.username == f"user-{CUSTOMER_SERVICE}"


def test_a_product_can_be_entered_by_its_barcode(clerk, phone_channel, stocked_product):
    clerk.post(URL, order_post((stocked_product.barcode, 1)))
    assert Order.objects.get().lines.get().product == stocked_product


def test_an_unknown_sku_is_a_field_error_and_no_order_is_made(
    clerk, phone_channel, stocked_product
):
    response = clerk.post(URL, order_post((stocked_product.sku, 1), ("NOPE-9", 1)))
    assert response.status_code == 200
    lines = response.context["lines"]
    assert lines.forms[1].errors["code"] == [
        "No product on sale has SKU or barcode “NOPE-9”."
    ]
    assert not Order.objects.exists()


def test_an_inactive_product_cannot_be_ordered(clerk, phone_channel, warehouse):
    retired = ProductFactory(sku="OLD-1", active=False)
    stock_receive(product=retired, warehouse=warehouse, quantity=5, actor="t")
    response = clerk.post(URL, order_post(("OLD-1", 1)))
    assert response.context["lines"].forms[0].errors["code"] == [
        "No product on sale has SKU or barcode “OLD-1”."
    ]


def test_a_row_without_a_quantity_is_still_an_empty_row(
    clerk, phone_channel, stocked_product
):
    data = order_post((stocked_product.sku, 1))
    data["lines-3-quantity"] = ""
    clerk.post(URL, data)
    assert Order.objects.get().lines.count() == 1


def test_an_order_without_lines_is_refused(clerk, phone_channel):
    response = clerk.post(URL, order_post())
    assert response.context["lines"].non_form_errors() == ["Add at least one product."]
    assert not Order.objects.exists()


def test_a_mistyped_phone_number_is_caught_on_the_form(
    clerk, phone_channel, stocked_product
):
    response = clerk.post(URL, order_post((stocked_product.sku, 1), phone="12345"))
    assert response.context["form"].errors["phone"] == [
        "Enter a valid phone number, such as 13800138000."
    ]
    assert not Order.objects.exists()


def test_without_a_phone_channel_the_clerk_is_told_and_nothing_is_made(
    clerk, stocked_product
):
    response = clerk.post(URL, order_post((stocked_product.sku, 1)))
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "There is no active phone channel. Ask an administrator to add a channel of kind “Phone”."
    ]
    assert not Order.objects.exists()


def test_warehouse_staff_cannot_take_phone_orders(client, member, phone_channel):
    client.force_login(member(WAREHOUSE))
    assert client.get(URL).status_code == 403
