"""Outbound webhooks: a real HTTP receiver on 127.0.0.1 checks each signature as other systems would."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from unittest import mock

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from billing.services import payment_confirm
from orders.api.serializers import OrderOut
from orders.roles import CUSTOMER_SERVICE, OWNER
from orders.services import order_cancel
from orders.signing import SignatureError, signature_verify
from tracking import outbound_webhooks as hooks
from tracking import tasks
from tracking.adapters.webhook_http import url_refusal
from tracking.webhook_models import WebhookDelivery, WebhookEndpoint, WebhookEvent

D = WebhookDelivery.Status
E = WebhookEvent


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


class Receiver:
    """What a receiving system saw: every request, with whether its signature held."""

    def __init__(self):
        self.secret = ""
        self.requests = []
        self.answers = []  # (status, delay seconds) for the next requests; then 200
        self.lock = threading.Lock()

    def handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    signature_verify(
                        header=self.headers["X-Signature"],
                        body=body,
                        secret=receiver.secret,
                        tolerance=settings.WEBHOOK_TOLERANCE_SECONDS,
                    )
                    valid = True
                except SignatureError:
                    valid = False
                with receiver.lock:
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "valid": valid}
                    )
                    status, delay = (
                        receiver.answers.pop(0) if receiver.answers else (200, 0)
                    )
                time.sleep(delay)
                answer = b'{"ok": true}' if status < 300 else b"upstream broke"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        return Handler

    def events(self):
        return [json.loads(r["body"]) for r in self.requests]

    def types(self):
        return [event["type"] for event in self.events()]


@pytest.fixture
def receiver(loopback_server):
    receiver = Receiver()
    receiver.url = loopback_server(receiver.handler()) + "/hooks"
    return receiver


@pytest.fixture
def subscribe(receiver, staff_user):
    """Return a function that registers the receiver for some events."""

    def make(*event_types, url=None):
        endpoint = hooks.webhook_endpoint_create(
            url=url or receiver.url, event_types=event_types, actor=staff_user
        )
        receiver.secret = endpoint.secret
        return endpoint

    return make


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block's after-commit work (the tasks run in the test process)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_order_events_reach_the_endpoints_subscribed_to_them_only(
    receiver, subscribe, loopback_server, place_order, ship, committed
):
    subscribe(E.ORDER_CREATED, E.ORDER_PAID, E.ORDER_SHIPPED, E.ORDER_CANCELLED)
    other = Receiver()
    hooks.webhook_endpoint_create(
        url=loopback_server(other.handler()),
        event_types=[E.ORDER_DELIVERED],
        actor=None,
    )
    with committed():
        order = place_order()
        payment_confirm(order=order, method="bank", amount=order.total, actor="test")
        ship(order)
        cancelled = place_order()
        order_cancel(order=cancelled, actor="test", reason="customer asked")

    assert receiver.types() == [
        "order.created",
        "order.paid",
        "order.shipped",
        "order.created",
        "order.cancelled",
    ]
    assert all(r["valid"] for r in receiver.requests)
    assert other.requests == []
    shipped = receiver.events()[2]
    order.refresh_from_db()
    with translation.override(settings.LANGUAGE_CODE):  # the shop's, as the API's
        assert shipped["data"]["order"] == json.loads(json.dumps(OrderOut(order).data))
    assert shipped["data"]["order"]["status"] == "shipped"
    assert shipped["data"]["change"]["to_status"] == "shipped"
    headers = receiver.requests[2]["headers"]
    assert headers["X-Event-Type"] == "order.shipped"
    assert headers["X-Event-Id"] == shipped["id"]
    assert headers["User-Agent"].startswith("ShopOMS-Webhooks/")
    assert set(
        WebhookDelivery.objects.values_list("status", "attempts").distinct()
    ) == {(D.DELIVERED, 1)}


def test_stock_allocation_and_needs_correction_are_events_too(
    receiver, subscribe, place_order, committed
):
    subscribe(E.ORDER_ALLOCATED, E.ORDER_NEEDS_CORRECTION)
    with committed():
        place_order(payment_method="cod")
        place_order(phone="12345")

    assert receiver.types() == ["order.allocated", "order.needs_correction"]


def test_orders_taken_in_bulk_are_announced_like_single_ones(
    receiver, subscribe, channel, stocked_product, committed
):
    from orders.bulk import BulkItem, orders_create_bulk
    from orders.services import LineInput, OrderInput

    subscribe(E.ORDER_CREATED, E.ORDER_ALLOCATED)
    items = [
        BulkItem(
            data=OrderInput(
                channel=channel,
                customer_name="李四",
                customer_phone=f"1390000000{n}",
                lines=[LineInput(stocked_product, 1)],
                payment_method="cod",
                address={
                    "province": "广东省",
                    "city": "深圳市",
                    "district": "南山区",
                    "address_detail": "科技园路1号",
                },
                external_id=f"BULK-{n}",
            )
        )
        for n in range(3)
    ]
    with committed():
        result = orders_create_bulk(items=items, actor="test")

    numbers = [order.number for order in result.orders]
    assert sorted(receiver.types()) == ["order.allocated"] * 3 + ["order.created"] * 3
    assert sorted(
        e["data"]["order"]["number"]
        for e in receiver.events()
        if e["type"] == "order.created"
    ) == sorted(numbers)
    assert all(r["valid"] for r in receiver.requests)


def test_carrier_scans_send_the_exception_and_the_delivery(
    receiver, subscribe, place_order, ship, committed
):
    from tracking.models import TrackingStatus
    from tracking.services import tracking_event_record

    subscribe(E.ORDER_EXCEPTION, E.ORDER_DELIVERED)
    order = place_order(payment_method="cod")
    [parcel] = ship(order)
    with committed():
        for status, text in [
            (TrackingStatus.FAILED_ATTEMPT, "派送未成功"),
            (TrackingStatus.DELIVERED, "已签收"),
        ]:
            tracking_event_record(
                shipment=parcel, status=status, description=text, actor="carrier:sf"
            )

    assert receiver.types() == ["order.exception", "order.delivered"]
    exception, delivered = receiver.events()
    assert exception["data"]["order"]["shipments"][0]["tracking_status"] == (
        "failed_attempt"
    )
    assert delivered["data"]["order"]["status"] == "delivered"


def test_the_signature_holds_for_the_body_sent_and_fails_when_tampered_or_stale(
    receiver, subscribe, place_order, committed
):
    endpoint = subscribe(E.ORDER_CREATED)
    with committed():
        place_order()
    [request] = receiver.requests
    header, body = request["headers"]["X-Signature"], request["body"]

    check = dict(header=header, secret=endpoint.secret, tolerance=300)
    assert signature_verify(body=body, **check)
    with pytest.raises(SignatureError, match="The signature does not match."):
        signature_verify(body=body.replace(b"order.created", b"order.paid"), **check)
    with pytest.raises(SignatureError, match="too old or in the future"):
        signature_verify(body=body, now=time.time() + 301, **check)


def test_a_server_error_is_retried_and_the_event_delivered_once(
    receiver, subscribe, place_order, committed
):
    subscribe(E.ORDER_CREATED)
    receiver.answers = [(500, 0)]
    with committed():
        place_order()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == D.FAILED
    assert (delivery.response_status, delivery.response_body) == (
        500,
        "upstream broke",
    )
    assert delivery.last_error == "HTTP 500"
    assert 15 <= (delivery.next_attempt_at - timezone.now()).total_seconds() <= 31

    later = delivery.next_attempt_at
    assert hooks.webhook_delivery_send(delivery_id=delivery.pk, now=later).status == (
        D.DELIVERED
    )
    assert hooks.webhook_delivery_send(delivery_id=delivery.pk, now=later) is None

    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_status) == (2, 200)
    assert len(receiver.requests) == 2
    first, second = receiver.events()
    assert first == second  # same event id and payload on every attempt


def test_a_receiver_that_times_out_is_retried(
    receiver, subscribe, place_order, committed, settings
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    subscribe(E.ORDER_CREATED)
    receiver.answers = [(200, 1.0)]
    with committed():
        place_order()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == D.FAILED
    assert "Timeout" in delivery.last_error
    assert delivery.response_status is None

    hooks.webhook_delivery_send(delivery_id=delivery.pk, now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.status == D.DELIVERED


def test_a_delivery_is_given_up_a_day_after_the_event(
    receiver, subscribe, place_order, committed
):
    subscribe(E.ORDER_CREATED)
    receiver.answers = [(503, 0)] * 100
    with committed():
        place_order()
    delivery = WebhookDelivery.objects.get()
    waits = []
    while delivery.status == D.FAILED:
        at = delivery.next_attempt_at
        hooks.webhook_delivery_send(delivery_id=delivery.pk, now=at)
        delivery.refresh_from_db()
        waits.append((delivery.next_attempt_at - at).total_seconds())

    assert delivery.status == D.GIVEN_UP
    assert delivery.last_error == "HTTP 503"
    deadline = delivery.created_at + timedelta(hours=24)
    assert delivery.next_attempt_at == deadline  # the last try was at the deadline
    assert waits[0] < waits[3] < waits[6]  # backing off
    assert max(waits) <= settings.WEBHOOK_RETRY_MAX_SECONDS
    assert len(receiver.requests) == delivery.attempts
    assert 25 <= delivery.attempts <= 60  # hourly at most, after the first hour
    assert hooks.webhook_deliveries_due(now=deadline + timedelta(days=1)) == []


def test_the_beat_flush_sends_what_the_broker_never_delivered(
    receiver, subscribe, place_order, committed
):
    subscribe(E.ORDER_CREATED)
    with (
        mock.patch.object(
            tasks.webhook_deliver, "delay", side_effect=ConnectionError("down")
        ),
        committed(),
    ):
        order = place_order()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, receiver.requests) == (D.PENDING, [])
    assert tasks.webhooks_flush() == 0  # the task may still be on its way

    WebhookDelivery.objects.update(
        next_attempt_at=timezone.now() - timedelta(minutes=1)
    )
    assert tasks.webhooks_flush() == 1
    assert receiver.events()[0]["data"]["order"]["number"] == order.number
    assert tasks.webhooks_flush() == 0


def test_a_send_whose_worker_died_is_sent_again_when_its_lease_runs_out(
    receiver, subscribe, place_order
):
    subscribe(E.ORDER_CREATED)
    place_order()  # no commit in this test: nothing is sent by itself
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()
    claimed = hooks._delivery_claim(delivery_id=delivery.pk, now=now)
    assert claimed.status == D.SENDING  # … and the worker is killed here

    assert hooks.webhook_delivery_send(delivery_id=delivery.pk, now=now) is None
    later = claimed.sending_until
    assert hooks.webhook_deliveries_due(now=later) == [delivery.pk]
    assert hooks.webhook_delivery_send(delivery_id=delivery.pk, now=later).status == (
        D.DELIVERED
    )
    assert len(receiver.requests) == 1


def test_a_replay_sends_the_same_event_id_again(
    receiver, subscribe, place_order, committed
):
    subscribe(E.ORDER_CREATED)
    with committed():
        place_order()
    original = WebhookDelivery.objects.get()
    with committed():
        replay = hooks.webhook_delivery_replay(delivery=original)

    replay.refresh_from_db()
    assert (replay.status, replay.replay_of, replay.attempts) == (
        D.DELIVERED,
        original,
        1,
    )
    first, second = receiver.requests
    assert first["headers"]["X-Event-Id"] == second["headers"]["X-Event-Id"]
    assert first["body"] == second["body"]
    assert second["valid"]


def test_a_rolled_back_change_sends_nothing(
    receiver, subscribe, place_order, committed
):
    subscribe(E.ORDER_CREATED, E.ORDER_ALLOCATED)
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        place_order(payment_method="cod")
        raise RuntimeError("the intake failed after the order was made")

    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


def test_no_subscriber_means_no_delivery(place_order, subscribe):
    subscribe(E.STOCK_LOW)
    place_order()
    assert WebhookDelivery.objects.count() == 0


def test_a_rotated_secret_signs_beside_the_old_one_for_a_while(
    receiver, subscribe, place_order, committed
):
    endpoint = subscribe(E.ORDER_CREATED)
    old = endpoint.secret
    new = hooks.webhook_endpoint_secret_rotate(endpoint=endpoint)
    receiver.secret = old  # a receiver not yet switched over
    with committed():
        place_order()
    [request] = receiver.requests
    assert request["valid"]
    assert request["headers"]["X-Signature"].count("v1=") == 2
    assert signature_verify(
        header=request["headers"]["X-Signature"],
        body=request["body"],
        secret=new,
        tolerance=300,
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
    ],
)
def test_endpoints_in_private_networks_are_refused(url, settings, staff_user):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError) as refused:
        hooks.webhook_endpoint_create(
            url=url, event_types=[E.ORDER_CREATED], actor=staff_user
        )
    assert refused.value.message_dict["url"] == [
        "The URL points into a private or local network; webhooks go only to "
        "public addresses."
    ]


def test_only_http_urls_are_accepted(staff_user):
    with pytest.raises(ValidationError) as refused:
        hooks.webhook_endpoint_create(
            url="file:///etc/passwd", event_types=[], actor=staff_user
        )
    assert refused.value.message_dict["url"] == [
        "Only http:// and https:// URLs can receive webhooks."
    ]
    assert url_refusal("gopher://example.com/", allow_private=True)
    assert url_refusal("https://93.184.216.34/hook", allow_private=False) == ""


def test_a_name_that_resolves_into_the_private_network_is_given_up_when_sent(
    receiver, subscribe, place_order, committed, settings
):
    endpoint = subscribe(E.ORDER_CREATED)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        url=receiver.url.replace("127.0.0.1", "internal.example")
    )
    with (
        mock.patch(
            "socket.getaddrinfo",
            return_value=[(2, 1, 6, "", ("10.0.0.5", 80))],
        ),
        committed(),
    ):
        place_order()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == D.GIVEN_UP
    assert delivery.last_error.startswith("The URL points into a private")
    assert receiver.requests == []


def test_a_refund_paid_is_an_event(receiver, subscribe, place_order, committed):
    from billing.services import refund_approve, refund_mark_paid

    subscribe(E.ORDER_REFUNDED)
    order = place_order()
    payment_confirm(order=order, method="bank", amount=order.total, actor="test")
    order_cancel(order=order, actor="test", reason="changed mind")
    refund = order.refunds.get()
    with committed():
        refund_approve(refund=refund, actor="test")
        refund_mark_paid(refund=refund, reference="BANK-1", actor="test")

    assert receiver.types() == ["order.refunded"]
    change = receiver.events()[0]["data"]["change"]
    assert change["message"] == f"Refund of ¥{refund.amount} paid, reference BANK-1"


# --- Console ------------------------------------------------------------------


@pytest.fixture
def owner_client(client, member):
    client.force_login(member(OWNER))
    return client


def test_the_owner_adds_an_endpoint_and_sees_its_secret_once(owner_client, receiver):
    answer = owner_client.post(
        reverse("tracking:webhook_endpoint_new"),
        {
            "url": receiver.url,
            "description": "Accounting",
            "event_types": ["order.paid", "order.refunded"],
            "active": "on",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    endpoint = WebhookEndpoint.objects.get()
    assert answer.url == reverse("tracking:webhook_endpoint", args=[endpoint.pk])
    assert endpoint.event_types == ["order.paid", "order.refunded"]

    page = owner_client.get(answer.url, HTTP_ACCEPT_LANGUAGE="en")
    assert endpoint.secret in page.content.decode()
    assert "it is not shown again" in page.content.decode()
    again = owner_client.get(answer.url, HTTP_ACCEPT_LANGUAGE="en")
    assert endpoint.secret not in again.content.decode()

    owner_client.post(reverse("tracking:webhook_endpoint_rotate", args=[endpoint.pk]))
    old = endpoint.secret
    endpoint.refresh_from_db()
    page = owner_client.get(answer.url, HTTP_ACCEPT_LANGUAGE="en")
    assert endpoint.secret != old and endpoint.secret in page.content.decode()


def test_the_console_refuses_a_private_url_with_the_reason(owner_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    answer = owner_client.post(
        reverse("tracking:webhook_endpoint_new"),
        {"url": "http://192.168.0.10/hook", "event_types": ["order.paid"]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert "points into a private or local network" in answer.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_a_test_event_and_a_replay_from_the_console_show_their_answers(
    owner_client, receiver, subscribe, committed
):
    endpoint = subscribe(E.ORDER_PAID)
    receiver.answers = [(500, 0)]
    with committed():
        owner_client.post(reverse("tracking:webhook_endpoint_test", args=[endpoint.pk]))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event_type, delivery.status) == ("webhook.test", D.FAILED)

    page = owner_client.get(
        reverse("tracking:webhook_endpoint", args=[endpoint.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "HTTP 500" in page and "upstream broke" in page and "Replay" in page

    with committed():
        owner_client.post(
            reverse("tracking:webhook_delivery_replay", args=[delivery.pk])
        )
    replay = WebhookDelivery.objects.get(replay_of=delivery)
    assert replay.status == D.DELIVERED
    assert [r["headers"]["X-Event-Id"] for r in receiver.requests] == [
        str(delivery.event_id)
    ] * 2
    listing = owner_client.get(
        reverse("tracking:webhook_endpoints"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert endpoint.url in listing


def test_customer_service_cannot_manage_webhooks(client, member, subscribe):
    endpoint = subscribe(E.ORDER_PAID)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="order.paid",
        event_id="00000000-0000-0000-0000-000000000001",
        payload={},
    )
    client.force_login(member(CUSTOMER_SERVICE))
    pk = endpoint.pk
    for name, args, method in [
        ("webhook_endpoints", [], "get"),
        ("webhook_endpoint_new", [], "post"),
        ("webhook_endpoint", [pk], "get"),
        ("webhook_endpoint", [pk], "post"),
        ("webhook_endpoint_rotate", [pk], "post"),
        ("webhook_endpoint_test", [pk], "post"),
        ("webhook_endpoint_replay_given_up", [pk], "post"),
        ("webhook_delivery_replay", [delivery.pk], "post"),
    ]:
        answer = getattr(client, method)(reverse(f"tracking:{name}", args=args))
        assert answer.status_code == 403, name
    assert (
        "Webhooks"
        not in client.get(
            reverse("console:dashboard"), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
    )


def test_console_forms_need_the_csrf_token(member, subscribe):
    from django.test import Client

    endpoint = subscribe(E.ORDER_PAID)
    client = Client(enforce_csrf_checks=True)
    client.force_login(member(OWNER))
    for name in (
        "webhook_endpoint_rotate",
        "webhook_endpoint_test",
        "webhook_endpoint_replay_given_up",
    ):
        answer = client.post(reverse(f"tracking:{name}", args=[endpoint.pk]))
        assert answer.status_code == 403
    assert WebhookDelivery.objects.count() == 0


def test_stock_falling_to_its_reorder_point_is_announced_once_per_fall(
    receiver, subscribe, place_order, stocked_product, warehouse, committed
):
    from inventory.models import StockLevel
    from inventory.services import stock_low_alerts_record, stock_receive
    from inventory.tasks import stock_low_check

    subscribe(E.STOCK_LOW)
    StockLevel.objects.update(reorder_point=5)
    with committed():
        place_order(quantity=4, payment_method="cod")
        assert stock_low_check() == 0  # 6 available, above 5
        place_order(quantity=2, payment_method="cod")
        assert stock_low_check() == 1
        assert stock_low_check() == 0  # still low: told already

    [event] = receiver.events()
    assert event["type"] == "stock.low"
    assert event["data"]["stock_level"] | {"units_per_day": "-"} == {
        "sku": stocked_product.sku,
        "product": stocked_product.name,
        "warehouse": warehouse.code,
        "warehouse_name": warehouse.name,
        "on_hand": 10,
        "reserved": 6,
        "available": 4,
        "owed_to_backorders": 0,
        "reorder_point": 5,
        "units_per_day": "-",
        "suggested_quantity": event["data"]["stock_level"]["suggested_quantity"],
    }

    stock_receive(product=stocked_product, warehouse=warehouse, quantity=5, actor="t")
    assert stock_low_alerts_record() == []  # above again: unmarked
    assert StockLevel.objects.get().low_since is None
    with committed():
        place_order(quantity=5, payment_method="cod")
        assert len(stock_low_alerts_record()) == 1
    assert receiver.types() == ["stock.low", "stock.low"]


def test_every_given_up_event_is_sent_again_once_by_one_press(
    owner_client, receiver, subscribe, place_order, committed, settings
):
    settings.WEBHOOK_RETRY_HOURS = 0  # the first failure is the last
    endpoint = subscribe(E.ORDER_CREATED)
    receiver.answers = [(502, 0), (502, 0)]
    with committed():
        place_order()
        place_order()
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {D.GIVEN_UP}
    page = owner_client.get(
        reverse("tracking:webhook_endpoint", args=[endpoint.pk]) + "?status=given_up",
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "2 events were given up" in page

    replay_all = reverse(
        "tracking:webhook_endpoint_replay_given_up", args=[endpoint.pk]
    )
    with committed():
        owner_client.post(replay_all)
        owner_client.post(replay_all)  # a second press finds nothing left

    assert WebhookDelivery.objects.filter(status=D.DELIVERED).count() == 2
    assert WebhookDelivery.objects.count() == 4
    assert len(receiver.requests) == 4
    assert len({r["headers"]["X-Event-Id"] for r in receiver.requests}) == 2
