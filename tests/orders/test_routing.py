"""Routing rules: matching orders wait for a team's review before stock is reserved."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.utils import translation

from inventory.models import Reservation, StockLevel
from orders.bulk import BulkItem, orders_create_bulk
from orders.exceptions import OrderError
from orders.models import Order, RoutingRule
from orders.roles import CUSTOMER_SERVICE, WAREHOUSE
from orders.services import (
    LineInput,
    OrderInput,
    order_cancel,
    order_payment_received,
    order_review_approve,
)
from tests.factories.orders import ChannelFactory

S = Order.Status


def test_an_order_above_the_amount_waits_for_review_with_nothing_reserved(place_order):
    RoutingRule.objects.create(name="大额订单", min_total=Decimal("200.00"))

    with translation.override("en"):
        big = place_order(payment_method="cod", quantity=2)  # 256.00
        small = place_order(payment_method="cod", quantity=1, phone="13900139000")

    assert (big.status, small.status) == (S.REVIEW, S.READY_TO_FULFILL)
    assert not Reservation.objects.filter(order=big).exists()
    event = big.events.get(to_status=S.REVIEW)
    assert event.message == "Held for review by Customer service: 大额订单"
    assert event.data["team"] == "customer_service"


def test_a_buyer_note_sends_the_order_to_review(place_order):
    RoutingRule.objects.create(name="有留言", with_buyer_note=True)

    noted = place_order(payment_method="cod", buyer_note="请周末送货")
    plain = place_order(payment_method="cod", phone="13900139000")

    assert (noted.status, plain.status) == (S.REVIEW, S.READY_TO_FULFILL)


def test_every_condition_of_a_rule_must_hold(place_order, channel):
    other = ChannelFactory(code="app", name="App")
    RoutingRule.objects.create(
        name="App 大额", channel=other, min_total=Decimal("100.00")
    )

    order = place_order(payment_method="cod", quantity=2)

    assert order.status == S.READY_TO_FULFILL


def test_a_rule_without_conditions_or_switched_off_holds_nothing(place_order):
    RoutingRule.objects.create(name="空规则")
    RoutingRule.objects.create(name="停用", with_buyer_note=True, active=False)

    order = place_order(payment_method="cod", buyer_note="留言")

    assert order.status == S.READY_TO_FULFILL


def test_a_prepaid_order_is_reviewed_once_paid(place_order):
    RoutingRule.objects.create(name="大额订单", min_total=Decimal("100.00"))
    order = place_order()
    assert order.status == S.AWAITING_PAYMENT

    order = order_payment_received(order=order, paid_in_full=True, actor="finance")

    assert order.status == S.REVIEW


def test_approving_reserves_the_stock_and_readies_the_order(
    place_order, staff_user, stock_ledger_errors
):
    RoutingRule.objects.create(name="大额订单", min_total=Decimal("100.00"))
    order = place_order(payment_method="cod", quantity=3)

    order = order_review_approve(order=order, actor=staff_user)

    assert order.status == S.READY_TO_FULFILL
    assert StockLevel.objects.get().reserved == 3
    assert order.events.filter(data__review="approved", actor=staff_user).exists()
    assert stock_ledger_errors() == []


def test_approving_without_enough_stock_backorders_the_order(place_order, staff_user):
    RoutingRule.objects.create(name="大额订单", min_total=Decimal("100.00"))
    order = place_order(payment_method="cod", quantity=11)

    order = order_review_approve(order=order, actor=staff_user)

    assert order.status == S.BACKORDERED
    assert not Reservation.objects.exists()


def test_approving_an_order_not_in_review_is_refused(place_order, staff_user):
    order = place_order(payment_method="cod")

    with translation.override("en"), pytest.raises(OrderError) as caught:
        order_review_approve(order=order, actor=staff_user)

    assert str(caught.value) == f"Order {order.number} is not waiting for review."


def test_an_order_in_review_can_be_cancelled(place_order, staff_user):
    RoutingRule.objects.create(name="有留言", with_buyer_note=True)
    order = place_order(payment_method="cod", buyer_note="不要了")

    order = order_cancel(order=order, actor=staff_user, reason="客户取消")

    assert order.status == S.CANCELLED


def test_imported_orders_follow_the_routing_rules(channel, stocked_product):
    RoutingRule.objects.create(name="大额订单", min_total=Decimal("100.00"))

    def item(n, price):
        return BulkItem(
            data=OrderInput(
                channel=channel,
                external_id=f"TB-{n}",
                customer_name=f"买家{n}",
                customer_phone=f"1380013{n:04d}",
                lines=[LineInput(stocked_product, 1, Decimal(price))],
                payment_method="prepaid",
                address={
                    "province": "广东省",
                    "city": "深圳市",
                    "district": "南山区",
                    "address_detail": "科技园路1号",
                },
            ),
            paid=True,
        )

    orders_create_bulk(items=[item(1, "150.00"), item(2, "50.00")], actor="import")

    statuses = dict(Order.objects.values_list("external_id", "status"))
    assert statuses == {"TB-1": S.REVIEW, "TB-2": S.READY_TO_FULFILL}
    assert StockLevel.objects.get().reserved == 1


def test_customer_service_approve_from_the_order_page(client, member, place_order):
    RoutingRule.objects.create(name="有留言", with_buyer_note=True)
    order = place_order(payment_method="cod", buyer_note="请周末送货")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(CUSTOMER_SERVICE))
    assert 'id="action-approve"' in client.get(order.get_absolute_url()).text

    response = client.post(f"/console/orders/{order.number}/approve/")

    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Order {order.number} is now “Ready to fulfil”."
    ]


def test_warehouse_staff_cannot_approve(client, member, place_order):
    RoutingRule.objects.create(name="有留言", with_buyer_note=True)
    order = place_order(payment_method="cod", buyer_note="请周末送货")
    client.force_login(member(WAREHOUSE))

    assert 'id="action-approve"' not in client.get(order.get_absolute_url()).text
    response = client.post(f"/console/orders/{order.number}/approve/")

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == S.REVIEW
