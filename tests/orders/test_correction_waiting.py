"""Orders held for correction too long: the console says to call the customer."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Order, OrderEvent
from orders.roles import CUSTOMER_SERVICE
from orders.selectors import dashboard_summary, order_list, orders_waiting_for_call
from orders.services import order_correct
from tests.factories.orders import UserFactory

S = Order.Status
NO_DISTRICT = {"province": "广东省", "city": "深圳市", "address_detail": "科技园路1号"}


@pytest.fixture
def console(client, db):
    """The test client, signed in as customer service, reading English."""
    user = UserFactory(username="service", is_staff=False)
    user.groups.add(Group.objects.get(name=CUSTOMER_SERVICE))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(user)
    return client


@pytest.fixture
def held_for(place_order):
    """Return a function placing an order held for correction since ``hours`` ago."""

    def hold(hours, **extra):
        order = place_order(address=NO_DISTRICT, **extra)
        assert order.status == S.NEEDS_CORRECTION
        held_at(order, hours)
        return order

    return hold


def held_at(order, hours):
    """Move the event that put the order on hold back by ``hours``."""
    OrderEvent.objects.filter(order=order, to_status=S.NEEDS_CORRECTION).update(
        created_at=timezone.now() - timedelta(hours=hours)
    )


def numbers(orders):
    return [order.number for order in orders]


def test_an_order_held_longer_than_the_setting_is_due_for_a_call(held_for, settings):
    settings.CORRECTION_CALL_AFTER_HOURS = 24
    old = held_for(25)
    held_for(23, phone="13900139000")
    assert numbers(orders_waiting_for_call()) == [old.number]


def test_the_setting_decides_how_long_is_too_long(held_for, settings):
    order = held_for(5)
    settings.CORRECTION_CALL_AFTER_HOURS = 24
    assert numbers(orders_waiting_for_call()) == []
    settings.CORRECTION_CALL_AFTER_HOURS = 4
    assert numbers(orders_waiting_for_call()) == [order.number]


def test_the_wait_counts_from_the_latest_hold_not_the_first(held_for, settings):
    settings.CORRECTION_CALL_AFTER_HOURS = 24
    order = held_for(72)
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.STATUS,
        from_status=S.RECEIVED,
        to_status=S.NEEDS_CORRECTION,
        actor_label="test",
        created_at=timezone.now() - timedelta(hours=1),
    )
    assert numbers(orders_waiting_for_call()) == []
    (listed,) = order_list()
    assert listed.held_since > timezone.now() - timedelta(hours=2)


def test_an_order_no_longer_held_is_not_due_however_old_its_hold(held_for, settings):
    settings.CORRECTION_CALL_AFTER_HOURS = 24
    order = held_for(48)
    order_correct(order=order, changes={"district": "南山区"}, actor="test")
    order.refresh_from_db()
    assert order.status == S.AWAITING_PAYMENT
    assert numbers(orders_waiting_for_call()) == []
    (listed,) = order_list()
    assert (listed.held_since, listed.call_due) == (None, False)


def test_the_longest_waiting_come_first(held_for, settings):
    settings.CORRECTION_CALL_AFTER_HOURS = 24
    recent = held_for(30)
    oldest = held_for(90, phone="13900139000")
    middle = held_for(50, phone="13700137000")
    assert numbers(orders_waiting_for_call()) == [
        oldest.number,
        middle.number,
        recent.number,
    ]


def test_the_order_list_filter_keeps_the_orders_to_call(
    console, held_for, place_order, settings
):
    settings.CORRECTION_CALL_AFTER_HOURS = 24
    due = held_for(26)
    held_for(2, phone="13900139000")
    place_order(phone="13700137000")
    response = console.get("/console/orders/?waiting=call")
    assert numbers(response.context["orders"]) == [due.number]
    page = response.content.decode()
    assert "held for correction for more than 24 hours" in page
    assert 'class="row-call"' in page
    assert "Call the customer" in page
    assert "waiting 1\xa0day, 2\xa0hours" in page


def test_the_order_list_shows_how_long_each_held_order_waits(
    console, held_for, settings
):
    settings.CORRECTION_CALL_AFTER_HOURS = 24
    held_for(3)
    response = console.get("/console/orders/")
    (row,) = response.context["orders"]
    assert row.call_due is False
    page = response.content.decode()
    assert "waiting 3\xa0hours" in page
    assert 'class="row-call"' not in page


def test_the_order_list_reads_the_hold_times_in_one_query_however_many_rows(
    console, held_for, django_assert_max_num_queries
):
    held_for(30)
    with CaptureQueriesContext(connection) as few:
        console.get("/console/orders/?waiting=call")
    for i in range(5):
        held_for(40 + i, phone=f"1390013900{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = console.get("/console/orders/?waiting=call")
    assert len(response.context["orders"]) == 6


def test_the_dashboard_counts_and_lists_the_customers_to_call(
    console, held_for, settings, django_assert_max_num_queries
):
    settings.CORRECTION_CALL_AFTER_HOURS = 24
    orders = [held_for(30 + i, phone=f"1390013900{i}") for i in range(7)]
    held_for(1, phone="13700137000")
    # session, user, its permissions (2), statuses with today, orders to call,
    # open parcel exceptions, exception rates per carrier, ship-by deadlines;
    # PostgreSQL's status statistics
    with django_assert_max_num_queries(10):
        response = console.get("/console/")
    summary = response.context["summary"]
    assert summary.call_count == 7
    assert numbers(summary.to_call) == [o.number for o in reversed(orders)][:5]
    assert summary.needs_correction == 8
    assert summary.today == 8
    page = response.content.decode()
    assert "/console/orders/?waiting=call" in page
    assert "Call the customer" in page
    assert "waiting 1\xa0day, 12\xa0hours" in page
    assert "All 7 orders" in page


def test_the_dashboard_summary_without_orders_to_call(db):
    summary = dashboard_summary()
    assert (summary.call_count, summary.to_call) == (0, [])


def test_the_waiting_filter_is_offered_on_the_order_list(console):
    page = console.get("/console/orders/").content.decode()
    assert '<select name="waiting"' in page
    assert '<option value="call">Call the customer</option>' in page
