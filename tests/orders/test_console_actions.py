"""Driving orders through the console: every button posts to one service."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from fulfillment.models import Shipment
from fulfillment.services import shipment_mark_delivered
from inventory.models import StockLevel
from inventory.services import stock_receive
from orders.models import Channel, Order, OrderEvent
from orders.roles import CUSTOMER_SERVICE, OWNER, WAREHOUSE
from tests.factories.fulfillment import CarrierFactory
from tests.factories.orders import ChannelFactory

S = Order.Status


@pytest.fixture
def console(client, member):
    """Return the test client, signed in as the shop owner, reading English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(OWNER))
    return client


def said(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def refreshed(order):
    order.refresh_from_db()
    return order


def test_an_order_walks_from_received_to_completed_through_the_console(
    console, stocked_product
):
    ChannelFactory(code="phone", name="电话订购", kind=Channel.Kind.PHONE)
    demo = CarrierFactory(code="demo", name="演示快递", tracking_url="")

    response = console.post(
        reverse("console:order_new"),
        {
            "customer_name": "张三",
            "phone": "138 0013 8000",
            "province": "广东省",
            "city": "深圳市",
            "district": "南山区",
            "address_detail": "科技园路1号",
            "payment_method": "prepaid",
            "shipping_fee": "10.00",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-code": stocked_product.sku,
            "lines-0-quantity": "2",
        },
        follow=True,
    )
    order = Order.objects.get()
    assert response.redirect_chain == [(order.get_absolute_url(), 302)]
    assert order.status == S.AWAITING_PAYMENT
    assert order.total == 266

    response = console.post(
        reverse("billing:confirm", args=[order.number]),
        {"method": "alipay", "amount": "266.00", "reference": "ALI-1"},
        follow=True,
    )
    assert refreshed(order).status == S.READY_TO_FULFILL
    assert said(response) == ["Alipay payment of ¥266.00 recorded."]
    assert "Start picking" in response.content.decode()

    response = console.post(
        reverse("fulfillment:start", args=[order.number]), follow=True
    )
    assert refreshed(order).status == S.IN_FULFILLMENT
    assert said(response) == ["Picking started: 1 parcel(s)."]
    parcel = Shipment.objects.get(order=order)

    response = console.post(
        reverse("fulfillment:ship", args=[parcel.pk]),
        {"carrier": demo.pk, "tracking_number": "", "weight_kg": "0.8"},
        follow=True,
    )
    assert refreshed(order).status == S.SHIPPED
    parcel.refresh_from_db()
    assert parcel.tracking_number.startswith("DEMO")
    assert said(response) == [
        f"Parcel shipped with 演示快递, tracking number {parcel.tracking_number}."
    ]

    # The carrier's scan (another page) says it arrived.
    shipment_mark_delivered(shipment=parcel, actor="carrier:demo")
    assert refreshed(order).status == S.DELIVERED

    response = console.post(
        reverse("console:order_complete", args=[order.number]), follow=True
    )
    assert refreshed(order).status == S.COMPLETED
    assert said(response) == [f"Order {order.number} is now “Completed”."]
    moves = list(
        order.events.filter(kind=OrderEvent.Kind.STATUS).values_list(
            "to_status", flat=True
        )
    )
    assert moves == [
        S.AWAITING_PAYMENT,
        S.READY_TO_FULFILL,
        S.IN_FULFILLMENT,
        S.SHIPPED,
        S.DELIVERED,
        S.COMPLETED,
    ]
    assert order.events.filter(actor__username=f"user-{OWNER}").count() >= 5


def test_an_illegal_step_shows_the_domain_error_and_changes_nothing(
    console, place_order
):
    order = place_order()
    events = order.events.count()
    response = console.post(reverse("fulfillment:start", args=[order.number]))
    assert response["Location"] == order.get_absolute_url()
    assert said(response) == [
        f"Order {order.number} cannot go from “Awaiting payment” to “In fulfilment”."
    ]
    assert refreshed(order).status == S.AWAITING_PAYMENT
    assert order.events.count() == events
    assert not Shipment.objects.filter(order=order).exists()


def test_the_domain_error_is_shown_on_the_order_page(console, place_order):
    order = place_order()
    response = console.post(
        reverse("console:order_complete", args=[order.number]), follow=True
    )
    assert (
        f"Order {order.number} cannot be completed before its payment is settled."
        in response.content.decode()
    )


def test_correcting_the_address_lets_a_held_order_go_on(console, place_order):
    order = place_order(address={"province": "广东省", "city": "深圳市"})
    assert order.status == S.NEEDS_CORRECTION
    response = console.post(
        reverse("console:order_correct", args=[order.number]),
        {
            "recipient_name": "张三",
            "recipient_phone": "13800138000",
            "province": "广东省",
            "city": "深圳市",
            "district": "南山区",
            "address_detail": "科技园路1号",
            "postal_code": "518000",
        },
    )
    assert refreshed(order).status == S.AWAITING_PAYMENT
    assert order.district == "南山区"
    assert said(response) == [f"Order {order.number} is now “Awaiting payment”."]


def test_a_correction_without_a_recipient_is_refused_with_the_field_named(
    console, place_order
):
    order = place_order(address={"province": "广东省", "city": "深圳市"})
    response = console.post(
        reverse("console:order_correct", args=[order.number]),
        {"recipient_name": "", "recipient_phone": "13800138000"},
    )
    assert said(response) == ["Recipient: This field is required."]
    assert refreshed(order).status == S.NEEDS_CORRECTION


def test_checking_stock_again_moves_a_backorder_on_once_stock_arrived(
    console, place_order, stocked_product, warehouse
):
    order = place_order(quantity=12, payment_method="cod")
    assert order.status == S.BACKORDERED
    url = reverse("console:order_process", args=[order.number])

    response = console.post(url)
    assert said(response) == ["Still not enough stock; the order stays backordered."]
    assert refreshed(order).status == S.BACKORDERED

    stock_receive(product=stocked_product, warehouse=warehouse, quantity=5, actor="t")
    console.post(url)
    assert refreshed(order).status == S.READY_TO_FULFILL


def test_cancelling_with_a_reason_releases_the_stock(
    console, place_order, stocked_product
):
    order = place_order(payment_method="cod", quantity=3)
    response = console.post(
        reverse("console:order_cancel", args=[order.number]),
        {"reason": "客户来电取消"},
    )
    assert refreshed(order).status == S.CANCELLED
    assert said(response) == [f"Order {order.number} is now “Cancelled”."]
    assert order.events.filter(message="客户来电取消").exists()
    assert StockLevel.objects.get(product=stocked_product).reserved == 0


def test_cancelling_needs_a_reason(console, place_order):
    order = place_order()
    response = console.post(reverse("console:order_cancel", args=[order.number]))
    assert said(response) == ["Reason: This field is required."]
    assert refreshed(order).status == S.AWAITING_PAYMENT


def test_a_shipped_order_cannot_be_cancelled(console, place_order):
    order = place_order()
    Order.objects.filter(pk=order.pk).update(status=S.SHIPPED)
    response = console.post(
        reverse("console:order_cancel", args=[order.number]), {"reason": "太晚了"}
    )
    assert said(response) == [
        f"Order {order.number} cannot go from “Shipped” to “Cancelled”."
    ]
    assert refreshed(order).status == S.SHIPPED


def test_a_note_is_added_to_the_timeline(console, place_order):
    order = place_order()
    console.post(
        reverse("console:order_note", args=[order.number]),
        {"text": "客户要求周末送货"},
    )
    note = order.events.get(kind=OrderEvent.Kind.NOTE)
    assert note.message == "客户要求周末送货"
    assert note.actor.username == f"user-{OWNER}"


def test_actions_refuse_get(console, place_order):
    order = place_order()
    url = reverse("console:order_note", args=[order.number])
    assert console.get(url).status_code == 405


def test_an_action_without_its_permission_is_403_and_changes_nothing(
    client, member, place_order
):
    order = place_order()
    client.force_login(member(WAREHOUSE))
    response = client.post(
        reverse("console:order_cancel", args=[order.number]), {"reason": "x"}
    )
    assert response.status_code == 403
    assert refreshed(order).status == S.AWAITING_PAYMENT


def test_customer_service_may_not_complete_orders(client, member, place_order):
    order = place_order()
    client.force_login(member(CUSTOMER_SERVICE))
    url = reverse("console:order_complete", args=[order.number])
    assert client.post(url).status_code == 403


def test_posting_without_a_csrf_token_is_refused(member, place_order):
    order = place_order()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member(OWNER))
    response = browser.post(
        reverse("console:order_note", args=[order.number]), {"text": "hello"}
    )
    assert response.status_code == 403
    assert not order.events.filter(kind=OrderEvent.Kind.NOTE).exists()
