"""Mixed traffic for minutes against gunicorn, a Celery worker and beat on PostgreSQL and Redis.

    .venv/bin/python bench/load_mixed.py [--minutes 4] [--clients 6] [--think 0.1]
                                         [--database oms_bench_load] [--keep]
                                         [--private-redis] [--drain-seconds 300]

Sets up its own database (fresh unless ``--keep``, which reuses the last run's and
checks only what this run added), seeds 1,000 SKUs in stock, a channel with an API key,
a push secret for signed orders and an app push URL, a carrier, an owner for the console
and an outbound webhook endpoint subscribed to every event, served by a receiver thread
in this process that checks each signature and counts messages by id. Redis db 13 is
flushed (``--private-redis``: a redis-server of its own on a free port instead: on a
machine shared with other jobs, their tests may flush db 13 or purge its queues). Then
starts ``gunicorn config.wsgi -w 4``, one ``celery worker`` taking every queue
(``-c 2``) and ``celery beat``, and drives ``--clients`` threads (a
``requests.Session`` each, ``--think`` seconds between requests) through:

- API intake: single orders (one in six sent again with the same ``external_id``, the
  API's idempotency key: the answer must be 200 and the same order) and batches of 10
  (one in three sent again: every result ``replayed``);
- signed order pushes to ``/webhooks/channels/web/`` (some sent again with a fresh
  signature, which must answer the same order, or with the same signature, which must
  be refused as a replay);
- the console as the owner: the order list filtered by status, a search for a known
  order number (the order must be on the page), an order page, the dashboard;
- the customer status page: number and phone posted to ``/track/``, then the page;
- AfterShip webhooks with the scans of parcels shipped meanwhile (a thread in this
  process picks and ships ready orders through ``fulfillment.services`` every 2 s);
  some are sent twice and must be answered as a replay.

Outbound webhooks and app push messages are the side effects; the receiver counts them.
Every ~10 s the RSS of each gunicorn and Celery process is sampled (/proc VmRSS).

Prints per kind: requests, req/s, errors (an unexpected status, answer or exception),
p50/p95/p99 latency; the memory of each process; then waits for the outbox to drain and
checks exactly: orders the clients were told were created == the channel's new orders,
stock reserved == reservations == units ordered on unshipped orders and the ledger
agrees, units that left == units shipped, each webhook delivery received once with a
valid signature and as many as were delivered, ``order.created`` and ``order.allocated``
once per order, ``order.shipped`` once per parcel, ``order.delivered`` once per delivered
order, every app push received once, nothing left pending. Exits 1 if any check fails
or any error occurred. ``--drain-seconds`` (300) bounds the wait for the outbox.

The status page's rate limit (``TRACK_LOOKUP_LIMIT``, 20 per address per 10 minutes) is
raised for the run: every client comes from 127.0.0.1. SMS quiet hours are turned off so
that a run at night does not hold the SMS outbox.
"""

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict, deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    PG_ADMIN_URL,
    ROOT,
    bench_env,
    django_setup,
    fresh_database,
    gunicorn_start,
    percentile,
    process_stop,
    signed_receiver,
)
from api_intake import payload, seed  # noqa: E402

PORT = 8766
BASE = f"http://127.0.0.1:{PORT}"
REDIS_URL = "redis://127.0.0.1:6379/13"
SKUS = 1000
OWNER = ("bench-owner", "bench-load-password")
BATCH = 10
SHIP = "ship (service layer)"
# (kind, weight): what a client does next.
MIX = [
    ("intake", 24),
    ("batch", 4),
    ("push", 12),
    ("console", 24),
    ("track", 16),
    ("carrier", 12),
]
SCANS = [
    ("InTransit", "运输中", "广州"),
    ("OutForDelivery", "派送中", "深圳"),
    ("Delivered", "已签收", "深圳"),
]


