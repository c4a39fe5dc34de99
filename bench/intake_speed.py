"""In-process order intake: processes call the intake service directly on PostgreSQL.

    .venv/bin/python bench/intake_speed.py [--processes 8] [--orders 4000] [--hot]

Each order goes through ``orders.intake.order_intake`` exactly as an API order does
after parsing: idempotency check, customer match, validation, pricing, stock
reservation (cash on delivery, so stock is reserved at intake), events and the
notification outbox, in one transaction (``--batch N``: N orders per transaction
through the bulk path imports use, under the same rules). Prints orders/s and p50/p99 per order,
then runs the plain-SQL baseline (``../shared/bench``) with pgbench on the same
server and prints ours as a share of it. ``--hot`` puts every order on one SKU;
the run then also checks that no unit was sold twice.
"""

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import django_setup, fresh_database, percentile, pg_baseline  # noqa: E402

ADDRESS = {
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "address_detail": "科技园路1号",
    "postal_code": "518000",
}


def seed(url: str, skus: int, units: int):
    django_setup(url)
    from decimal import Decimal

    from inventory.models import Product, StockLevel, StockMovement, Warehouse
    from orders.models import Channel

    Channel.objects.create(code="web", name="官网", kind="web")
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


def worker(args):
    url, first, count, skus, batch = args
    django_setup(url)
    from django.db import connection

    from inventory.models import Product
    from orders.bulk import BulkItem, orders_create_bulk
    from orders.intake import order_fingerprint, order_intake
    from orders.models import Channel
    from orders.services import LineInput, OrderInput

    channel = Channel.objects.get(code="web")
    products = list(Product.objects.order_by("pk")[:skus])

    def order_input(n):
        return OrderInput(
            channel=channel,
            customer_name="张三",
            customer_phone=f"138{n % 100000000:08d}",
            lines=[LineInput(products[n % len(products)], 1)],
            payment_method="cod",
            address=ADDRESS,
            external_id=f"IN-{n}",
        )

    latencies = []
    for start in range(first, first + count, batch):
        numbers = range(start, min(start + batch, first + count))
        started = time.perf_counter()
        if batch == 1:
            n = numbers[0]
            order_intake(
                data=order_input(n),
                fingerprint=order_fingerprint({"n": n}),
                actor="bench",
            )
        else:
            orders_create_bulk(
                items=[BulkItem(data=order_input(n)) for n in numbers], actor="bench"
            )
        latencies += [time.perf_counter() - started] * len(numbers)
    connection.close()
    return latencies


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument("--hot", action="store_true", help="every order on one SKU")
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="orders per transaction: 1 is the API's path (order_intake); more "
        "goes through orders.bulk.orders_create_bulk, the import path",
    )
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    skus = 1 if args.hot else args.skus
    units = args.orders // 2 if args.hot else 1_000_000
    url = fresh_database("oms_bench_intake")
    seed(url, skus, units)
    per = args.orders // args.processes
    jobs = [(url, i * per, per, skus, args.batch) for i in range(args.processes)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(args.processes) as pool:
        started = time.perf_counter()
        results = pool.map(worker, jobs)
        wall = time.perf_counter() - started
    latencies = [x for r in results for x in r]
    throughput = len(latencies) / wall

    from inventory.models import StockLevel
    from orders.models import Order

    case = "one hot SKU" if args.hot else f"{skus} SKUs"
    path = "order_intake" if args.batch == 1 else f"bulk, {args.batch} per transaction"
    print(f"in-process intake ({case}, {args.processes} processes, {path}, PostgreSQL)")
    print(f"  orders:      {len(latencies)}")
    print(f"  throughput:  {throughput:.1f} orders/s")
    print(f"  latency p50: {percentile(latencies, 0.50) * 1000:.1f} ms (per call)")
    print(f"  latency p99: {percentile(latencies, 0.99) * 1000:.1f} ms (per call)")
    if args.hot:
        level = StockLevel.objects.get()
        ready = Order.objects.filter(status="ready_to_fulfill").count()
        waiting = Order.objects.filter(status="backordered").count()
        print(
            f"  {units} units: {ready} orders reserved, {waiting} backordered; "
            f"on hand {level.on_hand}, reserved {level.reserved}"
        )
    if not args.no_baseline:
        baseline = pg_baseline()
        if baseline:
            print(
                f"  plain-SQL baseline (../shared/bench, pgbench -c 8): "
                f"{baseline:,.0f} orders/s; ours is {100 * throughput / baseline:.1f}%"
            )


if __name__ == "__main__":
    main()
