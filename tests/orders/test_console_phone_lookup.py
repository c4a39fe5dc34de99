"""The phone-order form's helpers: customer lookup, product search, address split."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.selectors import products_search
from inventory.services import stock_receive
from orders.models import Channel, Order
from orders.roles import CUSTOMER_SERVICE, WAREHOUSE
from orders.selectors import customers_for_phone_order
from tests.factories.inventory import ProductFactory, WarehouseFactory
from tests.factories.orders import ChannelFactory, CustomerFactory

CUSTOMERS = reverse("console:customer_lookup")
PRODUCTS = reverse("console:product_search")
ADDRESSES = reverse("console:address_split")


@pytest.fixture
def clerk(client, member):
    """The test client, signed in as customer service, reading English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(CUSTOMER_SERVICE))
    return client


# --- who may ask -------------------------------------------------------------------


@pytest.mark.parametrize("url", [CUSTOMERS, PRODUCTS, ADDRESSES])
def test_anonymous_visitors_are_sent_to_sign_in(client, db, url):
    response = client.get(url, {"q": "8000", "text": "北京市"})
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


@pytest.mark.parametrize("url", [CUSTOMERS, PRODUCTS, ADDRESSES])
def test_staff_who_may_not_take_orders_are_refused(client, member, url):
    client.force_login(member(WAREHOUSE))
    assert client.get(url, {"q": "8000", "text": "北京市"}).status_code == 403


@pytest.mark.parametrize("url", [CUSTOMERS, PRODUCTS, ADDRESSES])
def test_the_helpers_only_answer_get(clerk, url):
    assert clerk.post(url, {"q": "8000"}).status_code == 405


# --- customers ---------------------------------------------------------------------


def test_the_last_four_digits_find_the_customer_with_recent_orders(clerk, place_order):
    older = place_order(name="王芳", phone="13912345678")
    older.placed_at = timezone.now() - timedelta(days=3)
    older.save(update_fields=["placed_at"])
    latest = place_order(
        name="王芳",
        phone="13912345678",
        payment_method="cod",
        address={
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "address_detail": "文三路90号",
            "postal_code": "310012",
        },
    )
    place_order(name="李四", phone="13800138000")

    response = clerk.get(CUSTOMERS, {"q": "5678"})

    assert response.status_code == 200
    (customer,) = response.json()["customers"]
    assert customer["name"] == "王芳"
    assert customer["phone"] == "139 1234 5678"
    assert customer["email"] == "buyer@example.com"
    assert customer["address"] == {
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "address_detail": "文三路90号",
        "postal_code": "310012",
    }
    assert [o["number"] for o in customer["orders"]] == [latest.number, older.number]
    first = customer["orders"][0]
    assert first["status"] == "ready_to_fulfill"
    assert first["status_label"] == "Ready to fulfil"
    assert first["total"] == "128.00"
    assert first["total_display"] == "¥128.00"
    assert first["url"] == latest.get_absolute_url()
    assert first["placed_at"] == timezone.localtime(latest.placed_at).strftime(
        "%Y-%m-%d %H:%M"
    )


def test_a_full_or_partly_typed_number_finds_the_customer(clerk, place_order):
    place_order(name="王芳", phone="13912345678")
    for typed in ("139 1234 5678", "+86 139-1234-5678", "1391234"):
        (found,) = clerk.get(CUSTOMERS, {"q": typed}).json()["customers"]
        assert found["name"] == "王芳", typed


def test_a_name_finds_customers_and_too_few_digits_find_nobody(clerk, place_order):
    place_order(name="王芳", phone="13912345678")
    place_order(name="王小明", phone="13800138000")
    names = [c["name"] for c in clerk.get(CUSTOMERS, {"q": "王"}).json()["customers"]]
    assert sorted(names) == ["王小明", "王芳"]
    assert clerk.get(CUSTOMERS, {"q": "139"}).json() == {"customers": []}
    assert clerk.get(CUSTOMERS, {"q": " "}).json() == {"customers": []}


def test_a_customer_without_orders_has_no_address_to_copy(clerk):
    CustomerFactory(name="赵六", phone="+8613600136000")
    (customer,) = clerk.get(CUSTOMERS, {"q": "6000"}).json()["customers"]
    assert (customer["address"], customer["orders"]) == (None, [])


def test_at_most_ten_customers_in_two_queries_with_three_orders_each(
    db, place_order, django_assert_num_queries
):
    for i in range(12):
        phone = f"1380000{i:02d}88"
        for _order in range(4):
            place_order(name=f"客户{i}", phone=phone)
    with django_assert_num_queries(2):
        customers = customers_for_phone_order("客户")
        orders = [len(c.recent_orders) for c in customers]
    assert len(customers) == 10
    assert orders == [3] * 10


