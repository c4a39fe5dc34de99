"""API intake under load: concurrent clients POST orders to gunicorn on PostgreSQL.

    .venv/bin/python bench/api_intake.py [--clients 8] [--orders 2000] [--workers 4] [--hot]
                                         [--batch N]

Prints orders/s and p50/p99 latency. Every order is a new external id over 1,000 SKUs
(or, with --hot, all on one SKU), paid cash on delivery so stock is reserved at intake.
``--batch N`` sends N orders per request to /api/v1/orders/batch/ (latency is then
per request).
"""

import argparse
import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    bench_env,
    django_setup,
    fresh_database,
    gunicorn_start,
    percentile,
    pg_baseline,
    process_stop,
)

PORT = 8765


def seed(skus: int, units: int) -> str:
    from decimal import Decimal

    from inventory.models import Product, StockLevel, StockMovement, Warehouse
    from orders.models import Channel
    from orders.services import channel_token_issue

    channel = Channel.objects.create(code="web", name="官网", kind="web")
    warehouse = Warehouse.objects.create(code="hz", name="杭州仓", priority=1)
    products = Product.objects.bulk_create(
        Product(sku=f"SKU-{i:05d}", name=f"商品{i}", price=Decimal("19.90"))
        for i in range(skus)
    )
    StockLevel.objects.bulk_create(
        StockLevel(product=p, warehouse=warehouse, on_hand=units) for p in products
    )
    StockMovement.objects.bulk_create(
        StockMovement(
            product=p, warehouse=warehouse, kind="received", on_hand_delta=units
        )
        for p in products
    )
    return channel_token_issue(channel=channel)


def payload(n: int, sku: str) -> dict:
    return {
        "external_id": f"B-{n}",
        "customer": {"name": "张三", "phone": f"138{n % 100000000:08d}"},
        "shipping_address": {
            "province": "广东省",
            "city": "深圳市",
            "district": "南山区",
            "detail": f"科技园路{n % 300 + 1}号",
        },
        "lines": [{"sku": sku, "quantity": 1}],
        "payment_method": "cod",
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument("--hot", action="store_true", help="every order on one SKU")
    parser.add_argument("--batch", type=int, default=1, help="orders per request")
    args = parser.parse_args()

    url = fresh_database("oms_bench_api")
    django_setup(url)
    token = seed(args.skus, units=1_000_000)
    env = bench_env(
        url, REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    server = gunicorn_start(env, port=PORT, workers=args.workers)
    import requests

    try:
        latencies, errors = [], []
        counter = iter(range(0, args.orders, args.batch))
        lock = threading.Lock()
        rng = random.Random(1)
        created = []

        def next_orders():
            with lock:
                first = next(counter, None)
                if first is None:
                    return []
                return [
                    payload(
                        n,
                        "SKU-00000"
                        if args.hot
                        else f"SKU-{rng.randrange(args.skus):05d}",
                    )
                    for n in range(first, min(first + args.batch, args.orders))
                ]

        def send(session, orders) -> int:
            """Post the orders; return how many were created."""
            if args.batch == 1:
                response = session.post(
                    f"http://127.0.0.1:{PORT}/api/v1/orders/",
                    json=orders[0],
                    timeout=30,
                )
                return int(response.status_code == 201)
            response = session.post(
                f"http://127.0.0.1:{PORT}/api/v1/orders/batch/",
                json={"orders": orders},
                timeout=60,
            )
            if response.status_code != 200:
                return 0
            return sum(r["result"] == "created" for r in response.json()["results"])

        def client():
            session = requests.Session()
            session.headers["Authorization"] = f"Token {token}"
            while orders := next_orders():
                started = time.perf_counter()
                done = send(session, orders)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    created.append(done)
                    errors.extend(["not created"] * (len(orders) - done))

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        process_stop(server)

    case = "hot SKU" if args.hot else f"{args.skus} SKUs"
    per = (
        f"{args.batch} orders per request"
        if args.batch > 1
        else "one order per request"
    )
    print(
        f"API intake ({case}, {per}, {args.clients} clients, "
        f"gunicorn -w {args.workers}, PostgreSQL)"
    )
    print(f"  orders:      {sum(created)} created, {len(errors)} not")
    throughput = sum(created) / wall
    print(f"  throughput:  {throughput:.1f} orders/s")
    print(f"  request p50: {percentile(latencies, 0.50) * 1000:.1f} ms")
    print(f"  request p99: {percentile(latencies, 0.99) * 1000:.1f} ms")
    baseline = pg_baseline()
    if baseline:
        print(
            f"  plain-SQL baseline (../shared/bench, pgbench -c 8): {baseline:,.0f} "
            f"orders/s; ours is {100 * throughput / baseline:.2f}% of it"
        )


if __name__ == "__main__":
    main()