class Stats:
    """Latencies and errors per kind of request, shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.errors = defaultdict(list)

    def timed(self, kind, call, check):
        """Run ``call()``; record its time, and an error if it raises or ``check`` says so."""
        started = time.perf_counter()
        try:
            response = call()
        except Exception as exc:  # any failure of the request is an error of the run
            response, problem = None, f"{type(exc).__name__}: {exc}"
        else:
            problem = check(response)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[kind].append(elapsed)
            if problem:
                self.errors[kind].append(problem)
        return response if not problem else None

    def error(self, kind, problem):
        with self.lock:
            self.errors[kind].append(problem)


def expect(status, text=None):
    """Return a check: the answer has this status (and contains ``text``)."""

    def check(response):
        if response.status_code != status:
            return f"HTTP {response.status_code} (expected {status}): {response.text[:200]}"
        if text is not None and text not in response.text:
            return f"HTTP {response.status_code} without {text!r}"
        return None

    return check


class Shop:
    """What the clients share: orders placed, parcels in transit, the run's counters."""

    def __init__(self, run: str, token: str, push_secret: str, aftership_secret: str):
        self.run = run
        self.token = token
        self.push_secret = push_secret
        self.aftership_secret = aftership_secret
        self.lock = threading.Lock()
        self.next_n = 0
        self.placed = []  # (number, phone)
        self.told_created = []
        self.parcels = deque()  # [tracking number, scans sent]
        self.stats = Stats()

    def new_orders(self, count: int) -> list[dict]:
        with self.lock:
            first, self.next_n = self.next_n, self.next_n + count
        orders = []
        for n in range(first, first + count):
            order = payload(n, f"SKU-{random.randrange(SKUS):05d}")
            order["external_id"] = f"L{self.run}-{n}"
            orders.append(order)
        return orders

    def created(self, number: str, phone: str):
        with self.lock:
            self.told_created.append(number)
            self.placed.append((number, phone))

    def known_order(self):
        with self.lock:
            return random.choice(self.placed) if self.placed else None


def same_order(number):
    def check(response):
        if response.status_code != 200:
            return f"retry: HTTP {response.status_code}: {response.text[:200]}"
        if response.json().get("number") != number:
            return f"retry answered another order than {number}"
        return None

    return check


def created_order(response):
    if response.status_code != 201:
        return f"HTTP {response.status_code} (expected 201): {response.text[:200]}"
    return None


def do_intake(shop, session, _browser=None):
    order = shop.new_orders(1)[0]
    url = f"{BASE}/api/v1/orders/"
    response = shop.stats.timed(
        "api intake", lambda: session.post(url, json=order, timeout=60), created_order
    )
    if response is None:
        return
    number = response.json()["number"]
    shop.created(number, order["customer"]["phone"])
    if random.random() < 1 / 6:  # the client did not hear the answer: same key again
        shop.stats.timed(
            "api intake, same key again",
            lambda: session.post(url, json=order, timeout=60),
            same_order(number),
        )


def batch_results(expected, numbers=None):
    def check(response):
        if response.status_code != 200:
            return f"HTTP {response.status_code}: {response.text[:200]}"
        results = response.json()["results"]
        got = [r["result"] for r in results]
        if got != [expected] * BATCH:
            return f"batch results {got} (expected all {expected})"
        if numbers is not None and [r["number"] for r in results] != numbers:
            return "batch sent again answered other orders"
        return None

    return check


def do_batch(shop, session, _browser=None):
    orders = shop.new_orders(BATCH)
    url = f"{BASE}/api/v1/orders/batch/"
    body = {"orders": orders}
    response = shop.stats.timed(
        "api batch of 10",
        lambda: session.post(url, json=body, timeout=120),
        batch_results("created"),
    )
    if response is None:
        return
    numbers = [r["number"] for r in response.json()["results"]]
    for number, order in zip(numbers, orders, strict=True):
        shop.created(number, order["customer"]["phone"])
    if random.random() < 1 / 3:
        shop.stats.timed(
            "api batch of 10, again",
            lambda: session.post(url, json=body, timeout=120),
            batch_results("replayed", numbers),
        )


