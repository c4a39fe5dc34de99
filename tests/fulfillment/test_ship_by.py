"""Ship-by deadlines: set per channel when an order is accepted, shown due and late."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.services import payment_confirm
from fulfillment.carriers import DEFAULT_SHIP_WITHIN_HOURS
from fulfillment.models import ChannelShipping
from fulfillment.shipping_selectors import orders_due_to_ship, ship_by_counts
from orders.bulk import BulkItem, orders_create_bulk
from orders.models import Order
from orders.roles import CUSTOMER_SERVICE
from orders.services import LineInput, OrderInput
from tests.factories.orders import ChannelFactory

S = Order.Status


def close_to(moment, expected):
    return abs((moment - expected).total_seconds()) < 60


def test_a_cod_order_must_ship_within_its_channels_hours(place_order, channel):
    ChannelShipping.objects.create(channel=channel, ship_within_hours=24)
    order = place_order(payment_method="cod")
    assert close_to(order.ship_by, timezone.now() + timedelta(hours=24))


def test_a_channel_without_a_policy_gets_the_default(place_order):
    order = place_order(payment_method="cod")
    assert close_to(
        order.ship_by, timezone.now() + timedelta(hours=DEFAULT_SHIP_WITHIN_HOURS)
    )


def test_a_prepaid_order_starts_its_clock_when_paid(place_order, channel, staff_user):
    ChannelShipping.objects.create(channel=channel, ship_within_hours=72)
    order = place_order(payment_method="prepaid")
    assert order.ship_by is None
    payment_confirm(order=order, method="bank", amount=order.total, actor=staff_user)
    order.refresh_from_db()
    assert order.status == S.READY_TO_FULFILL
    assert close_to(order.ship_by, timezone.now() + timedelta(hours=72))


def test_orders_taken_in_bulk_get_their_channels_deadline(stocked_product):
    marketplace = ChannelFactory(code="taobao", name="淘宝店", kind="marketplace")
    ChannelShipping.objects.create(channel=marketplace, ship_within_hours=24)
    address = {
        "province": "广东省",
        "city": "深圳市",
        "district": "南山区",
        "address_detail": "科技园路1号",
    }
    items = [
        BulkItem(
            OrderInput(
                channel=marketplace,
                customer_name="张三",
                customer_phone=f"1380013800{i}",
                lines=[LineInput(stocked_product, 1)],
                payment_method="cod",
                address=address,
            )
        )
        for i in range(2)
    ]
    result = orders_create_bulk(items=items, actor="test")
    for order in result.orders:
        order.refresh_from_db()
        assert close_to(order.ship_by, timezone.now() + timedelta(hours=24))


def test_the_deadline_is_not_moved_when_the_order_is_processed_again(place_order):
    order = place_order(payment_method="cod")
    first = order.ship_by
    Order.objects.filter(pk=order.pk).update(ship_by=first - timedelta(hours=5))
    from orders.services import order_process

    order.refresh_from_db()
    order = order_process(order=order, actor="test")
    assert order.ship_by == first - timedelta(hours=5)


@pytest.fixture
def deadlines(place_order):
    """Orders late, due later today, due tomorrow, and one late but already shipped."""
    now = timezone.now()
    made = {}
    for i, (name, ship_by) in enumerate(
        [
            ("late", now - timedelta(hours=3)),
            ("today", now + timedelta(minutes=1)),
            ("tomorrow", now + timedelta(days=2)),
            ("shipped", now - timedelta(hours=5)),
        ]
    ):
        order = place_order(payment_method="cod", phone=f"1390013900{i}")
        Order.objects.filter(pk=order.pk).update(ship_by=ship_by)
        made[name] = order
    Order.objects.filter(pk=made["shipped"].pk).update(status=S.SHIPPED)
    return made


def test_the_console_lists_orders_due_today_with_late_ones_first(deadlines):
    rows = list(orders_due_to_ship())
    assert [(o.number, o.overdue) for o in rows] == [
        (deadlines["late"].number, True),
        (deadlines["today"].number, False),
    ]


def test_the_dashboard_counts_due_and_late_orders(deadlines, client, member):
    assert ship_by_counts() == ship_by_counts(now=timezone.now())
    counts = ship_by_counts()
    assert (counts.overdue, counts.due_today) == (1, 1)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(CUSTOMER_SERVICE))
    html = client.get(reverse("console:dashboard")).content.decode()
    assert "Late to ship" in html and "Due to ship today" in html
    assert reverse("fulfillment:ship_by") in html


def test_the_due_page_shows_late_orders_in_red(deadlines, client, member):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(CUSTOMER_SERVICE))
    html = client.get(reverse("fulfillment:ship_by")).content.decode()
    assert html.count('class="row-late"') == 1
    assert deadlines["late"].number in html and deadlines["today"].number in html
    assert deadlines["tomorrow"].number not in html
    assert "late by 3" in html


def test_the_order_page_shows_a_late_deadline_in_red(deadlines, client, member):
    client.force_login(member(CUSTOMER_SERVICE))
    html = client.get(deadlines["late"].get_absolute_url()).content.decode()
    assert 'class="nowrap ship-late"' in html


def test_the_order_list_marks_late_orders(deadlines, client, member):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(CUSTOMER_SERVICE))
    html = client.get(reverse("console:order_list")).content.decode()
    assert html.count("ship-late") == 1
    assert ": late</small>" in html