# --- products ----------------------------------------------------------------------


def test_products_are_found_by_code_name_or_barcode_with_price(clerk, db):
    ProductFactory(sku="TEA-100", name="西湖龙井 100g", barcode="6901234567892")
    ProductFactory(sku="TEA-250", name="西湖龙井 250g", barcode="6901234567809")
    ProductFactory(sku="CUP-1", name="茶杯", price=Decimal("19.90"))
    ProductFactory(sku="TEA-OLD", name="旧茶", active=False)

    def skus(q):
        return [p["sku"] for p in clerk.get(PRODUCTS, {"q": q}).json()["products"]]

    assert skus("tea") == ["TEA-100", "TEA-250"]
    assert skus("龙井") == ["TEA-100", "TEA-250"]
    assert skus("6901234567809") == ["TEA-250"]
    assert skus("tea-250") == ["TEA-250"]
    assert skus("") == []
    (cup,) = clerk.get(PRODUCTS, {"q": "CUP"}).json()["products"]
    assert cup["price"] == "19.90"
    assert cup["price_display"] == "¥19.90"
    assert cup["name"] == "茶杯"


def test_an_exact_code_comes_before_longer_codes_that_contain_it(db):
    ProductFactory(sku="AB-12")
    ProductFactory(sku="XAB-1")
    ProductFactory(sku="AB-1")
    assert [p.sku for p in products_search("ab-1")] == ["AB-1", "AB-12", "XAB-1"]


def test_the_free_stock_adds_up_the_warehouses_and_leaves_out_reservations(
    clerk, place_order, stocked_product
):
    second = WarehouseFactory(code="sh", name="上海仓", priority=2)
    stock_receive(product=stocked_product, warehouse=second, quantity=5, actor="t")
    closed = WarehouseFactory(code="old", name="旧仓", priority=9, active=False)
    stock_receive(product=stocked_product, warehouse=closed, quantity=50, actor="t")
    place_order(payment_method="cod", quantity=3)  # reserves 3 in the first warehouse

    (product,) = clerk.get(PRODUCTS, {"q": stocked_product.sku}).json()["products"]

    assert product["available"] == 10 - 3 + 5
    assert product["price"] == "128.00"


def test_a_product_without_stock_rows_has_none_available(clerk, db):
    ProductFactory(sku="NEW-1")
    (product,) = clerk.get(PRODUCTS, {"q": "NEW-1"}).json()["products"]
    assert product["available"] == 0


def test_at_most_ten_products_are_returned(clerk, db):
    for i in range(15):
        ProductFactory(sku=f"BULK-{i:02d}")
    assert len(clerk.get(PRODUCTS, {"q": "BULK"}).json()["products"]) == 10


# --- a pasted address --------------------------------------------------------------


def test_a_pasted_address_is_split_into_the_form_fields(clerk):
    response = clerk.get(ADDRESSES, {"text": "浙江省杭州市西湖区文三路90号 310012"})
    assert response.json() == {
        "parts": {
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "address_detail": "文三路90号",
            "postal_code": "310012",
        }
    }
    assert clerk.get(ADDRESSES, {"text": ""}).json() == {"parts": {}}


def test_a_phone_order_with_only_a_pasted_address_gets_its_parts(
    clerk, stocked_product
):
    ChannelFactory(code="phone", name="电话订购", kind=Channel.Kind.PHONE)
    data = {
        "customer_name": "王小明",
        "phone": "13912345678",
        "email": "",
        "address_line": "上海市浦东新区张江路100弄5号 邮编201203",
        "province": "",
        "city": "",
        "district": "",
        "address_detail": "",
        "postal_code": "",
        "payment_method": "cod",
        "shipping_fee": "0",
        "buyer_note": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
        "lines-0-code": stocked_product.sku,
        "lines-0-quantity": "1",
    }
    response = clerk.post(reverse("console:order_new"), data)
    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    assert (
        order.province,
        order.city,
        order.district,
        order.address_detail,
        order.postal_code,
    ) == ("上海市", "上海市", "浦东新区", "张江路100弄5号", "201203")
    assert order.status == Order.Status.READY_TO_FULFILL


def test_the_phone_order_form_offers_the_helpers(clerk, db):
    page = clerk.get(reverse("console:order_new")).content.decode()
    assert f'data-customer-lookup-url="{CUSTOMERS}"' in page
    assert f'data-product-search-url="{PRODUCTS}"' in page
    assert f'data-address-split-url="{ADDRESSES}"' in page
    assert 'data-text-available="%(count)s available"' in page
    assert 'id="product-search"' in page
    assert 'name="address_line"' in page
