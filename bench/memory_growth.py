"""What the web process keeps between requests: the mixed load's web mix in one process.

Runs the API intake (one in six sent again with the same key), the console (list by
status, search, order page, dashboard) and the status page (lookup, then the page) through
Django's test Client on a fresh PostgreSQL database, DEBUG off, tasks queued on a private
Redis. After ``--warmup`` requests it starts tracemalloc and compares the memory still
held after ``--requests`` more, by file and by traceback, and prints the RSS.

The test Client connects signal receivers on every request (``django.dispatch`` and
``weakref.finalize``, a few hundred bytes each); gunicorn does not, so those traces are
left out.

    .venv/bin/python bench/memory_growth.py --requests 4000
    .venv/bin/python bench/memory_growth.py --requests 500 --frames 10   # slower, deeper
"""

import argparse
import gc
import os
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PG_ADMIN_URL, ROOT, django_setup, fresh_database  # noqa: E402

SKUS = 1000
OWNER = ("bench-memory-owner", "bench-memory-password")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="oms_bench_memory")
    parser.add_argument("--keep", action="store_true", help="reuse the database")
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=1, help="traceback depth")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from tests.processes import PrivateRedis

    redis = PrivateRedis(Path(tempfile.mkdtemp(prefix="oms-memory-redis-")))
    redis.start()
    try:
        run(args, redis.url)
    finally:
        redis.stop()


def run(args, redis_url: str):
    os.environ.update(
        REDIS_URL=redis_url,
        DJANGO_DEBUG="false",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="testserver",
        TRACK_LOOKUP_LIMIT=str(10**9),
        SMS_QUIET_HOURS="00:00-00:00",
    )
    if args.keep:
        url = f"{PG_ADMIN_URL}/{args.database}"
    else:
        url = fresh_database(args.database)
    django_setup(url)
    from api_intake import payload, seed
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from orders.models import Channel
    from orders.roles import OWNER as OWNER_ROLE
    from orders.roles import roles_sync
    from orders.services import channel_token_issue

    assert not settings.DEBUG  # DEBUG keeps every query in connection.queries
    channel = Channel.objects.filter(code="web").first()
    token = channel_token_issue(channel=channel) if channel else seed(SKUS, 10**6)
    roles_sync()
    owner, _created = get_user_model().objects.get_or_create(username=OWNER[0])
    owner.set_password(OWNER[1])
    owner.is_staff = True
    owner.save()
    owner.groups.add(Group.objects.get(name=OWNER_ROLE))

    api = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE="en")
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert browser.login(username=OWNER[0], password=OWNER[1])
    customer = Client(HTTP_ACCEPT_LANGUAGE="en")
    tag = time.strftime("%m%d%H%M%S")
    placed: list[tuple[str, str]] = []
    counts: dict[str, int] = {}

    def check(kind, response, status):
        counts[kind] = counts.get(kind, 0) + 1
        if response.status_code != status:
            raise SystemExit(f"{kind}: HTTP {response.status_code}")
        return response

    def intake():
        order = payload(len(placed), f"SKU-{random.randrange(SKUS):05d}")
        order["external_id"] = f"M{tag}-{len(placed)}"
        post = lambda: api.post("/api/v1/orders/", order, "application/json")  # noqa: E731
        number = check("api intake", post(), 201).json()["number"]
        placed.append((number, order["customer"]["phone"]))
        if random.random() < 1 / 6:
            check("api intake, same key again", post(), 200)

    def console():
        number = random.choice(placed)[0]
        page, params, kind = random.choice(
            [
                ("/console/orders/", {"status": "ready_to_fulfill"}, "console list"),
                ("/console/orders/", {"q": number}, "console search"),
                (f"/console/orders/{number}/", {}, "console order page"),
                ("/console/", {}, "console dashboard"),
            ]
        )
        check(kind, browser.get(page, params), 200)

    def track():
        number, phone = random.choice(placed)
        data = {"number": number, "phone": phone}
        found = check("status page lookup", customer.post("/track/", data), 302)
        check("status page", customer.get(found["Location"]), 200)

    actions, weights = zip(*[(intake, 24), (console, 24), (track, 16)], strict=True)

    def requests(count):
        for _ in range(count):
            (random.choices(actions, weights)[0] if placed else intake)()

    random.seed(1)
    requests(args.warmup)
    gc.collect()
    print(f"after {args.warmup} requests of warm-up: RSS {rss_mb():.1f} MB", flush=True)
    tracemalloc.start(args.frames)
    gc.collect()
    first, rss_first = tracemalloc.take_snapshot(), rss_mb()
    step = max(1, args.requests // 5)
    done = 0
    while done < args.requests:
        requests(min(step, args.requests - done))
        done += min(step, args.requests - done)
        gc.collect()
        traced = tracemalloc.get_traced_memory()[0] / 1e6
        print(f"  +{done}: RSS {rss_mb():.1f} MB, traced {traced:.2f} MB", flush=True)
    last = tracemalloc.take_snapshot()
    leave_out = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "*/django/dispatch/dispatcher.py"),
        tracemalloc.Filter(False, "*/weakref.py"),
        tracemalloc.Filter(False, __file__),
    ]
    first, last = first.filter_traces(leave_out), last.filter_traces(leave_out)
    orders = counts.get("api intake", 0)
    print(f"\nRSS {rss_first:.1f} -> {rss_mb():.1f} MB; {orders} new orders; {counts}")
    by_file = last.compare_to(first, "filename")
    total = sum(s.size_diff for s in by_file)
    print(f"held after {args.requests} requests: {total / 1e3:.1f} kB", end="")
    print(f" ({total / max(orders, 1):.0f} bytes per new order)\n")
    for s in by_file[: args.top]:
        where = s.traceback[0].filename
        print(f"{s.size_diff / 1e3:9.1f} kB {s.count_diff:+8d} blocks  {where}")
    print()
    for s in last.compare_to(first, "traceback")[: args.top]:
        print(f"{s.size_diff / 1e3:9.1f} kB {s.count_diff:+8d} blocks")
        for line in s.traceback.format(limit=args.frames, most_recent_first=True):
            print("   ", line)


if __name__ == "__main__":
    main()
