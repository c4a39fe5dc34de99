"""Real Celery worker processes on a private Redis: a worker killed mid-send, and a
Redis outage while orders ship. Nothing is lost and nothing is delivered twice.

Each test runs its own ``redis-server`` on a free port, so stopping it does not
disturb anyone else's broker, and workers as separate processes (``celery worker``)
so that SIGKILL is a real crash. The workers read the test database, which must be
PostgreSQL: SQLite's in-memory test database is not reachable from another process.
"""

import json
import os
import shutil
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest
from django.db import connection

from orders.models import Order, OrderEvent
from orders.signing import signature_verify
from tests.processes import (  # noqa: F401 - private_redis is a fixture
    private_redis,
    process_stop,
    wait_for,
    worker_start,
)
from tests.tracking.test_worker_redis import REDIS_URL
from tracking import tasks
from tracking.models import Notification

VISIBILITY_TIMEOUT = 3

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
    """Return a function starting a ``celery worker`` process on the private Redis."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "worker processes cannot reach the in-memory SQLite test database; "
            "run with DATABASE_URL on PostgreSQL (as .ci/run does)"
        )
    celery_broker(private_redis.url)
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
        f":{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": private_redis.url,
        "REDIS_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "NOTIFICATION_RETRY_AFTER_SECONDS": "0",
    }
    started = []

    def start(name):
        worker = worker_start(name, env=env, log_path=tmp_path / f"{name}.log")
        started.append(worker.process)
        return worker.process

    yield start
    for process in started:
        process_stop(process, seconds=15)


class AppBackend(BaseHTTPRequestHandler):
    """The shop's app backend: keeps each message id once; can hold the first request."""

    secret = "app-secret"
    attempts: list[str] = []
    delivered: dict[str, dict] = {}
    hold_first = False
    first_arrived = threading.Event()
    release = threading.Event()
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        signature_verify(
            header=self.headers["X-Signature"],
            body=body,
            secret=self.secret,
            tolerance=300,
        )
        key = self.headers["Idempotency-Key"]
        with AppBackend.lock:
            AppBackend.attempts.append(key)
            AppBackend.delivered.setdefault(key, json.loads(body))
            first = len(AppBackend.attempts) == 1
        if first and AppBackend.hold_first:
            AppBackend.first_arrived.set()
            AppBackend.release.wait(30)  # the worker is killed meanwhile
        try:
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass  # the worker that asked is gone

    def log_message(self, *args):
        pass


@pytest.fixture
def app_backend(loopback_server, channel):
    AppBackend.attempts = []
    AppBackend.delivered = {}
    AppBackend.hold_first = False
    AppBackend.first_arrived = threading.Event()
    AppBackend.release = threading.Event()
    channel.push_url = loopback_server(AppBackend) + "/push"
    channel.push_secret = AppBackend.secret
    channel.save()
    yield AppBackend
    AppBackend.release.set()


def statuses(**filters):
    return list(
        Notification.objects.filter(**filters)
        .order_by("id")
        .values_list("status", flat=True)
    )


def test_a_worker_killed_mid_send_leaves_exactly_one_message_delivered(
    workers, app_backend, place_order
):
    app_backend.hold_first = True
    first = workers("first")
    order = place_order(payment_method="cod")
    push = Notification.objects.get(order=order, channel="push")

    assert app_backend.first_arrived.wait(30), "the push never reached the app"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    app_backend.release.set()
    # The crash rolled the send back: the message still waits, with no attempt counted.
    wait_for(
        lambda: Notification.objects.get(pk=push.pk).status == "pending",
        "the killed worker's transaction to end",
    )

    # Redis gives an unacknowledged task to another worker once it is older than the
    # visibility timeout (3 s here); kombu looks for such tasks when a worker starts
    # and then every 100 s.
    time.sleep(VISIBILITY_TIMEOUT + 1)
    workers("second")
    wait_for(
        lambda: set(statuses(order=order)) == {"sent"},
        "the redelivered task to send the message",
        seconds=60,
    )

    push.refresh_from_db()
    assert (push.status, push.attempts) == ("sent", 1)
    assert app_backend.attempts == [f"n{push.pk}", f"n{push.pk}"]
    assert list(app_backend.delivered) == [f"n{push.pk}"], "delivered exactly once"
    sent_events = OrderEvent.objects.filter(
        order=order, kind=OrderEvent.Kind.NOTIFICATION, data__notification=push.pk
    )
    assert sent_events.count() == 1


def test_messages_queued_while_redis_is_down_are_all_sent_after_it_restarts(
    workers,
    app_backend,
    private_redis,  # noqa: F811
    place_order,
    ship,
    celery_broker,
):
    workers("survivor")
    orders = [place_order(payment_method="cod") for _ in range(3)]
    wait_for(
        lambda: set(statuses(order__in=orders)) == {"sent"},
        "the order confirmations",
    )

    private_redis.stop()
    for order in orders:
        ship(order)  # the saved change must not fail for want of a broker
    for order in orders:
        order.refresh_from_db()
        assert order.status == Order.Status.SHIPPED
    shipped = Notification.objects.filter(order__in=orders, template="shipped")
    assert shipped.count() == 9  # SMS, email and app push for each order
    assert set(shipped.values_list("status", flat=True)) == {"pending"}

    private_redis.start()
    celery_broker(private_redis.url)  # forget the dead connections
    tasks.notifications_flush.delay()  # what beat does every minute

    wait_for(
        lambda: set(shipped.values_list("status", flat=True)) == {"sent"},
        "every shipped message to be sent after Redis is back",
        seconds=90,
    )
    assert set(shipped.values_list("attempts", flat=True)) == {1}
    pushed = {f"n{n.pk}" for n in shipped.filter(channel="push")}
    assert pushed <= set(app_backend.delivered)
    assert sorted(k for k in app_backend.attempts if k in pushed) == sorted(pushed)
    assert (
        OrderEvent.objects.filter(
            order__in=orders,
            kind=OrderEvent.Kind.NOTIFICATION,
            data__notification__in=list(shipped.values_list("pk", flat=True)),
        ).count()
        == 9
    )