def do_push(shop, session, _browser=None):
    from orders.signing import signature_header

    order = shop.new_orders(1)[0]
    body = json.dumps(order, ensure_ascii=False).encode()
    url = f"{BASE}/webhooks/channels/web/"

    def post(header):
        headers = {"Content-Type": "application/json", "X-Signature": header}
        return lambda: session.post(url, data=body, headers=headers, timeout=60)

    first = signature_header(secret=shop.push_secret, body=body)
    response = shop.stats.timed("signed channel push", post(first), created_order)
    if response is None:
        return
    number = response.json()["number"]
    shop.created(number, order["customer"]["phone"])
    roll = random.random()
    if roll < 0.1:  # the platform pushes the order again, signed anew
        # A new second, or the signature would be the same and refused as a replay.
        time.sleep(max(0.0, 1.05 - (time.time() % 1)))
        again = signature_header(secret=shop.push_secret, body=body)
        shop.stats.timed("signed push, sent again", post(again), same_order(number))
    elif roll < 0.2:  # someone replays the captured request
        shop.stats.timed("signed push, replayed", post(first), expect(401))


def do_console(shop, api, session):
    known = shop.known_order()
    if known is None:
        return do_intake(shop, api)
    number = known[0]
    page, params, kind, text = random.choice(
        [
            ("/console/orders/", {"status": "ready_to_fulfill"}, "console list", None),
            ("/console/orders/", {"q": number}, "console search", number),
            (f"/console/orders/{number}/", {}, "console order page", number),
            ("/console/", {}, "console dashboard", None),
        ]
    )
    shop.stats.timed(
        kind,
        lambda: session.get(BASE + page, params=params, timeout=60),
        expect(200, text),
    )


def do_track(shop, api, session):
    known = shop.known_order()
    if known is None:
        return do_intake(shop, api)
    number, phone = known
    data = {
        "number": number,
        "phone": phone,
        "csrfmiddlewaretoken": session.cookies["csrftoken"],
    }
    response = shop.stats.timed(
        "status page lookup",
        lambda: session.post(
            f"{BASE}/track/", data=data, allow_redirects=False, timeout=60
        ),
        expect(302),
    )
    if response is None:
        return
    location = response.headers["Location"]
    shop.stats.timed(
        "status page",
        lambda: session.get(BASE + location, timeout=60),
        expect(200, number),
    )


def aftership_body(tracking_number: str, scans: int, event_id: str) -> bytes:
    now = time.time()
    checkpoints = [
        {
            "checkpoint_time": time.strftime(
                "%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - 60 * (scans - i))
            ),
            "tag": tag,
            "message": message,
            "location": place,
        }
        for i, (tag, message, place) in enumerate(SCANS[:scans])
    ]
    body = {
        "ts": int(now),
        "event": "tracking_update",
        "event_id": event_id,
        "msg": {
            "slug": "sf-express",
            "tracking_number": tracking_number,
            "tag": SCANS[scans - 1][0],
            "checkpoints": checkpoints,
        },
    }
    return json.dumps(body, ensure_ascii=False).encode()


def do_carrier(shop, session, browser):
    from tracking.adapters.aftership import webhook_signature

    with shop.lock:
        parcel = shop.parcels.popleft() if shop.parcels else None
    if parcel is None:
        return do_console(shop, session, browser)
    parcel[1] += 1
    body = aftership_body(parcel[0], parcel[1], str(uuid.uuid4()))
    headers = {
        "Content-Type": "application/json",
        "aftership-hmac-sha256": webhook_signature(body, shop.aftership_secret),
    }
    url = f"{BASE}/webhooks/carriers/aftership/"

    def send():
        return session.post(url, data=body, headers=headers, timeout=60)

    shop.stats.timed("aftership scans push", send, expect(200, "ok"))
    if random.random() < 0.1:  # AfterShip retries an event it thinks was lost
        shop.stats.timed("aftership push, replayed", send, expect(200, "replay"))
    if parcel[1] < len(SCANS):
        with shop.lock:
            shop.parcels.append(parcel)


