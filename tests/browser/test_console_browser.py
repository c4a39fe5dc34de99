import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from orders.roles import OWNER
from tests.factories.orders import UserFactory

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
