"""The console's read pages: sign-in, dashboard, order list, order page and its actions."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from orders.roles import CUSTOMER_SERVICE, FINANCE, OWNER, WAREHOUSE
from orders.selectors import order_actions
from tests.factories.orders import (
    ChannelFactory,
    CustomerFactory,
    OrderFactory,
    UserFactory,
)

S = Order.Status
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def console(client, member):
    """Return the test client, signed in as the shop owner, reading English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(OWNER))
    return client


def listed(response):
    return [order.number for order in response.context["orders"]]


def action_names(response):
    return [panel["action"].name for panel in response.context["actions"]]


# --- signing in -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/console/", "/console/orders/", "/console/orders/new/", "/console/orders/1/"],
)
def test_console_pages_send_visitors_to_the_sign_in_page(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/console/login/?next={url}"


def test_staff_sign_in_and_land_on_the_dashboard(client, member):
    member(CUSTOMER_SERVICE)
    response = client.post(
        reverse("console:login"),
        {"username": f"user-{CUSTOMER_SERVICE}", "password": "pass-Word-123"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("console:dashboard")


def test_the_sign_in_page_has_no_navigation(client, db):
    response = client.get(reverse("console:login"))
    assert response.status_code == 200
    assert b'class="topbar"' not in response.content


def test_signing_out_is_a_post_that_returns_to_the_sign_in_page(console):
    assert console.get(reverse("console:logout")).status_code == 405
    response = console.post(reverse("console:logout"))
    assert response["Location"] == reverse("console:login")
    assert console.get("/console/").status_code == 302


def test_the_navigation_shows_the_admin_link_only_to_staff(client, member):
    client.force_login(member(WAREHOUSE))
    assert b"/admin/" not in client.get("/console/").content
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    assert b"/admin/" in client.get("/console/").content


def test_a_user_without_a_role_is_refused_with_403(client, db):
    client.force_login(UserFactory(username="nobody", is_staff=False))
    assert client.get("/console/orders/").status_code == 403


# --- dashboard --------------------------------------------------------------


def test_the_dashboard_counts_orders_per_status_in_lifecycle_order(
    console, django_assert_max_num_queries
):
    OrderFactory.create_batch(3, status=S.AWAITING_PAYMENT)
    OrderFactory(status=S.NEEDS_CORRECTION)
    OrderFactory(status=S.SHIPPED, placed_at=timezone.now() - timedelta(days=3))
    # session, user, its permissions (2), statuses, today, parcel exceptions (2),
    # ship-by deadlines (1); PostgreSQL's status statistics (1)
    with django_assert_max_num_queries(10):
        response = console.get("/console/")
    summary = response.context["summary"]
    assert [row.status for row in summary.statuses] == list(S.values)
    counts = {row.status: row.count for row in summary.statuses}
    assert counts[S.AWAITING_PAYMENT] == 3
    assert counts[S.NEEDS_CORRECTION] == 1
    assert counts[S.SHIPPED] == 1
    assert counts[S.COMPLETED] == 0
    assert summary.today == 4
    assert summary.needs_correction == 1
    assert b"/console/orders/?status=awaiting_payment" in response.content


# --- order list -------------------------------------------------------------


def test_the_order_list_filters_by_status_and_channel(console):
    web = ChannelFactory(code="web", name="官网")
    shop = ChannelFactory(code="tmall", name="天猫店")
    waiting = OrderFactory(
        number="261128000001", status=S.AWAITING_PAYMENT, channel=web
    )
    OrderFactory(number="261128000002", status=S.SHIPPED, channel=web)
    tmall = OrderFactory(number="261128000003", status=S.SHIPPED, channel=shop)

    assert listed(console.get("/console/orders/?status=awaiting_payment")) == [
        waiting.number
    ]
    assert listed(console.get(f"/console/orders/?channel={shop.pk}")) == [tmall.number]


def test_the_order_list_reads_dates_as_days_in_shanghai(console):
    # 00:30 on 1 March in Shanghai is still 28 February in UTC.
    early = OrderFactory(
        number="250301000001", placed_at=datetime(2025, 3, 1, 0, 30, tzinfo=SHANGHAI)
    )
    OrderFactory(
        number="250228000001", placed_at=datetime(2025, 2, 28, 23, 0, tzinfo=SHANGHAI)
    )
    OrderFactory(
        number="250302000001", placed_at=datetime(2025, 3, 2, 0, 0, tzinfo=SHANGHAI)
    )
    response = console.get("/console/orders/?date_from=2025-03-01&date_to=2025-03-01")
    assert listed(response) == [early.number]


@pytest.mark.parametrize(
    "q",
    [
        "261128123456",  # order number
        "1234",  # part of the order number
        "TB-998877",  # the marketplace's id
        "李四",  # customer name
        "13912345678",  # full phone
        "+86 139 1234 5678",  # full phone, as typed
        "5678",  # last four digits
    ],
)
def test_the_order_list_search_finds_an_order_by_number_id_name_or_phone(console, q):
    customer = CustomerFactory(name="李四", phone="+8613912345678")
    wanted = OrderFactory(
        number="261128123456", external_id="TB-998877", customer=customer
    )
    OrderFactory(
        number="261128000777",
        customer=CustomerFactory(name="王五", phone="+8613800001111"),
    )
    assert listed(console.get("/console/orders/", {"q": q})) == [wanted.number]


def test_the_last_four_digits_match_the_recipient_phone_too(console):
    order = OrderFactory(number="261128000001", recipient_phone="+8613700009999")
    OrderFactory(number="261128000002")
    assert listed(console.get("/console/orders/", {"q": "9999"})) == [order.number]


def test_the_order_list_pages_by_fifty(console):
    OrderFactory.create_batch(55)
    first = console.get("/console/orders/")
    assert len(first.context["orders"]) == 50
    second = console.get("/console/orders/", {"after": first.context["page"].after})
    assert len(second.context["orders"]) == 5


def test_the_order_list_query_count_does_not_grow_with_rows(
    console, django_assert_max_num_queries
):
    OrderFactory.create_batch(2)
    with CaptureQueriesContext(connection) as few:
        console.get("/console/orders/")
    OrderFactory.create_batch(40, channel=ChannelFactory(code="app", kind="app"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = console.get("/console/orders/")
    assert len(response.context["orders"]) == 42
    # session, user, permissions, channel choices, page, count
    assert len(few.captured_queries) <= 7


def test_an_order_row_shows_number_status_payment_and_total(console):
    OrderFactory(number="261128000042", status=S.AWAITING_PAYMENT)
    html = console.get("/console/orders/").content.decode()
    assert 'href="/console/orders/261128000042/"' in html
    assert "Awaiting payment" in html
    assert "Unpaid" in html
    assert "¥100.00" in html


# --- order page and its actions ----------------------------------------------


def test_the_order_page_shows_totals_address_and_timeline(console, place_order):
    order = place_order(quantity=2, shipping_fee=12)
    html = console.get(order.get_absolute_url()).content.decode()
    assert "¥256.00" in html  # subtotal
    assert "¥12.00" in html  # shipping
    assert "¥268.00" in html  # total
    assert "广东省深圳市南山区科技园路1号" in html
    assert "Order created" in html
    assert "Received → <strong>Awaiting payment</strong>" in html


def test_an_order_held_for_correction_lists_its_problems(console, place_order):
    order = place_order(address={"province": "广东省", "city": "深圳市"})
    assert order.status == S.NEEDS_CORRECTION
    response = console.get(order.get_absolute_url())
    assert "The district is missing from the address." in response.content.decode()
    assert action_names(response)[0] == "correct"


def test_an_unknown_order_number_is_404(console):
    assert console.get("/console/orders/000000000000/").status_code == 404


def test_warehouse_staff_see_start_picking_but_not_confirm_payment(
    client, member, place_order
):
    ready = place_order(payment_method="cod")
    waiting = place_order(phone="13900139000")
    assert (ready.status, waiting.status) == (S.READY_TO_FULFILL, S.AWAITING_PAYMENT)
    client.force_login(member(WAREHOUSE))
    assert action_names(client.get(ready.get_absolute_url())) == ["start_picking"]
    assert action_names(client.get(waiting.get_absolute_url())) == []


def test_finance_sees_confirm_payment_but_not_start_picking(
    client, member, place_order
):
    ready = place_order(payment_method="cod")
    waiting = place_order(phone="13900139000")
    client.force_login(member(FINANCE))
    response = client.get(waiting.get_absolute_url())
    assert action_names(response) == ["confirm_payment"]
    assert "确认收款" in response.content.decode()  # Chinese by default
    assert action_names(client.get(ready.get_absolute_url())) == []


def test_customer_service_may_correct_note_and_cancel_a_waiting_order(
    member, place_order
):
    order = place_order()
    actions = order_actions(order, member(CUSTOMER_SERVICE))
    assert [a.name for a in actions] == ["correct", "note", "cancel"]


def test_the_owner_sees_every_step_the_lifecycle_allows(member, place_order):
    order = place_order()
    actions = order_actions(order, member(OWNER))
    assert [a.name for a in actions] == ["confirm_payment", "correct", "note", "cancel"]


def test_complete_is_offered_only_once_a_delivered_order_is_paid(member):
    owner = member(OWNER)
    unpaid = OrderFactory(status=S.DELIVERED, payment_method="cod")
    unpaid.payment_status = Order.PaymentStatus.COD_PENDING
    paid = OrderFactory(status=S.DELIVERED, payment_status=Order.PaymentStatus.PAID)
    assert [a.name for a in order_actions(unpaid, owner)] == ["cod", "note"]
    assert [a.name for a in order_actions(paid, owner)] == ["complete", "note"]


def test_finished_orders_offer_only_a_note(member):
    owner = member(OWNER)
    for status in (S.COMPLETED, S.CANCELLED):
        order = OrderFactory(status=status)
        assert [a.name for a in order_actions(order, owner)] == ["note"]