ACTIONS = {
    "intake": do_intake,
    "batch": do_batch,
    "push": do_push,
    "console": do_console,
    "track": do_track,
    "carrier": do_carrier,
}


def client(shop, deadline, think, seed_value):
    import requests

    random.seed(seed_value)
    api = requests.Session()
    api.headers["Authorization"] = f"Token {shop.token}"
    api.headers["Accept-Language"] = "en"
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"
    try:
        browser.get(f"{BASE}/console/login/", timeout=60)
        signed_in = browser.post(
            f"{BASE}/console/login/",
            data={
                "username": OWNER[0],
                "password": OWNER[1],
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
            allow_redirects=False,
            timeout=60,
        )
    except Exception as exc:  # the client cannot work without signing in
        shop.stats.error("console sign-in", f"{type(exc).__name__}: {exc}")
        return
    if signed_in.status_code != 302:
        shop.stats.error("console sign-in", f"HTTP {signed_in.status_code}")
        return
    kinds, weights = zip(*MIX, strict=True)
    while time.monotonic() < deadline:
        kind = random.choices(kinds, weights)[0]
        try:
            ACTIONS[kind](shop, api, browser)
        except Exception as exc:  # an answer not as expected: an error of the run
            shop.stats.error(kind, f"{type(exc).__name__}: {exc}")
        if think:
            time.sleep(random.uniform(0, 2 * think))


def shipper(shop, deadline, order_base, carrier):
    """Warehouse staff: every 2 s pick and ship up to 3 ready orders of this run."""
    from django.db import connection

    from fulfillment.services import fulfillment_start, shipment_ship
    from orders.models import Order

    shipped = 0
    while time.monotonic() < deadline:
        time.sleep(2)
        ready = Order.objects.filter(
            pk__gt=order_base, status=Order.Status.READY_TO_FULFILL
        ).order_by("pk")[:3]
        for order in ready:
            started = time.perf_counter()
            try:
                for parcel in fulfillment_start(order=order, actor="bench-warehouse"):
                    shipped += 1
                    number = f"SF{shop.run}{shipped:06d}"
                    shipment_ship(
                        shipment=parcel,
                        carrier=carrier,
                        tracking_number=number,
                        actor="bench-warehouse",
                    )
                    with shop.lock:
                        shop.parcels.append([number, 0])
            except Exception as exc:  # recorded as an error of the run
                shop.stats.error(SHIP, f"{order.number}: {exc!r}")
            with shop.stats.lock:
                shop.stats.latencies[SHIP].append(time.perf_counter() - started)
    connection.close()


def count_by(queryset, field: str) -> dict:
    from django.db.models import Count

    rows = queryset.order_by().values(field).annotate(n=Count("pk"))
    return {row[field]: row["n"] for row in rows}


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return sorted(found)


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def memory_sampler(processes: dict, samples: dict, stop: threading.Event):
    """Every 10 s note the RSS of each named process and of its children."""
    started = time.monotonic()
    while True:
        at = time.monotonic() - started
        for name, pid in processes.items():
            for label, each in [(f"{name} main", pid)] + [
                (f"{name} child {child}", child) for child in children(pid)
            ]:
                mb = rss_mb(each)
                if mb is not None:
                    samples[label].append((at, mb))
        if stop.wait(10):
            return


def memory_report(samples: dict) -> list[str]:
    def mid_of(label):
        return samples[label][len(samples[label]) // 2][1]

    if not samples:
        return ["  no samples"]
    lines = [
        f"  {'process':32} {'first':>7} {'mid':>7} {'last':>7} {'max':>7} "
        f"{'growth':>7} {'2nd half':>8}  (MB RSS, samples)"
    ]
    for label, series in samples.items():
        values = [mb for _at, mb in series]
        first, mid, last = values[0], values[len(values) // 2], values[-1]
        lines.append(
            f"  {label:32} {first:7.1f} {mid:7.1f} {last:7.1f} {max(values):7.1f} "
            f"{last - first:+7.1f} {last - mid:+8.1f}  ({len(values)})"
        )
    worst = max(samples, key=lambda label: samples[label][-1][1] - mid_of(label))
    lines.append(
        f"  most growth over the second half: {worst}, "
        f"{samples[worst][-1][1] - mid_of(worst):+.1f} MB"
    )
    lines.append("  the trend, MB RSS at the start of each minute:")
    for label, series in samples.items():
        minutes = {}
        for at, mb in series:
            minutes.setdefault(int(at // 60), mb)
        trend = " ".join(f"{minutes[m]:.0f}" for m in sorted(minutes))
        lines.append(f"  {label:32} {trend}")
    return lines


def setup(args):
    """Create or reuse the database, seed it, and return what the run needs."""
    if args.keep:
        url = f"{PG_ADMIN_URL}/{args.database}"
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            check=True,
        )
    else:
        url = fresh_database(args.database)
    django_setup(url)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from fulfillment.models import Carrier
    from orders.models import Channel
    from orders.roles import OWNER as OWNER_ROLE
    from orders.roles import roles_sync
    from orders.services import channel_token_issue

    channel = Channel.objects.filter(code="web").first()
    if channel is None:
        token = seed(SKUS, units=1_000_000)
        channel = Channel.objects.get(code="web")
    else:
        token = channel_token_issue(channel=channel)
    carrier, _created = Carrier.objects.get_or_create(
        code="sf", defaults={"name": "顺丰速运", "supports_cod": True}
    )
    roles_sync()
    owner, _created = get_user_model().objects.get_or_create(username=OWNER[0])
    owner.set_password(OWNER[1])
    owner.is_staff = True
    owner.save()
    owner.groups.add(Group.objects.get(name=OWNER_ROLE))
    return url, channel, carrier, token


def processes_start(env: dict, run: str):
    """Start gunicorn, a Celery worker on every queue and beat; return them and their log folder."""
    workdir = Path(tempfile.mkdtemp(prefix="oms-load-"))
    logs = [(workdir / f"{name}.log").open("w") for name in ("web", "worker", "beat")]
    server = gunicorn_start(env, port=PORT, workers=4, output=logs[0])
    celery = [sys.executable, "-m", "celery", "-A", "config.celery_app"]
    commands = [
        ["worker", "-l", "warning", "-c", "2", "-n", f"load{run}@%h"],
        ["beat", "-l", "warning", "-s", str(workdir / "beat-schedule")],
    ]
    worker, beat = (
        subprocess.Popen(
            celery + command,
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=log,
            stderr=log,
        )
        for command, log in zip(commands, logs[1:], strict=True)
    )
    for log in logs:  # the processes hold their own copies
        log.close()
    return {"gunicorn": server, "celery worker": worker, "celery beat": beat}, workdir


def traffic(shop, args, order_base, carrier, processes) -> tuple[float, dict]:
    """Run the clients and the shipper until the time is up; return the time and the memory samples."""
    samples, stop_sampling = defaultdict(list), threading.Event()
    pids = {name: process.pid for name, process in processes.items()}
    sampler = threading.Thread(
        target=memory_sampler, args=(pids, samples, stop_sampling)
    )
    sampler.start()
    started = time.monotonic()
    deadline = started + args.minutes * 60
    threads = [
        threading.Thread(target=client, args=(shop, deadline, args.think, i))
        for i in range(args.clients)
    ]
    threads.append(
        threading.Thread(target=shipper, args=(shop, deadline, order_base, carrier))
    )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    stop_sampling.set()
    sampler.join()
    return wall, samples


def traffic_report(stats: Stats, wall: float) -> int:
    """Print requests, rate, errors and latency per kind; return the number of errors."""
    print(
        f"  {'kind':30} {'requests':>8} {'req/s':>7} {'errors':>6} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    )

    def row(kind, times, errors):
        print(
            f"  {kind:30} {len(times):8d} {len(times) / wall:7.2f} {errors:6d} "
            f"{percentile(times, 0.50) * 1000:8.1f} "
            f"{percentile(times, 0.95) * 1000:8.1f} "
            f"{percentile(times, 0.99) * 1000:8.1f}"
        )

    kinds = sorted(set(stats.latencies) | set(stats.errors))
    for kind in kinds:
        row(kind, stats.latencies[kind], len(stats.errors[kind]))
    errors = sum(len(e) for e in stats.errors.values())
    every = [t for k in kinds if k != SHIP for t in stats.latencies[k]]
    row("all HTTP requests", every, errors)
    for kind in kinds:
        for problem in stats.errors[kind][:3]:
            print(f"  error, {kind}: {problem}")
    return errors


def outbox_drain(*, since: dict, endpoint, seen, seconds: float):
    """Wait until no notification or webhook delivery waits and every delivery arrived."""
    from tracking.models import Notification
    from tracking.webhook_models import WebhookDelivery

    def left():
        notifications = Notification.objects.filter(
            pk__gt=since["notification"], status=Notification.Status.PENDING
        ).count()
        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
        waiting = deliveries.exclude(status__in=["delivered", "given_up"]).count()
        delivered = deliveries.filter(status="delivered").count()
        received = sum(1 for path, _id, _ok in seen if path == "/hooks")
        return notifications, waiting, max(0, delivered - received)

    started = time.monotonic()
    while any(left()) and time.monotonic() - started < seconds:
        time.sleep(2)
    time.sleep(3)  # a late repeat would show up now
    notifications, waiting, unreceived = left()
    print(
        f"outbox drained {time.monotonic() - started:.1f} s after the traffic "
        f"stopped; left: {notifications} notifications, {waiting} deliveries waiting, "
        f"{unreceived} delivered but not received"
    )


def baseline() -> dict:
    """Return the last ids and the units on hand before the run: it checks what it adds."""
    from django.db.models import Max, Sum

    from fulfillment.models import Shipment
    from inventory.models import StockLevel
    from orders.models import Order
    from tracking.models import Notification

    since = {
        name: model.objects.aggregate(top=Max("pk"))["top"] or 0
        for name, model in (
            ("order", Order),
            ("shipment", Shipment),
            ("notification", Notification),
        )
    }
    since["on_hand"] = StockLevel.objects.aggregate(units=Sum("on_hand"))["units"]
    return since


def receivers_register(channel, receiver_url: str, receiver_secrets: dict):
    """Point a new webhook endpoint and the channel's app push at the receiver; return the endpoint."""
    from tracking import outbound_webhooks
    from tracking.webhook_models import WebhookEndpoint, WebhookEvent

    WebhookEndpoint.objects.update(active=False)  # an earlier run's receiver is gone
    endpoint = outbound_webhooks.webhook_endpoint_create(
        url=f"{receiver_url}/hooks", event_types=WebhookEvent.values, actor=None
    )
    receiver_secrets["/hooks"] = endpoint.secret
    channel.webhook_secret = secrets.token_hex(16)
    channel.push_url = f"{receiver_url}/app-push"
    channel.push_secret = secrets.token_hex(16)
    channel.save(update_fields=["webhook_secret", "push_url", "push_secret"])
    receiver_secrets["/app-push"] = channel.push_secret
    return endpoint


def stock_checks(since: dict) -> list[tuple[str, bool, str]]:
    from django.db.models import Sum

    from fulfillment.models import ShipmentLine
    from inventory.models import Reservation, StockLevel, StockMovement
    from orders.models import Order, OrderLine

    levels = list(StockLevel.objects.all())
    reservations = {
        (r["product"], r["warehouse"]): r["units"]
        for r in Reservation.objects.values("product", "warehouse").annotate(
            units=Sum("quantity")
        )
    }
    ledger = {
        (m["product"], m["warehouse"]): (m["on_hand"], m["reserved"])
        for m in StockMovement.objects.values("product", "warehouse").annotate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
    }
    reserved = sum(level.reserved for level in levels)
    holding = [Order.Status.READY_TO_FULFILL, Order.Status.IN_FULFILLMENT]
    unshipped = OrderLine.objects.filter(order__status__in=holding).aggregate(
        units=Sum("quantity")
    )["units"]
    shipped = ShipmentLine.objects.filter(
        shipment__pk__gt=since["shipment"], shipment__shipped_at__isnull=False
    ).aggregate(units=Sum("quantity"))["units"]
    gone = since["on_hand"] - sum(level.on_hand for level in levels)
    return [
        (
            "every stock level: reserved == its reservations",
            all(
                level.reserved
                == reservations.get((level.product_id, level.warehouse_id), 0)
                for level in levels
            ),
            f"{reserved} reserved, {sum(reservations.values())} in reservations",
        ),
        (
            "units reserved == units ordered on orders not yet shipped",
            reserved == (unshipped or 0),
            f"{reserved} == {unshipped or 0}",
        ),
        (
            "every stock level: on hand and reserved == its ledger (movements)",
            all(
                (level.on_hand, level.reserved)
                == ledger.get((level.product_id, level.warehouse_id), (0, 0))
                for level in levels
            ),
            f"{len(levels)} levels",
        ),
        (
            "units gone from the shelf == units in parcels shipped",
            gone == (shipped or 0),
            f"{gone} == {shipped or 0}",
        ),
    ]


def outbox_checks(since: dict, endpoint, seen, new_orders: int):
    from fulfillment.models import Shipment
    from orders.models import Order
    from tracking.models import Notification
    from tracking.webhook_models import WebhookDelivery

    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    delivered = deliveries.filter(status="delivered").count()
    hooks = [(i, ok) for path, i, ok in seen if path == "/hooks"]
    pushes = [(i, ok) for path, i, ok in seen if path == "/app-push"]
    notifications = Notification.objects.filter(pk__gt=since["notification"])
    sent_pushes = notifications.filter(channel="push", status="sent").count()
    by_status = count_by(notifications, "status")
    events = count_by(deliveries, "event_type")
    expected = {
        "order.created": new_orders,
        "order.allocated": new_orders,
        "order.shipped": Shipment.objects.filter(
            pk__gt=since["shipment"], shipped_at__isnull=False
        ).count(),
        "order.delivered": Order.objects.filter(
            pk__gt=since["order"], status=Order.Status.DELIVERED
        ).count(),
    }
    expected = {event: count for event, count in expected.items() if count}
    print(f"webhook deliveries by event: {events}; notifications: {by_status}")
    return [
        (
            "webhook deliveries received == delivered, each id once, signatures valid",
            len(hooks) == delivered == len({i for i, _ok in hooks})
            and all(ok for _i, ok in hooks),
            f"{len(hooks)} received, {len({i for i, _ok in hooks})} distinct ids, "
            f"{delivered} delivered, {sum(1 for _i, ok in hooks if not ok)} bad",
        ),
        (
            "webhook outbox empty (nothing pending, failed or given up)",
            deliveries.exclude(status="delivered").count() == 0,
            str(count_by(deliveries, "status")),
        ),
        (
            "order.created and order.allocated once per new order, order.shipped "
            "once per parcel shipped, order.delivered once per order delivered",
            events == expected,
            f"{events} == {expected}",
        ),
        (
            "app push messages received == sent, each once, signatures valid",
            len(pushes) == sent_pushes == len({i for i, _ok in pushes})
            and all(ok for _i, ok in pushes),
            f"{len(pushes)} received, {len({i for i, _ok in pushes})} distinct, "
            f"{sent_pushes} sent",
        ),
        (
            "notification outbox: none pending or failed",
            not by_status.get("pending") and not by_status.get("failed"),
            str(by_status),
        ),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument(
        "--think", type=float, default=0.1, help="mean pause between requests (s)"
    )
    parser.add_argument("--database", default="oms_bench_load")
    parser.add_argument(
        "--keep", action="store_true", help="reuse the database of an earlier run"
    )
    parser.add_argument("--drain-seconds", type=float, default=300.0)
    parser.add_argument(
        "--private-redis",
        action="store_true",
        help="a redis-server of the run's own on a free port instead of db 13 of the "
        "machine's (whose queues another job's tests may purge or flush)",
    )
    args = parser.parse_args()
    redis_url, private = REDIS_URL, None
    if args.private_redis:
        sys.path.insert(0, str(ROOT))
        from tests.processes import PrivateRedis

        private = PrivateRedis(Path(tempfile.mkdtemp(prefix="oms-load-redis-")))
        private.start()
        redis_url = private.url

    run = time.strftime("%m%d%H%M%S")
    aftership_secret = secrets.token_hex(16)
    server_settings = {
        "REDIS_URL": redis_url,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        "AFTERSHIP_WEBHOOK_SECRET": aftership_secret,
        "TRACK_LOOKUP_LIMIT": str(10**9),
        "SMS_QUIET_HOURS": "00:00-00:00",
    }
    os.environ.update(server_settings)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    url, channel, carrier, token = setup(args)

    from django.db import connection

    from orders.models import Order

    since = baseline()
    receiver_secrets = {}
    receiver_url, seen = signed_receiver(receiver_secrets)
    endpoint = receivers_register(channel, receiver_url, receiver_secrets)
    connection.close()

    processes, workdir = processes_start(bench_env(url, **server_settings), run)
    print(f"server, worker and beat logs in {workdir}", flush=True)
    shop = Shop(run, token, channel.webhook_secret, aftership_secret)
    try:
        time.sleep(5)  # the worker connects to Redis
        wall, samples = traffic(shop, args, since["order"], carrier, processes)
        print(
            f"Mixed load, {args.minutes:g} min, {args.clients} clients "
            f"(think {args.think:g} s), gunicorn -w 4, celery worker -c 2 + beat, "
            f"PostgreSQL {args.database}, Redis {redis_url}"
        )
        errors = traffic_report(shop.stats, wall)
        print("memory, sampled every 10 s:")
        print("\n".join(memory_report(samples)))
        outbox_drain(
            since=since, endpoint=endpoint, seen=seen, seconds=args.drain_seconds
        )
    finally:
        for process in reversed(processes.values()):
            process_stop(process)
        if private:
            private.stop()

    new_orders = set(
        Order.objects.filter(pk__gt=since["order"], channel=channel).values_list(
            "number", flat=True
        )
    )
    told = shop.told_created
    checks = [
        (
            "orders told created == new orders of the channel in the database",
            len(told) == len(set(told)) == len(new_orders) and set(told) == new_orders,
            f"{len(told)} told ({len(set(told))} distinct), {len(new_orders)} in DB",
        ),
        *stock_checks(since),
        *outbox_checks(since, endpoint, seen, len(new_orders)),
        ("no request errors", errors == 0, f"{errors} errors"),
    ]
    print(
        "orders of the run now: "
        f"{count_by(Order.objects.filter(pk__gt=since['order']), 'status')}"
    )
    print("checks:")
    for name, ok, detail in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
    sys.exit(0 if all(ok for _name, ok, _detail in checks) else 1)


if __name__ == "__main__":
    main()
