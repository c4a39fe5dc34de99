"""A real Celery worker on a real Redis broker sends the stored notifications."""

import os
import threading
import time
from collections import Counter

import pytest
from celery import signals
from celery.contrib.testing.worker import start_worker
from django.db import connection, connections

from orders.models import Order
from tracking.models import Notification

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        not REDIS_URL,
        reason="REDIS_URL is not set: the real-broker test needs a Redis server",
    ),
]


@pytest.fixture
def redis_worker(transactional_db, celery_broker):
    """Run a worker thread on the Redis broker; return the names of the threads tasks ran in.

    The worker thread opens its own database connections, so the data it reads must
    be committed (``transactional_db``).
    """
    if connection.vendor == "sqlite":
        # The in-memory test database reaches other threads only through SQLite's
        # shared cache, whose table locks fail the worker's writes ("database table
        # is locked") while the test writes or polls; the tasks then only pass after
        # retries with backoff.
        pytest.skip(
            "the worker thread cannot share the in-memory SQLite test database "
            "reliably; run with DATABASE_URL on PostgreSQL (as .ci/run does)"
        )
    app = celery_broker(REDIS_URL)
    with app.connection_for_write() as conn:
        for queue in app.amqp.queues:  # what an earlier run may have left
            conn.default_channel.queue_purge(queue)
    ran_in = []

    def after_task(**kwargs):
        ran_in.append(threading.current_thread().name)
        # Left open, the worker thread's connections would keep PostgreSQL from
        # dropping the test database at the end of the run.
        connections.close_all()

    signals.task_postrun.connect(after_task, weak=False)
    try:
        with start_worker(app, perform_ping_check=False, pool="solo"):
            yield ran_in
    finally:
        signals.task_postrun.disconnect(after_task)


def wait_until_sent(order, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        statuses = set(
            Notification.objects.filter(order=order).values_list("status", flat=True)
        )
        if statuses == {Notification.Status.SENT}:
            return
        time.sleep(0.2)
    rows = Notification.objects.filter(order=order).values_list(
        "template", "channel", "status", "attempts", "last_error"
    )
    pytest.fail(f"notifications still not sent after {seconds:.0f} s: {list(rows)}")


def test_a_worker_on_redis_sends_the_messages_when_an_order_ships(
    redis_worker, place_order, ship, sms_outbox, mailoutbox
):
    order = place_order(payment_method="cod")
    [parcel] = ship(order)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED

    wait_until_sent(order)

    sent = Notification.objects.filter(order=order)
    assert sorted(sent.values_list("template", "channel")) == [
        ("order_received", "email"),
        ("order_received", "sms"),
        ("shipped", "email"),
        ("shipped", "sms"),
    ]
    sms_by_reference = Counter(m["reference"] for m in sms_outbox)
    expected = {f"n{n.pk}": 1 for n in sent.filter(channel="sms")}
    assert sms_by_reference == expected
    shipped_sms = [m for m in sms_outbox if parcel.tracking_number in m["text"]]
    assert len(shipped_sms) == 1
    assert Counter(tuple(m.to) for m in mailoutbox) == {("buyer@example.com",): 2}
    main = threading.current_thread().name
    assert len(redis_worker) == 4
    assert main not in redis_worker, "the tasks ran in the test, not in the worker"
