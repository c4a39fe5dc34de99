from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from inventory.services import stock_receive
from orders.models import Channel
from orders.roles import CUSTOMER_SERVICE, OWNER
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory, UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "pass-Word-123"  # UserFactory's


def test_owner_logs_in_and_sees_the_order(
    transactional_db, open_page, live_server, place_order, tmp_path
):
    owner = UserFactory(username="owner", first_name="老板")
    owner.groups.add(Group.objects.get(name=OWNER))
    order = place_order(name="陈小春")

    with open_page() as page:
        page.goto(f"{live_server.url}/console/login/")
        page.fill("#id_username", "owner")
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.locator("form:has(#id_password) [type=submit]").click()
        assert "/console/login/" not in page.url

        page.goto(f"{live_server.url}/console/orders/{order.number}/")

        expect(page.get_by_text(order.number).first).to_be_visible()
        expect(page.get_by_text("陈小春").first).to_be_visible()
        page.screenshot(path=str(tmp_path / "order_detail.png"), full_page=True)


def signed_in_clerk(page, live_server):
    page.goto(f"{live_server.url}/console/login/")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("form:has(#id_password) [type=submit]").click()
    assert "/console/login/" not in page.url


def phone_order_set_up(warehouse):
    """A customer-service clerk, the phone channel and a product with 10 units free."""
    clerk = UserFactory(username="clerk", is_staff=False)
    clerk.groups.add(Group.objects.get(name=CUSTOMER_SERVICE))
    ChannelFactory(code="phone", name="电话订购", kind=Channel.Kind.PHONE)
    tea = ProductFactory(sku="TEA-100", name="西湖龙井 100g", price=Decimal("88.00"))
    stock_receive(product=tea, warehouse=warehouse, quantity=10, actor="test")
    return tea


def test_enter_in_the_product_search_adds_the_first_match_as_a_line(
    transactional_db, open_page, live_server, warehouse
):
    phone_order_set_up(warehouse)
    ProductFactory(sku="TEA-1000", name="龙井礼盒")

    with open_page() as page:
        signed_in_clerk(page, live_server)
        page.goto(f"{live_server.url}/console/orders/new/")
        search = page.locator("#product-search")
        expect(search).to_be_visible()

        search.fill("tea-100")
        search.press("Enter")

        first = page.locator("#id_lines-0-code")
        expect(first).to_have_value("TEA-100")
        expect(page.locator("#id_lines-0-quantity")).to_have_value("1")
        info = page.locator(".line-entry tbody tr").first.locator(".line-info")
        expect(info).to_contain_text("西湖龙井 100g")
        expect(info).to_contain_text("¥88.00")
        expect(info).to_contain_text("10")
        expect(search).to_have_value("")
        # The order was not submitted by that Enter.
        assert page.url.endswith("/console/orders/new/")

        # The same product again adds one more, not a second line.
        search.fill("TEA-100")
        search.press("Enter")
        expect(page.locator("#id_lines-0-quantity")).to_have_value("2")
        expect(page.locator("#id_lines-1-code")).to_have_value("")


def test_a_returning_caller_is_found_and_the_order_booked_from_the_keyboard(
    transactional_db, open_page, live_server, warehouse, place_order
):
    tea = phone_order_set_up(warehouse)
    earlier = place_order(
        name="王芳",
        phone="13912345678",
        product=tea,
        address={
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "address_detail": "文三路90号",
            "postal_code": "310012",
        },
    )

    with open_page() as page:
        signed_in_clerk(page, live_server)
        page.goto(f"{live_server.url}/console/orders/new/")

        page.locator("#id_phone").fill("5678")
        match = page.locator("#customer-matches > li").first
        expect(match).to_contain_text("王芳")
        expect(match).to_contain_text(earlier.number)
        match.get_by_role("button").click()
        expect(page.locator("#id_customer_name")).to_have_value("王芳")
        expect(page.locator("#id_phone")).to_have_value("139 1234 5678")
        expect(page.locator("#id_district")).to_have_value("西湖区")
        expect(page.locator("#product-search")).to_be_focused()

        page.keyboard.type("TEA-100")
        page.keyboard.press("Enter")
        expect(page.locator("#id_lines-0-code")).to_have_value("TEA-100")

        # A pasted address replaces the parts as soon as the field is left.
        line = page.locator("#id_address_line")
        line.fill("上海市浦东新区张江路100弄5号 邮编201203")
        line.press("Tab")
        expect(page.locator("#id_province")).to_have_value("上海市")
        expect(page.locator("#id_district")).to_have_value("浦东新区")
        expect(page.locator("#id_address_detail")).to_have_value("张江路100弄5号")
        expect(line).to_have_value("")

        page.locator("#id_payment_method_1").check()
        with page.expect_navigation():
            page.locator(".form-actions [type=submit]").click()
        assert "/console/orders/new/" not in page.url
        expect(page.get_by_text("张江路100弄5号").first).to_be_visible()
