"""POST /api/v1/orders/batch/: many orders in one request, each taken exactly once."""

import copy
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from inventory.models import StockLevel
from orders.models import Order
from orders.services import channel_token_issue
from tests.orders.test_api import PAYLOAD, post
from tracking.models import Notification

URL = "/api/v1/orders/batch/"


@pytest.fixture
def api(channel, stocked_product):
    stocked_product.sku = "TEA-001"
    stocked_product.save()
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {channel_token_issue(channel=channel)}"
    )
    return client


def order(external_id, **changes):
    payload = copy.deepcopy(PAYLOAD)
    payload["external_id"] = external_id
    payload.update(changes)
    return payload


def send(client, orders):
    return client.post(URL, {"orders": orders}, format="json")


def test_a_batch_creates_each_order_reserves_stock_and_tells_each_customer(
    api, stocked_product
):
    response = send(api, [order("B-1"), order("B-2"), order("B-3")])

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["result"] for r in results] == ["created"] * 3
    assert {r["status"] for r in results} == {"ready_to_fulfill"}
    assert results[0]["total"] == "256.00"
    assert Order.objects.count() == 3
    assert StockLevel.objects.get(product=stocked_product).reserved == 6
    received = Notification.objects.filter(template="order_received")
    assert received.values("order").distinct().count() == 3


def test_an_order_sent_alone_and_again_in_a_batch_is_a_replay(api):
    alone = post(api, order("B-1")).json()

    results = send(api, [order("B-1"), order("B-2")]).json()["results"]

    assert [r["result"] for r in results] == ["replayed", "created"]
    assert results[0]["number"] == alone["number"]
    assert Order.objects.count() == 2


def test_other_content_under_a_known_id_is_a_conflict_and_changes_nothing(api):
    send(api, [order("B-1")])
    changed = order("B-1", buyer_note="请周末送")

    results = send(api, [changed]).json()["results"]

    assert results[0]["result"] == "conflict"
    assert Order.objects.get().buyer_note == ""


def test_the_same_order_twice_in_one_batch_is_created_once(api):
    results = send(api, [order("B-1"), order("B-1")]).json()["results"]

    assert [r["result"] for r in results] == ["created", "replayed"]
    assert Order.objects.count() == 1


def test_an_invalid_order_is_reported_by_index_and_the_others_land(api):
    bad = order("B-2", lines=[{"sku": "NOPE", "quantity": 1}])
    results = send(api, [order("B-1"), bad, order("B-3")]).json()["results"]

    assert [r["result"] for r in results] == ["created", "invalid", "created"]
    assert results[1]["index"] == 1
    assert "sku" in str(results[1]["errors"]["lines"])
    assert set(Order.objects.values_list("external_id", flat=True)) == {"B-1", "B-3"}


def test_too_many_orders_or_no_list_answers_400(api, settings):
    settings.API_BATCH_MAX_ORDERS = 2
    assert send(api, [order("B-1"), order("B-2"), order("B-3")]).status_code == 400
    assert api.post(URL, {"orders": "x"}, format="json").status_code == 400
    assert Order.objects.count() == 0


def test_a_batch_without_a_key_answers_401(channel):
    assert (
        APIClient().post(URL, {"orders": [PAYLOAD]}, format="json").status_code == 401
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_with_the_same_orders_create_each_once(
    channel, stocked_product
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for truly concurrent writers")
    stocked_product.sku = "TEA-001"
    stocked_product.save()
    key = channel_token_issue(channel=channel)
    outcomes = []

    def send_batch():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        results = send(client, [order(f"B-{n}") for n in range(5)]).json()["results"]
        outcomes.extend(r["result"] for r in results)
        connection.close()

    threads = [threading.Thread(target=send_batch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] * 5 + ["replayed"] * 15
    assert Order.objects.count() == 5


def test_a_used_up_coupon_refuses_only_its_own_order(api):
    from tests.factories.pricing import CouponFactory

    coupon = CouponFactory(code="ONCE", usage_limit=1)
    orders = [
        order("B-1", coupon_code="ONCE"),
        order("B-2", coupon_code="ONCE"),
        order("B-3"),
    ]

    results = send(api, orders).json()["results"]

    assert [r["result"] for r in results] == ["created", "refused", "created"]
    assert "ONCE" in results[1]["detail"]
    coupon.refresh_from_db()
    assert coupon.times_used == 1
