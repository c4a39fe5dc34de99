"""PostgreSQL restarted mid-traffic: every order is taken once, its stock reserved once,
and each of its messages sent once, with no web or worker process restarted.

The test runs the whole shop as separate processes on a private PostgreSQL cluster
(initdb in a temporary directory, on a free port) and a private Redis, so stopping the
database disturbs no one else: gunicorn with two workers, one Celery worker, and
client threads sending orders to the channel API. A third of the way through, the
cluster is killed as a crash would (``pg_ctl stop -m immediate``) and started again;
two thirds of the way, it is restarted cleanly while no request is in flight, which
leaves each web worker holding a dead persistent connection; in between, the
warehouse ships ten orders (stock leaves, "shipped" messages queue). A client retries each
failed request with the same order until it succeeds: the channel API's idempotency
key is the order's ``external_id`` (a replay answers 200 with the order already made;
the API reads no Idempotency-Key header). Afterwards the private database is read
by a ``manage.py shell`` process (tests/config/restart_shop.py) and counted exactly.

It does not use the suite's database, so it runs on SQLite runs as well; like the
other real-process tests it is marked ``broker`` and needs REDIS_URL.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests

from tests.processes import (  # noqa: F401 - private_redis is a fixture
    BIN,
    ROOT,
    PrivatePostgres,
    free_port,
    postgres_unavailable,
    private_redis,
    process_stop,
    wait_for,
    worker_start,
)
from tests.tracking.conftest import loopback_server  # noqa: F401 - a fixture
from tests.tracking.test_notification_broker import AppBackend
from tests.tracking.test_worker_redis import REDIS_URL

CLIENTS = 4
ORDERS_PER_CLIENT = 15
PRODUCTS = 3
SHIPPED = 10
SMS_SENT = re.compile(r"SMS to \S+ \[(n\d+)\]")

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        not REDIS_URL,
        reason="REDIS_URL is not set: the real-process fault tests need Redis",
    ),
    pytest.mark.skipif(
        not shutil.which("redis-server"),
        reason="redis-server is not installed: this test starts a private one",
    ),
    pytest.mark.skipif(
        bool(postgres_unavailable()),
        reason=f"{postgres_unavailable()}: this test starts a private cluster",
    ),
]


def manage(env, *args) -> str:
    """Run ``manage.py`` with ``env``; return its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def shell(env, call) -> dict:
    """Run ``tests.config.restart_shop.<call>`` in a shell process; return its JSON."""
    name = call.split("(", 1)[0]
    code = f"from tests.config.restart_shop import {name}; {call}"
    return json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])


