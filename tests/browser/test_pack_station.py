"""The pack station in a real browser, driven like a keyboard-wedge scanner (type, Enter)."""

import io

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect
from pypdf import PdfReader

from fulfillment.models import BoxPreset, Shipment
from fulfillment.picking import pick_list_create
from orders.roles import WAREHOUSE
from tests.factories.fulfillment import CarrierFactory
from tests.factories.orders import UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "pass-Word-123"  # UserFactory's


def scan(page, code):
    page.fill("#scan", code)
    page.press("#scan", "Enter")


def test_a_packer_scans_the_pick_list_and_items_and_packs_the_parcel(
    transactional_db, open_page, live_server, place_order, warehouse, stocked_product
):
    packer = UserFactory(username="packer", is_staff=False)
    packer.groups.add(Group.objects.get(name=WAREHOUSE))
    order = place_order(payment_method="cod", quantity=2, name="王小明")
    pick_list = pick_list_create(warehouse=warehouse, orders=[order], actor="test")
    BoxPreset.objects.create(name="小号", length_cm=20, width_cm=15, height_cm=10)
    # The demo carrier issues a tracking number when the label is asked for.
    CarrierFactory(code="demo", name="演示快递", supports_cod=True)

    with open_page() as page:
        page.goto(f"{live_server.url}/console/login/")
        page.fill("#id_username", "packer")
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.locator("form:has(#id_password) [type=submit]").click()
        page.goto(f"{live_server.url}/console/shipments/pack/")

        scan(page, pick_list.number)
        expect(page.locator("#parcel-title")).to_contain_text(order.number)
        expect(page.locator("#left")).to_contain_text("2")

        scan(page, "WRONG-ITEM")
        expect(page.locator("#message")).to_have_class("pack-message bad pack-flash")

        scan(page, stocked_product.sku)
        expect(page.locator("#message")).to_have_attribute("data-ok", "1")
        expect(page.locator("#left")).to_contain_text("1")
        expect(page.locator("#box-form")).to_be_hidden()

        # A reload keeps what was scanned: the state lives on the server.
        page.reload()
        expect(page.locator("#left")).to_contain_text("1")

        scan(page, stocked_product.barcode)
        expect(page.locator("#box-form")).to_be_visible()
        scan(page, stocked_product.sku)  # one too many
        expect(page.locator("#message")).to_have_attribute("data-ok", "0")

        page.select_option("#id_box_preset", label="小号 (20×15×10 cm)")
        page.click("#complete")
        expect(page.locator("#done")).to_be_visible()

        slip_href = page.locator("#slip").get_attribute("href")
        slip = page.request.get(f"{live_server.url}{slip_href}")
        text = PdfReader(io.BytesIO(slip.body())).pages[0].extract_text()
        label_href = (
            page.locator("#label").get_attribute("href")
            if page.locator("#label").is_visible()
            else None
        )
        label = (
            page.request.get(f"{live_server.url}{label_href}").body()
            if label_href
            else None
        )

    assert Shipment.objects.get(order=order).status == Shipment.Status.PACKED
    assert "王小明" in text and order.number in text
    label_text = PdfReader(io.BytesIO(label)).pages[0].extract_text()
    parcel = Shipment.objects.get(order=order)
    assert parcel.tracking_number.startswith("DEMO")
    assert "王小明" in label_text and parcel.tracking_number in label_text
