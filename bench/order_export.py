"""Order list export: 100,000 orders as CSV and XLSX on PostgreSQL, time and memory.

    .venv/bin/python bench/order_export.py [--orders 100000]

Seeds orders with one line and one payment each (COPY, in chunks), then downloads
each export through the console view (the test client, signed in as the owner) in
a fresh process, reading the streamed answer, and prints rows, seconds, rows/s and
the process's peak memory against its peak after an empty export. Then reads the
whole order sync feed (/api/v1/sync/orders/) with a staff key, 500 orders a page.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PG_ADMIN_URL, django_setup, fresh_database  # noqa: E402

DATABASE = "oms_bench_export"


def seed(total: int, chunk: int = 10000):
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from billing.models import Payment
    from config.bulk import bulk_insert
    from inventory.models import Product
    from orders.models import Channel, Customer, Order, OrderLine

    channel = Channel.objects.create(code="web", name="官网", kind="web")
    product = Product.objects.create(sku="TEA-001", name="红茶", price=Decimal("64"))
    now = timezone.now()
    for start in range(0, total, chunk):
        with transaction.atomic():
            customers = [
                Customer(name="张三", phone=f"+86138{n:08d}")
                for n in range(start, min(start + chunk, total))
            ]
            bulk_insert(Customer, customers, set_ids=True)
            orders = [
                Order(
                    number=f"B{start + i:09d}",
                    channel=channel,
                    customer=c,
                    status="shipped",
                    payment_status="paid",
                    payment_method="prepaid",
                    recipient_name="张三",
                    recipient_phone=c.phone,
                    province="广东省",
                    city="深圳市",
                    district="南山区",
                    address_detail=f"科技园路{i}号",
                    # One in ten notes tries a formula, as hostile input would.
                    buyer_note='=HYPERLINK("x")' if i % 10 == 0 else "请尽快发货",
                    subtotal=Decimal("128.00"),
                    total=Decimal("128.00"),
                    placed_at=now,
                )
                for i, c in enumerate(customers)
            ]
            bulk_insert(Order, orders, set_ids=True)
            bulk_insert(
                OrderLine,
                [
                    OrderLine(
                        order=o,
                        product=product,
                        sku="TEA-001",
                        name="红茶",
                        list_price=Decimal("64"),
                        unit_price=Decimal("64"),
                        quantity=2,
                        line_total=Decimal("128.00"),
                    )
                    for o in orders
                ],
            )
            bulk_insert(
                Payment,
                [
                    Payment(order=o, method="alipay", amount=Decimal("128.00"))
                    for o in orders
                ],
            )


def peak_mb() -> float:
    """Return this process's peak resident memory in MB.

    VmHWM, not getrusage: ru_maxrss carries the parent's peak across fork and exec.
    """
    status = Path("/proc/self/status").read_text()
    kb = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return round(int(kb.split()[1]) / 1024, 1)


def measure(kind: str, fmt: str) -> dict:
    """Download one export through the view; return rows, seconds and peak memory growth."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="bench-owner"))
    # Warm up (URLs, templates, the first query) on an export of nothing.
    warm = client.get(f"/console/orders/export/{kind}/", {"format": fmt, "q": "-"})
    b"".join(warm.streaming_content)
    before = peak_mb()
    started = time.perf_counter()
    response = client.get(f"/console/orders/export/{kind}/", {"format": fmt})
    size = 0
    rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n") if fmt == "csv" else 0
    seconds = time.perf_counter() - started
    peak = peak_mb()
    return {
        "status": response.status_code,
        "rows": rows - 1 if fmt == "csv" else None,
        "bytes": size,
        "seconds": round(seconds, 1),
        "warm_peak_mb": before,
        "peak_mb": peak,
    }


def measure_sync(limit: int = 500) -> dict:
    """Read the whole order sync feed with a staff key, page by page; return pages and seconds."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from orders.staff_tokens import staff_token_issue

    _token, key = staff_token_issue(
        user=get_user_model().objects.get(username="bench-owner"), name="bench"
    )
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {key}")
    client.get("/api/v1/sync/orders/", {"limit": 1})  # warm up
    before = peak_mb()
    started, query, pages, orders, slowest = time.perf_counter(), {}, 0, 0, 0.0
    while True:
        page_started = time.perf_counter()
        body = client.get("/api/v1/sync/orders/", {**query, "limit": limit}).json()
        slowest = max(slowest, time.perf_counter() - page_started)
        pages, orders = pages + 1, orders + len(body["results"])
        query = {"cursor": body["next_cursor"]}
        if not body["has_more"]:
            break
    return {
        "pages": pages,
        "orders": orders,
        "seconds": round(time.perf_counter() - started, 1),
        "slowest_page_ms": round(slowest * 1000),
        "warm_peak_mb": before,
        "peak_mb": peak_mb(),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100000)
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "FORMAT"))
    args = parser.parse_args()
    if args.measure:
        django_setup(f"{PG_ADMIN_URL}/{DATABASE}")
        if args.measure[0] == "sync":
            print(json.dumps(measure_sync(int(args.measure[1]))))
        else:
            print(json.dumps(measure(*args.measure)))
        return
    url = fresh_database(DATABASE)
    django_setup(url)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from orders.roles import OWNER

    started = time.perf_counter()
    seed(args.orders)
    from django.db import connection

    with connection.cursor() as cursor:  # as autovacuum would soon after a load
        cursor.execute("ANALYZE")
    owner = get_user_model().objects.create_user("bench-owner")
    owner.groups.add(Group.objects.get(name=OWNER))
    print(f"seeded {args.orders} orders in {time.perf_counter() - started:.0f} s")
    for kind, fmt in [("orders", "csv"), ("lines", "csv"), ("orders", "xlsx")]:
        done = subprocess.run(
            [sys.executable, __file__, "--measure", kind, fmt],
            env={**os.environ, "DATABASE_URL": url},
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rate = args.orders / result["seconds"] if result["seconds"] else 0
        print(
            f"{kind} {fmt}: HTTP {result['status']}, {result['bytes'] / 1e6:.1f} MB, "
            f"{result['seconds']} s ({rate:,.0f} orders/s), peak memory "
            f"{result['peak_mb']} MB ({result['warm_peak_mb']} MB after an empty "
            "export)"
            + (f", {result['rows']} rows" if result["rows"] is not None else "")
        )
    done = subprocess.run(
        [sys.executable, __file__, "--measure", "sync", "500"],
        env={**os.environ, "DATABASE_URL": url, "SYNC_SETTLE_SECONDS": "0"},
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"sync feed, 500 orders a page: {result['orders']} orders in {result['pages']} "
        f"pages, {result['seconds']} s ({result['orders'] / result['seconds']:,.0f} "
        f"orders/s), slowest page {result['slowest_page_ms']} ms, peak memory "
        f"{result['peak_mb']} MB ({result['warm_peak_mb']} MB after one order)"
    )


if __name__ == "__main__":
    main()
