import json
import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from orders.models import Channel, Order
from orders.services import channel_token_issue
from orders.signing import signature_header
from tests.factories.orders import ChannelFactory

PAYLOAD = {
    "external_id": "WEB-10001",
    "customer": {"name": "张三", "phone": "13800138000", "email": "zs@example.com"},
    "shipping_address": {
        "province": "广东省",
        "city": "深圳市",
        "district": "南山区",
        "detail": "科技园路1号",
        "postal_code": "518000",
    },
    "lines": [{"sku": "TEA-001", "quantity": 2}],
    "payment_method": "cod",
}


@pytest.fixture
def api(channel, stocked_product):
    stocked_product.sku = "TEA-001"
    stocked_product.save()
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {channel_token_issue(channel=channel)}"
    )
    return client


def post(client, payload, **extra):
    return client.post("/api/v1/orders/", payload, format="json", **extra)


def test_a_new_order_answers_201_with_number_status_and_status_page(api):
    response = post(api, PAYLOAD)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "ready_to_fulfill"
    assert body["payment_status"] == "cod_pending"
    assert body["total"] == "256.00"
    assert body["lines"][0]["sku"] == "TEA-001"
    assert body["status_url"].endswith(f"/track/?number={body['number']}")


def test_replaying_the_same_order_answers_200_with_the_same_order(api):
    first = post(api, PAYLOAD).json()
    reordered = json.loads(json.dumps(PAYLOAD))  # same content, separate object
    again = post(api, reordered)
    assert again.status_code == 200
    assert again.json()["number"] == first["number"]
    assert Order.objects.count() == 1


def test_the_same_external_id_with_other_content_answers_409_and_changes_nothing(api):
    post(api, PAYLOAD)
    changed = {**PAYLOAD, "lines": [{"sku": "TEA-001", "quantity": 3}]}
    response = post(api, changed)
    assert response.status_code == 409
    assert Order.objects.get().lines.get().quantity == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines"),
        ({"lines": [{"sku": "TEA-001", "quantity": 0}]}, "lines"),
        ({"lines": [{"sku": "TEA-001", "quantity": 1.5}]}, "lines"),
        ({"payment_method": "bitcoin"}, "payment_method"),
        ({"customer": {"name": ""}}, "customer"),
    ],
)
def test_malformed_orders_answer_400_naming_the_field_and_store_nothing(
    api, change, field
):
    response = post(api, {**PAYLOAD, **change})
    assert response.status_code == 400
    assert field in response.json()
    assert not Order.objects.exists()


def test_an_unknown_sku_is_reported_on_its_line_in_the_callers_language(api):
    payload = {
        **PAYLOAD,
        "lines": [{"sku": "TEA-001", "quantity": 1}, {"sku": "X-9", "quantity": 1}],
    }
    english = post(api, payload, HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["lines"][1]["sku"] == ["Unknown SKU: X-9"]
    assert english["lines"][0] == {}
    chinese = post(api, payload, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert chinese["lines"][1]["sku"][0] != "Unknown SKU: X-9"


def test_bad_json_answers_400(api):
    response = api.post("/api/v1/orders/", "{not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("header", [None, "Token wrong-key", "Bearer abc"])
def test_no_key_or_a_wrong_key_answers_401(channel, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    assert post(client, PAYLOAD).status_code == 401


def test_a_channel_sees_only_its_own_orders(api, channel):
    number = post(api, PAYLOAD).json()["number"]
    assert api.get(f"/api/v1/orders/{number}/").status_code == 200
    other = ChannelFactory(code="app", name="App", kind=Channel.Kind.APP)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {channel_token_issue(channel=other)}")
    assert client.get(f"/api/v1/orders/{number}/").status_code == 404
    assert client.post(f"/api/v1/orders/{number}/cancel/").status_code == 404


def test_a_channel_cancels_its_order_before_it_ships(api):
    number = post(api, PAYLOAD).json()["number"]
    response = api.post(
        f"/api/v1/orders/{number}/cancel/", {"reason": "buyer changed mind"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_a_full_one_line_address_is_split_into_parts(api):
    payload = {**PAYLOAD, "shipping_address": {"full": "广东省深圳市南山区科技园路1号"}}
    number = post(api, payload).json()["number"]
    order = Order.objects.get(number=number)
    assert (order.province, order.city, order.district) == (
        "广东省",
        "深圳市",
        "南山区",
    )
    assert order.address_detail == "科技园路1号"


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_order(channel, stocked_product):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for truly concurrent writers")
    stocked_product.sku = "TEA-001"
    stocked_product.save()
    key = channel_token_issue(channel=channel)
    codes = []

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        codes.append(post(client, PAYLOAD).status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] * 7 + [201]
    assert Order.objects.filter(external_id="WEB-10001").count() == 1


class TestSignedPush:
    url = "/webhooks/channels/web/"

    @pytest.fixture(autouse=True)
    def secret(self, channel, stocked_product):
        stocked_product.sku = "TEA-001"
        stocked_product.save()
        channel.webhook_secret = "s3cret"
        channel.save()

    def push(self, body: bytes, header: str):
        return APIClient().post(
            self.url, body, content_type="application/json", HTTP_X_SIGNATURE=header
        )

    def test_a_correctly_signed_push_creates_the_order(self):
        body = json.dumps(PAYLOAD).encode()
        response = self.push(body, signature_header(secret="s3cret", body=body))
        assert response.status_code == 201

    def test_a_rotated_key_is_accepted_when_one_of_several_signatures_matches(self):
        body = json.dumps(PAYLOAD).encode()
        good = signature_header(secret="s3cret", body=body)
        t = good.split(",")[0]
        header = f"{t},v1={'0' * 64},{good.split(',')[1]}"
        assert self.push(body, header).status_code == 201

    def test_a_bad_signature_is_refused(self):
        body = json.dumps(PAYLOAD).encode()
        response = self.push(body, signature_header(secret="wrong", body=body))
        assert response.status_code == 401
        assert not Order.objects.exists()

    def test_a_stale_timestamp_is_refused(self):
        body = json.dumps(PAYLOAD).encode()
        old = int(time.time()) - 600
        response = self.push(
            body, signature_header(secret="s3cret", body=body, timestamp=old)
        )
        assert response.status_code == 401

    def test_a_replayed_push_is_refused(self):
        body = json.dumps(PAYLOAD).encode()
        header = signature_header(secret="s3cret", body=body)
        assert self.push(body, header).status_code == 201
        assert self.push(body, header).status_code == 401
        assert Order.objects.count() == 1
