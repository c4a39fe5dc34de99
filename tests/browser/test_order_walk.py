"""The foundation's "done when", walked in a real browser.

A new staff member logs in to the console, books a phone order with the phone-order
form and takes it to completed with the order page's buttons, while the customer's
status page (/track/) shows every step.
"""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from fulfillment.models import Shipment
from inventory.services import stock_receive
from orders.models import Channel, Order, OrderEvent
from orders.roles import OWNER
from tests.factories.fulfillment import CarrierFactory
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory, UserFactory

pytestmark = pytest.mark.browser

S = Order.Status
PASSWORD = "pass-Word-123"  # UserFactory's
PHONE = "13800138000"
TRACKING_NUMBER = "SF1234567890123"  # SF: "SF" and 13 digits

# The customer page's steps, in order (tracking.selectors.order_progress).
STEP_NAMES = [
    "Received",
    "Paid",
    "Ready to ship",
    "Being packed",
    "Shipped",
    "Delivered",
    "Completed",
]


def zh(text):
    """Return the text as the zh-CN pages show it, from the compiled catalog."""
    with translation.override("zh-hans"):
        return gettext(text)


def status_of(number):
    return Order.objects.get(number=number).status


def sign_in(page, base):
    page.goto(f"{base}/console/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("form:has(#id_password) [type=submit]").click()
    assert "/console/login/" not in page.url


def book_phone_order(page, base):
    """Fill in the phone-order form as a clerk would; return the new order's number."""
    page.goto(f"{base}/console/orders/new/")
    page.fill("#id_customer_name", "张三")
    page.fill("#id_phone", PHONE)

    search = page.locator("#product-search")
    search.fill("TEA-100")
    search.press("Enter")
    expect(page.locator("#id_lines-0-code")).to_have_value("TEA-100")
    page.fill("#id_lines-0-quantity", "2")

    line = page.locator("#id_address_line")
    line.fill("广东省深圳市南山区科技园路1号 邮编518000")
    line.press("Tab")
    expect(page.locator("#id_province")).to_have_value("广东省")
    expect(page.locator("#id_district")).to_have_value("南山区")
    expect(page.locator("#id_address_detail")).to_have_value("科技园路1号")

    page.locator("input[name=payment_method][value=prepaid]").check()
    page.fill("#id_shipping_fee", "10.00")
    with page.expect_navigation():
        page.locator(".form-actions [type=submit]").click()
    found = re.search(r"/console/orders/([^/]+)/$", page.url)
    assert found and found.group(1) != "new", page.url
    return found.group(1)


def expect_console_status(page, status):
    expect(page.locator(f".order-head .badge.badge-{status}")).to_be_visible()


def expect_customer_sees(customer, status, step):
    """Reload the customer's page; it shows the status and ``step`` as the current step."""
    customer.reload()
    expect(customer.locator(f".t-status.t-status-{status}")).to_be_visible()
    reached = STEP_NAMES.index(step)
    current = customer.locator(".t-step[aria-current=step]")
    expect(current).to_have_count(1)
    expect(current.locator(".t-step-label")).to_have_text(zh(step))
    expect(customer.locator(".t-step-done")).to_have_count(reached)
    expect(customer.locator(".t-step-todo")).to_have_count(
        len(STEP_NAMES) - 1 - reached
    )


def submit(page, form):
    with page.expect_navigation():
        form.locator("[type=submit]").click()


def test_a_new_clerk_takes_a_phone_order_to_completed_while_the_customer_watches(
    transactional_db, open_page, live_server, warehouse, tmp_path
):
    owner = UserFactory(username="owner", first_name="新同事")
    owner.groups.add(Group.objects.get(name=OWNER))
    ChannelFactory(code="phone", name="电话订购", kind=Channel.Kind.PHONE)
    tea = ProductFactory(sku="TEA-100", name="西湖龙井 100g", price=Decimal("88.00"))
    stock_receive(product=tea, warehouse=warehouse, quantity=10, actor="test")
    carrier = CarrierFactory()  # 顺丰速运, with a tracking page on its site
    base = live_server.url

    with open_page() as page:
        try:
            # 1. The clerk books the order on the phone.
            sign_in(page, base)
            number = book_phone_order(page, base)
            order = Order.objects.get(number=number)
            assert order.status == S.AWAITING_PAYMENT
            assert order.payment_method == Order.PaymentMethod.PREPAID
            assert order.total == Decimal("186.00")  # 2 × 88 + 10 shipping
            assert order.recipient_name == "张三"
            assert order.district == "南山区"
            expect(page.locator("h1")).to_contain_text(number)
            expect_console_status(page, S.AWAITING_PAYMENT)

            # 2. The customer, not signed in, looks the order up.
            customer_context = page.context.browser.new_context(
                locale="zh-CN", viewport={"width": 420, "height": 900}
            )
            customer_context.set_default_timeout(15_000)
            customer = customer_context.new_page()
            customer.goto(f"{base}/track/")
            customer.fill("#id_number", number)
            customer.fill("#id_phone", PHONE)
            with customer.expect_navigation():
                customer.locator(".t-form [type=submit]").click()
            assert customer.url.endswith(f"/track/{number}/")
            expect(customer.locator(".t-number")).to_have_text(number)
            expect_customer_sees(customer, S.AWAITING_PAYMENT, "Received")
            expect(customer.locator(".t-pay-unpaid")).to_be_visible()

            # 3a. Finance confirms the money arrived.
            confirm = page.locator("#action-confirm_payment form")
            expect(confirm.locator("[name=amount]")).to_have_value("186.00")
            confirm.locator("[name=method]").select_option("alipay")
            confirm.locator("[name=reference]").fill("ALI-20240501-1")
            submit(page, confirm)
            assert status_of(number) == S.READY_TO_FULFILL
            expect_console_status(page, S.READY_TO_FULFILL)
            expect(page.locator(".messages .msg-success")).to_contain_text("186.00")
            expect(page.locator("#action-confirm_payment")).to_have_count(0)
            expect_customer_sees(customer, S.READY_TO_FULFILL, "Ready to ship")
            expect(customer.locator(".t-pay-paid")).to_be_visible()

            # 3b. The warehouse starts picking.
            start = page.locator("#action-start_picking form")
            expect(start).to_contain_text(zh("Start picking"))
            submit(page, start)
            assert status_of(number) == S.IN_FULFILLMENT
            expect_console_status(page, S.IN_FULFILLMENT)
            parcel = Shipment.objects.get(order__number=number)
            expect(customer.locator(".t-parcel")).to_have_count(0)
            expect_customer_sees(customer, S.IN_FULFILLMENT, "Being packed")
            expect(customer.locator(".t-parcel")).to_have_count(1)

            # 3c. The parcel leaves with the carrier.
            ship = page.locator(f"#action-ship-{parcel.pk} form")
            ship.locator("[name=carrier]").select_option(str(carrier.pk))
            ship.locator("[name=tracking_number]").fill(TRACKING_NUMBER)
            ship.locator("[name=weight_kg]").fill("0.8")
            submit(page, ship)
            assert status_of(number) == S.SHIPPED
            parcel.refresh_from_db()
            assert parcel.tracking_number == TRACKING_NUMBER
            assert parcel.carrier == carrier
            expect_console_status(page, S.SHIPPED)
            expect(page.locator(".messages .msg-success")).to_contain_text(
                TRACKING_NUMBER
            )
            expect_customer_sees(customer, S.SHIPPED, "Shipped")
            customer_parcel = customer.locator(".t-parcel")
            expect(customer_parcel).to_contain_text(TRACKING_NUMBER)
            expect(customer_parcel).to_contain_text(carrier.name)
            expect(customer_parcel.locator(".t-ship-shipped")).to_be_visible()

            # 3d. The carrier reports the delivery; staff type the scan in.
            with page.expect_navigation():
                page.locator(f"#action-scan-{parcel.pk} a").click()
            assert page.url.endswith(f"/console/tracking/shipments/{parcel.pk}/scans/")
            scan = page.locator("form:has([name=occurred_at])")
            scan.locator("[name=status]").select_option("delivered")
            scan.locator("[name=description]").fill("已签收，签收人：本人")
            scan.locator("[name=location]").fill("深圳市南山区")
            submit(page, scan)
            expect(page.locator(".messages .msg-success")).to_be_visible()
            assert status_of(number) == S.DELIVERED
            with page.expect_navigation():
                page.locator(".crumbs a").click()
            assert page.url.endswith(f"/console/orders/{number}/")
            expect_console_status(page, S.DELIVERED)
            expect_customer_sees(customer, S.DELIVERED, "Delivered")
            expect(customer.locator(".t-scan-latest")).to_contain_text(
                "已签收，签收人：本人"
            )
            expect(customer.locator(".t-ship-delivered")).to_be_visible()

            # 3e. The money is in and the parcel arrived: the order is done.
            complete = page.locator("#action-complete form")
            expect(complete).to_contain_text(zh("Complete (settled)"))
            submit(page, complete)
            assert status_of(number) == S.COMPLETED
            expect_console_status(page, S.COMPLETED)
            expect(page.locator("#action-complete")).to_have_count(0)
            expect_customer_sees(customer, S.COMPLETED, "Completed")

            moves = list(
                OrderEvent.objects.filter(
                    order__number=number, kind=OrderEvent.Kind.STATUS
                ).values_list("to_status", flat=True)
            )
            assert moves == [
                S.AWAITING_PAYMENT,
                S.READY_TO_FULFILL,
                S.IN_FULFILLMENT,
                S.SHIPPED,
                S.DELIVERED,
                S.COMPLETED,
            ]

            # 4. The final pages, for a person to look at.
            page.screenshot(path=str(tmp_path / "order_completed.png"), full_page=True)
            customer.screenshot(
                path=str(tmp_path / "track_completed.png"), full_page=True
            )
            customer_context.close()
        finally:
            # The ORM calls above ran while Playwright's loop was active and opened a
            # connection of their own; close it here so PostgreSQL can drop the test
            # database (see the open_page fixture).
            connections.close_all()

    assert (tmp_path / "order_completed.png").stat().st_size > 0
    assert (tmp_path / "track_completed.png").stat().st_size > 0
