"""At the pack station, the packer scans the waybill's number and prints the label."""

import io

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect
from pypdf import PdfReader

from fulfillment.models import Shipment
from fulfillment.picking import pick_list_create
from orders.roles import WAREHOUSE
from tests.factories.orders import UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "pass-Word-123"  # UserFactory's


def scan(page, selector, code):
    page.fill(selector, code)
    page.press(selector, "Enter")


def test_the_packer_scans_the_waybill_number_and_prints_the_label(
    transactional_db,
    open_page,
    live_server,
    place_order,
    warehouse,
    stocked_product,
    carrier,
):
    packer = UserFactory(username="packer", is_staff=False)
    packer.groups.add(Group.objects.get(name=WAREHOUSE))
    order = place_order(payment_method="cod", name="刘洋")
    pick_list = pick_list_create(warehouse=warehouse, orders=[order], actor="test")

    with open_page() as page:
        page.goto(f"{live_server.url}/console/login/")
        page.fill("#id_username", "packer")
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.locator("form:has(#id_password) [type=submit]").click()
        page.goto(f"{live_server.url}/console/shipments/pack/")
        scan(page, "#scan", pick_list.number)
        # Each scan waits for the station's answer, as a packer watches the screen.
        expect(page.locator("#parcel-title")).to_contain_text(order.number)
        scan(page, "#scan", stocked_product.sku)
        expect(page.locator("#box-form")).to_be_visible()
        for field, value in (("length", "20"), ("width", "15"), ("height", "10")):
            page.fill(f"#id_{field}_cm", value)
        page.fill("#id_weight_kg", "0.5")
        page.click("#complete")
        expect(page.locator("#done")).to_be_visible()
        expect(page.locator("#tracking")).to_be_focused()

        scan(page, "#tracking", "SF12")  # a misread barcode
        expect(page.locator("#tracking-saved")).to_have_attribute("data-ok", "0")
        expect(page.locator("#tracking-saved")).to_contain_text("SF12")

        scan(page, "#tracking", "sf1234567890123")
        expect(page.locator("#tracking-saved")).to_have_attribute("data-ok", "1")
        label_href = page.locator("#label").get_attribute("href")
        label = page.request.get(f"{live_server.url}{label_href}").body()

    parcel = Shipment.objects.get(order=order)
    assert (parcel.carrier, parcel.tracking_number) == (carrier, "SF1234567890123")
    text = PdfReader(io.BytesIO(label)).pages[0].extract_text()
    assert "刘洋" in text and "SF1234567890123" in text
