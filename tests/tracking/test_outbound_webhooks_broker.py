"""Outbound webhooks through a real Celery worker on a real Redis broker."""

import time

import pytest

from tests.tracking.test_outbound_webhooks import Receiver
from tests.tracking.test_worker_redis import REDIS_URL, redis_worker  # noqa: F401
from tracking import outbound_webhooks as hooks
from tracking.webhook_models import WebhookDelivery, WebhookEvent

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        not REDIS_URL,
        reason="REDIS_URL is not set: the real-broker test needs a Redis server",
    ),
]


def test_a_worker_on_redis_delivers_each_event_once_after_a_retry(
    redis_worker,  # noqa: F811
    loopback_server,
    place_order,
    staff_user,
    settings,
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1  # the worker re-queues the retry itself
    receiver = Receiver()
    endpoint = hooks.webhook_endpoint_create(
        url=loopback_server(receiver.handler()),
        event_types=[WebhookEvent.ORDER_CREATED, WebhookEvent.ORDER_ALLOCATED],
        actor=staff_user,
    )
    receiver.secret = endpoint.secret
    receiver.answers = [(503, 0)]
    orders = [place_order(payment_method="cod") for _ in range(3)]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = set(WebhookDelivery.objects.values_list("status", flat=True))
        if states == {WebhookDelivery.Status.DELIVERED}:
            break
        time.sleep(0.2)
    rows = list(WebhookDelivery.objects.values_list("event_type", "status", "attempts"))
    assert len(rows) == 6 and {r[1] for r in rows} == {"delivered"}, rows
    assert sorted(r[2] for r in rows) == [1, 1, 1, 1, 1, 2]  # one retried once
    ids = [r["headers"]["X-Event-Id"] for r in receiver.requests]
    assert len(ids) == 7 and len(set(ids)) == 6  # the retry repeats its event id
    assert all(r["valid"] for r in receiver.requests)
    assert {e["data"]["order"]["number"] for e in receiver.events()} == {
        o.number for o in orders
    }
    assert redis_worker  # the tasks ran in the worker thread
