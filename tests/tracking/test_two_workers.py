"""Two real Celery worker processes on Redis: each task runs once, and queues do not wait
for each other.

As in test_notification_broker.py, each test runs a private ``redis-server`` and
``celery worker`` processes that read the PostgreSQL test database. The workers' logs
name every task they receive and finish, so the tests count executions per task id.
"""

import os
import shutil
import time
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection

from fulfillment.services import fulfillment_start, shipment_ship
from orders.models import OrderEvent
from tests.factories.fulfillment import CarrierFactory
from tests.processes import (  # noqa: F401 - private_redis is a fixture
    private_redis,
    process_stop,
    wait_for,
    worker_start,
)
from tests.tracking.test_notification_broker import AppBackend
from tests.tracking.test_worker_redis import REDIS_URL
from tracking import tasks
from tracking.adapters.demo import DemoCarrierHandler
from tracking.models import Notification

QUEUES = settings.CELERY_QUEUE_NAMES

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        not REDIS_URL,
        reason="REDIS_URL is not set: the real-broker tests need Redis",
    ),
    pytest.mark.skipif(
        not shutil.which("redis-server"),
        reason="redis-server is not installed: these tests start a private one",
    ),
]


@pytest.fixture
def workers(
    transactional_db,
    private_redis,  # noqa: F811
    celery_broker,
    tmp_path,
):
    """Return a function starting a named ``celery worker`` on some queues; waits until ready."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "worker processes cannot reach the in-memory SQLite test database; "
            "run with DATABASE_URL on PostgreSQL (as .ci/run does)"
        )
    app = celery_broker(private_redis.url)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@"
            f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_BROKER_URL": private_redis.url,
        "REDIS_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    started = []

    def start(name, *, queues=None, extra_env=None):
        worker = worker_start(
            name,
            env={**env, **(extra_env or {})},
            log_path=tmp_path / f"{name}.log",
            queues=queues,
        )
        started.append(worker)
        wait_for(lambda: " ready." in worker.log(), f"worker {name} to start")
        return worker

    start.app = app
    yield start
    for worker in started:
        # A solo worker may linger after its warm shutdown; the test is over.
        process_stop(worker.process, seconds=5)


@pytest.fixture
def app_backend(loopback_server, channel):
    """The shop's app backend, counting every push it receives (see AppBackend)."""
    AppBackend.attempts = []
    AppBackend.delivered = {}
    AppBackend.hold_first = False
    channel.push_url = loopback_server(AppBackend) + "/push"
    channel.push_secret = AppBackend.secret
    channel.save()
    return AppBackend


def test_two_workers_on_redis_run_each_of_210_tasks_exactly_once(
    workers, app_backend, place_order
):
    first, second = workers("first"), workers("second")

    orders = [place_order(payment_method="cod") for _ in range(70)]
    sent = Notification.objects.filter(order__in=orders)
    assert sent.count() == 210  # SMS, email and app push for each order
    wait_for(
        lambda: set(sent.values_list("status", flat=True)) == {"sent"},
        "every order confirmation to be sent",
        seconds=120,
    )

    # In the database: each message sent once, with one event each.
    assert set(sent.values_list("attempts", flat=True)) == {1}
    assert (
        OrderEvent.objects.filter(
            order__in=orders, kind=OrderEvent.Kind.NOTIFICATION
        ).count()
        == 210
    )
    # At the app backend: each push arrived once.
    pushes = [
        f"n{pk}" for pk in sent.filter(channel="push").values_list("pk", flat=True)
    ]
    assert sorted(app_backend.attempts) == sorted(pushes)
    # In the workers' logs: 210 tasks, each received and finished by one worker once.
    name = "tracking.tasks.notification_send"
    wait_for(
        lambda: len(first.finished(name)) + len(second.finished(name)) == 210,
        "the workers to log every finished task",
    )
    finished = Counter(first.finished(name) + second.finished(name))
    received = Counter(first.received(name) + second.received(name))
    assert len(finished) == 210 and set(finished.values()) == {1}
    assert received == finished
    # Both took a share.
    assert first.finished(name) and second.finished(name)


class SlowCarrier(DemoCarrierHandler):
    """The demo carrier, answering each query after 3 seconds."""

    def do_GET(self):
        time.sleep(3)
        super().do_GET()


def queued(app, queue) -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.client.llen(queue)


def test_a_tracking_queue_full_of_slow_polls_does_not_delay_a_customers_message(
    workers, loopback_server, place_order, settings
):
    carrier_url = loopback_server(SlowCarrier)
    settings.DEMO_CARRIER_URL = carrier_url
    polling = workers(
        "polling",
        queues=[QUEUES["tracking"]],
        extra_env={"DEMO_CARRIER_URL": carrier_url, "DEMO_CARRIER_TIME_SCALE": "1"},
    )
    sending = workers("sending", queues=[QUEUES["notifications"]])
    carrier = CarrierFactory(code="demo", name="演示快递")
    order = place_order(payment_method="cod")
    (parcel,) = fulfillment_start(order=order, actor="test")
    parcel = shipment_ship(
        shipment=parcel, carrier=carrier, tracking_number="DEMO00000001", actor="test"
    )
    watch = parcel.watch
    for _ in range(20):  # a minute of carrier polling for one worker
        tasks.parcel_check_task.delay(watch.pk)
    wait_for(lambda: polling.finished("tracking.tasks.parcel_check_task"), "a poll")

    started = time.monotonic()
    customer_order = place_order(payment_method="cod")
    messages = Notification.objects.filter(order=customer_order)
    wait_for(
        lambda: set(messages.values_list("status", flat=True)) == {"sent"},
        "the new order's confirmation",
        seconds=20,
    )
    waited = time.monotonic() - started

    assert messages.count() == 2  # SMS and email (no app on this channel)
    # A worker shared with the polls would first finish the one it is in (3 s) and
    # then take the queues in turn: measured so, the confirmation waited 9.3 s.
    assert waited < 2.5, f"the confirmation waited {waited:.1f} s behind the polls"
    polls_waiting = queued(workers.app, QUEUES["tracking"])
    assert polls_waiting >= 10, "the polls were not still queued: nothing was shown"
    assert not sending.finished("tracking.tasks.parcel_check_task")
    assert polling.finished("tracking.tasks.parcel_check_task")
    with workers.app.connection_for_write() as conn:  # stop sooner
        conn.default_channel.queue_purge(QUEUES["tracking"])