def children(pid) -> set[int]:
    """Return the ids of the processes whose parent is ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


@dataclass
class Shop:
    env: dict
    url: str
    token: str
    skus: list
    web: subprocess.Popen
    worker: object
    postgres: PrivatePostgres
    migrate_seconds: float

    def healthz(self):
        try:
            return requests.get(f"{self.url}/healthz", timeout=5).status_code
        except requests.RequestException:
            return None

    def pending(self) -> int:
        with psycopg.connect(self.postgres.url, connect_timeout=5) as conn:
            return conn.execute(
                "SELECT count(*) FROM tracking_notification WHERE status = 'pending'"
            ).fetchone()[0]


@pytest.fixture
def private_postgres():
    postgres = PrivatePostgres()
    try:
        postgres.create()
        yield postgres
    finally:
        postgres.remove()


@pytest.fixture
def shop(
    private_postgres,
    private_redis,  # noqa: F811
    loopback_server,  # noqa: F811
    celery_broker,
    tmp_path,
):
    """The shop as separate processes on the private database and Redis."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": private_postgres.url,
        "DATABASE_REPLICA_URL": "",
        "CELERY_BROKER_URL": private_redis.url,
        "REDIS_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "NOTIFICATION_RETRY_AFTER_SECONDS": "0",
        "LOG_LEVEL": "INFO",
    }
    started = time.monotonic()
    manage(env, "migrate", "-v0", "--skip-checks")  # checked by the suite already
    migrate_seconds = time.monotonic() - started

    # The processes start while the shop is seeded.
    port = free_port()
    with open(tmp_path / "web.log", "wb") as log:
        web = subprocess.Popen(
            [str(BIN / "gunicorn"), "config.wsgi", "--workers", "2"]
            + ["--bind", f"127.0.0.1:{port}", "--timeout", "30"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = worker_start("restart", env=env, log_path=tmp_path / "worker.log")
    try:
        AppBackend.attempts = []
        AppBackend.delivered = {}
        AppBackend.hold_first = False
        seeded = shell(
            env,
            f"seed(products={PRODUCTS}, "
            f"push_url={loopback_server(AppBackend) + '/push'!r}, "
            f"push_secret={AppBackend.secret!r})",
        )
        celery_broker(private_redis.url)
        shop = Shop(
            env=env,
            url=f"http://127.0.0.1:{port}",
            token=seeded["token"],
            skus=seeded["skus"],
            web=web,
            worker=worker,
            postgres=private_postgres,
            migrate_seconds=migrate_seconds,
        )
        wait_for(lambda: shop.healthz() == 200, "gunicorn to answer", seconds=60)
        wait_for(lambda: " ready." in worker.log(), "the worker to start", seconds=60)
        yield shop
    finally:
        for process in (worker.process, web):
            if process.poll() is None:
                process.terminate()
        process_stop(worker.process, seconds=2)
        process_stop(web, seconds=10)


@dataclass
class Traffic:
    """What the clients sent and what they were answered."""

    shop: Shop
    sent: dict = field(default_factory=dict)  # key -> payload
    answers: dict = field(default_factory=lambda: defaultdict(list))
    failures: list = field(default_factory=list)  # (key, started, what)
    refused: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    going: threading.Event = field(default_factory=threading.Event)
    in_flight: int = 0

    def pause(self):
        """Hold the clients' next requests; return once none is in flight."""
        with self.lock:
            self.going.clear()
        wait_for(lambda: self.in_flight == 0, "requests in flight to end", seconds=60)

    def resume(self):
        self.going.set()

    def payload(self, client, n) -> dict:
        key = f"PGR-{client}-{n:03d}"
        lines = [{"sku": self.shop.skus[n % PRODUCTS], "quantity": 1 + n % 3}]
        if n % 4 == 0:  # some orders with two lines
            lines.append({"sku": self.shop.skus[(n + 1) % PRODUCTS], "quantity": 1})
        return {
            "external_id": key,
            "customer": {
                "name": "张三",
                "phone": f"1380013{client}{n:03d}",
                "email": f"buyer{client}-{n}@example.com",
            },
            "shipping_address": {
                "province": "广东省",
                "city": "深圳市",
                "district": "南山区",
                "detail": "科技园路1号",
                "postal_code": "518000",
            },
            "lines": lines,
            "payment_method": "cod",
        }

    def succeeded(self) -> int:
        with self.lock:
            return len(self.answers)

    def place(self, payload, deadline):
        """Send the order until it is answered 200 or 201; retry on errors and 5xx."""
        key = payload["external_id"]
        while time.monotonic() < deadline:
            self.going.wait()
            with self.lock:
                if not self.going.is_set():
                    continue  # paused meanwhile
                self.in_flight += 1
            started = time.monotonic()
            try:
                response = requests.post(
                    f"{self.shop.url}/api/v1/orders/",
                    json=payload,
                    headers={"Authorization": f"Token {self.shop.token}"},
                    timeout=30,
                )
            except requests.RequestException as exc:
                what = type(exc).__name__
                response = None
            finally:
                with self.lock:
                    self.in_flight -= 1
            if response is not None:
                if response.status_code in (200, 201):
                    with self.lock:
                        self.answers[key].append(
                            (response.status_code, response.json()["number"])
                        )
                    return
                if response.status_code < 500:
                    with self.lock:
                        self.refused.append((key, response.status_code, response.text))
                    return
                what = str(response.status_code)
            with self.lock:
                self.failures.append((key, started, what))
            time.sleep(0.2)
        with self.lock:
            self.refused.append((key, "gave up", "no success before the deadline"))

    def client(self, number, deadline):
        for n in range(ORDERS_PER_CLIENT):
            payload = self.payload(number, n)
            with self.lock:
                self.sent[payload["external_id"]] = payload
            self.place(payload, deadline)


def test_orders_stock_and_messages_are_counted_exactly_after_postgres_restarts_mid_traffic(
    shop,
    celery_broker,
    private_redis,  # noqa: F811
):
    started = time.monotonic()
    web_workers = children(shop.web.pid)
    assert len(web_workers) == 2
    traffic = Traffic(shop)
    deadline = time.monotonic() + 90
    clients = [
        threading.Thread(target=traffic.client, args=(n, deadline), daemon=True)
        for n in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    total = CLIENTS * ORDERS_PER_CLIENT

    traffic.resume()
    # A crash in the middle of the traffic: requests in flight fail, and so do the
    # retries until the server is back.
    wait_for(
        lambda: traffic.succeeded() >= total // 3, "a third of the orders", seconds=60
    )
    shop.postgres.stop("immediate")  # no checkpoint: crash recovery at start
    down_at = time.monotonic()
    health_during = shop.healthz()
    time.sleep(1.0)
    shop.postgres.start()
    back_at = time.monotonic()
    # The warehouse ships some orders while the clients go on and the worker catches
    # up: "shipped" messages join the outbox, stock leaves the shelves.
    with traffic.lock:
        taken = sorted(traffic.answers)[:SHIPPED]
    shipped = set(shell(shop.env, f"ship(keys={taken!r})"))
    assert len(shipped) == SHIPPED
    # A planned restart while no request is in flight: every web worker's persistent
    # connection is left dead, unnoticed, for its next request to meet.
    wait_for(
        lambda: traffic.succeeded() >= 2 * total // 3,
        "two thirds of the orders",
        seconds=60,
    )
    traffic.pause()
    shop.postgres.stop("fast")
    shop.postgres.start()
    traffic.resume()
    for client in clients:
        client.join(timeout=max(0.0, deadline - time.monotonic()) + 5)
    traffic_seconds = time.monotonic() - started

    # What beat does each minute: send what is still pending. A send that failed
    # during an outage is also retried by its task, with backoff (without this
    # flush the outbox emptied 14 s after the traffic instead of 3 s); the two
    # meet at the row's lock, and one of them sends.
    app = celery_broker(private_redis.url)
    app.send_task("tracking.tasks.notifications_flush")
    flush_started = time.monotonic()
    wait_for(lambda: shop.pending() == 0, "the outbox to empty", seconds=90)
    outbox_seconds = time.monotonic() - flush_started
    found = shell(shop.env, "report()")

    # The restart was felt by the clients, and answered as a failure, not a wrong answer.
    assert not traffic.refused, traffic.refused[:5]
    assert health_during == 503, "/healthz did not report the database down"
    during_outage = [f for f in traffic.failures if f[1] < back_at]
    assert during_outage, "no request failed: the restart did not hit the traffic"
    # 503 with Retry-After (config.middleware.DatabaseUnavailableMiddleware), never
    # a bare 500: a channel may retry on it, and retrying makes no second order.
    assert {what for _key, _at, what in traffic.failures} <= {
        "502",
        "503",
        "ConnectionError",
        "ReadTimeout",
    }, traffic.failures
    # Once PostgreSQL was back, no request failed, after either restart: each web
    # worker found its persistent connection dead and opened another before using
    # it (CONN_HEALTH_CHECKS), with no process restarted.
    # (A read timeout is a slow machine, not a failure: the retry is a replay.)
    after = [f for f in traffic.failures if f[1] >= back_at and f[2] != "ReadTimeout"]
    assert not after, after
    assert shop.web.poll() is None and children(shop.web.pid) == web_workers
    assert shop.worker.process.poll() is None

    # Orders: every key sent made exactly one order, and each client got it.
    keys = set(traffic.sent)
    assert len(keys) == total
    assert set(traffic.answers) == keys
    assert sorted(k for k, _n, _s in found["orders"]) == sorted(keys)
    assert set(found["orders_per_key"].values()) == {1}
    numbers = {k: n for k, n, _s in found["orders"]}
    for key, answers in traffic.answers.items():
        assert {number for _status, number in answers} == {numbers[key]}
    assert {k: s for k, _n, s in found["orders"]} == {
        key: "shipped" if key in shipped else "ready_to_fulfill" for key in keys
    }
    lines = [
        (key, line["sku"], line["quantity"])
        for key, payload in traffic.sent.items()
        for line in payload["lines"]
    ]
    assert sorted(map(tuple, found["lines"])) == sorted(lines)

    # Stock: one reservation per line, one shipment per shipped line, and each level
    # equal to the sum of its movements.
    assert sorted(map(tuple, found["movements"])) == sorted(
        [("reserved", key, sku, 0, q) for key, sku, q in lines]
        + [("shipped", key, sku, -q, -q) for key, sku, q in lines if key in shipped]
    )
    for sku in shop.skus:
        of_sku = [(key, q) for key, s, q in lines if s == sku]
        gone = sum(q for key, q in of_sku if key in shipped)
        reserved = sum(q for _key, q in of_sku) - gone
        movements = {
            "received": 1,
            "reserved": len(of_sku),
            "shipped": sum(1 for key, _q in of_sku if key in shipped),
        }
        assert found["stock"][sku] == {
            "on_hand": 1000 - gone,
            "reserved": reserved,
            "ledger": [1000 - gone, reserved],
            "movements": {kind: n for kind, n in movements.items() if n},
        }

    # Messages: a confirmation per order and a "shipped" per shipped order on each
    # channel, each sent once. The e-mails go to the worker's in-memory outbox, so
    # they are counted in the database only; SMS in the worker's log, app pushes at
    # the app backend.
    notifications = found["notifications"]
    channels = ("sms", "email", "push")
    assert Counter((k, c, t) for _pk, k, c, t, _s in notifications) == {
        **{(key, c, "order_received"): 1 for key in keys for c in channels},
        **{(key, c, "shipped"): 1 for key in shipped for c in channels},
    }
    assert {s for *_, s in notifications} == {"sent"}
    assert found["notification_events"] == {str(pk): 1 for pk, *_ in notifications}, (
        "one 'sent' event per message"
    )
    pushes = {
        f"n{pk}" for pk, _k, channel, _t, _s in notifications if channel == "push"
    }
    sms = {f"n{pk}" for pk, _k, channel, _t, _s in notifications if channel == "sms"}
    assert set(AppBackend.delivered) == pushes
    logged = Counter(SMS_SENT.findall(shop.worker.log()))
    assert set(logged) == sms
    # A message handed to its gateway just before the crash, whose "sent" was then
    # lost with the transaction, goes again with the same reference (n<id>), which
    # the app backend drops. One solo worker sends one message at a time: each of
    # the two restarts can repeat at most one.
    repeats = Counter(AppBackend.attempts) + logged
    repeated = sum(repeats.values()) - len(repeats)
    assert repeated <= 2, repeats.most_common(3)

    print(
        f"\n{total} orders in {traffic_seconds:.1f} s, {len(traffic.failures)} failed "
        f"requests, "
        f"{sum(1 for a in traffic.answers.values() if a[-1][0] == 200)} answered as "
        f"a replay; crash outage {back_at - down_at:.1f} s; migrate "
        f"{shop.migrate_seconds:.1f} s; outbox empty {outbox_seconds:.1f} s after "
        f"the traffic; {shop.worker.log().count(' retry: Retry in ')} tasks retried, "
        f"{repeated} message(s) handed to a gateway twice"
    )
