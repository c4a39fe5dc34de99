"""The analytics pages in chromium: each chart (SVG) and its table render with data.

Screenshots of the pages are taken each run; with ``UPDATE_SCREENSHOTS=1`` they go to
docs/ (analytics_<page>.png, shown in the README), otherwise to the test's temporary
folder, so a test run leaves the checkout as it found it.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from orders.analytics_services import stage_times_catch_up
from orders.roles import OWNER
from tests.factories.analytics import analytics_week
from tests.factories.orders import UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "pass-Word-123"  # UserFactory's
DOCS = Path(settings.BASE_DIR) / "docs"
WEEK = "date_from=2026-11-02&date_to=2026-11-08"
PAGES = [
    ("peaks", "", "hours_orders"),
    ("products", "products/", "top_quantity"),
    ("channels", "channels/", "channel_mix"),
    ("process", "process/", "stages"),
    ("exceptions", "exceptions/", "delays"),
]


def test_each_analytics_page_draws_its_charts_and_tables(
    transactional_db, open_page, live_server, warehouse, tmp_path
):
    shots = DOCS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    owner = UserFactory(username="owner", first_name="老板")
    owner.groups.add(Group.objects.get(name=OWNER))
    analytics_week(warehouse)
    stage_times_catch_up(now=timezone.now() + timedelta(hours=1))

    with open_page() as page:
        page.goto(f"{live_server.url}/console/login/")
        page.fill("#id_username", "owner")
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.locator("form:has(#id_password) [type=submit]").click()
        # The catalogs may not have the words yet: find the links by where they go.
        page.locator('.nav-links a[href="/console/analytics/"]').click()
        expect(page.locator("#hours_orders svg.chart")).to_be_visible()

        for name, path, table in PAGES:
            page.goto(f"{live_server.url}/console/analytics/{path}?{WEEK}")
            section = page.locator(f"#{table}")
            expect(section.locator("svg.chart")).to_be_visible()
            expect(section.locator("svg.chart rect").first).to_be_attached()
            rows = section.locator("table tbody tr")
            expect(rows.first).to_be_visible()
            assert rows.count() > 0
            page.screenshot(path=str(shots / f"analytics_{name}.png"), full_page=True)

        # The slowest stage leads to the orders waiting in it.
        page.goto(f"{live_server.url}/console/analytics/process/?{WEEK}")
        page.locator('#stages a[href="/console/analytics/process/allocated/"]').click()
        expect(page.locator("table tbody tr")).to_have_count(1)
