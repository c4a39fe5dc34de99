"""Analytics pages at scale: each page's server time over a year of orders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x \\
        .venv/bin/python bench/analytics_speed.py [--orders 1000000] [--keep]

Creates its own database ``oms_bench_analytics`` on DATABASE_URL's server and writes,
with COPY, a year of orders ending now (placed with a daytime peak, four channels,
1-3 lines of 500 SKUs), each as far along its timeline as its age allows: status
events (a few held for correction or short of stock), a parcel with its packing for
those picked, delivery, closing; 4% cancelled, 3% of parcels delayed or lost, 2% of
delivered orders with a return. Then ANALYZE, copies the stage times
(``stage_times_catch_up``, timed: the first copy of an existing shop), counts every
day's DailyFigures (``daily_figures_catch_up``, timed; with ``--keep`` the database is
migrated first, so a database kept from before the table gets it), and requests
each analytics page through Django's test client as the owner for the last 30 days,
all channels and one channel: prints p50 and max of ``--runs`` runs and the queries,
with PostgreSQL's default ``random_page_cost`` and with 1.1 (SSD storage).
"""

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import django_setup, fresh_database, percentile  # noqa: E402
from monthly_report import Table, cents, server_of  # noqa: E402

NAME = "oms_bench_analytics"
CHANNELS = [
    ("web", "官网", "web"),
    ("app", "App", "app"),
    ("taobao", "淘宝店", "marketplace"),
    ("jd", "京东店", "marketplace"),
]
# Orders per hour of the day: quiet at night, peaks at 10:00 and 21:00.
HOUR_WEIGHTS = [
    1,
    1,
    1,
    1,
    1,
    1,
    2,
    3,
    5,
    8,
    10,
    9,
    8,
    7,
    7,
    7,
    7,
    7,
    8,
    9,
    11,
    12,
    8,
    4,
]
# Mean hours each stage takes (exponential), the stages as in orders.analytics.
MEAN_HOURS = {
    "validated": 0.3,
    "paid": 1.0,
    "allocated": 0.2,
    "picked": 6.0,
    "packed": 0.5,
    "shipped": 3.0,
    "delivered": 50.0,
    "closed": 72.0,
}
PROVINCES = ["广东省", "浙江省", "江苏省", "上海市", "北京市", "四川省"]
PAGES = ["", "products/", "channels/", "process/", "process/allocated/", "exceptions/"]


def generate(url: str, orders: int, seed: int = 11) -> None:
    """Write the reference rows with the ORM, then the year of orders with COPY."""
    import psycopg
    from django.utils import timezone

    from fulfillment.models import Carrier, Shipment
    from fulfillment.picking_models import Packing
    from fulfillment.return_models import ReturnLine, ReturnRequest
    from inventory.models import Product, StockLevel, Warehouse
    from orders.models import Channel, Customer, Order, OrderEvent, OrderLine
    from tracking.models import ParcelException

    rng = random.Random(seed)
    channels = [
        Channel.objects.create(code=c, name=n, kind=k).pk for c, n, k in CHANNELS
    ]
    warehouses = [
        Warehouse.objects.create(code=c, name=n, province=p, priority=i).pk
        for i, (c, n, p) in enumerate(
            [("hz", "杭州仓", "浙江省"), ("gz", "广州仓", "广东省")]
        )
    ]
    carriers = [
        Carrier.objects.create(code=c, name=n).pk
        for c, n in [("sf", "顺丰速运"), ("zto", "中通快递"), ("yto", "圆通速递")]
    ]
    catalogue = []
    for n in range(500):
        price = rng.choice((1990, 3990, 5990, 8800, 12800, 29900))
        product = Product.objects.create(
            sku=f"SKU-{n:04d}", name=f"商品 {n}", price=cents(price), cost="10.00"
        )
        catalogue.append((product.pk, product.sku, product.name, price))
        for warehouse in warehouses:
            StockLevel.objects.create(
                product=product, warehouse_id=warehouse, on_hand=rng.randint(0, 400)
            )
    weights = [1 / (i + 1) for i in range(len(catalogue))]  # a few sell most
    customer = Customer.objects.create(name="张三", phone="").pk

    order_table = Table(
        Order,
        (
            "id",
            "number",
            "channel_id",
            "customer_id",
            "status",
            "payment_method",
            "recipient_name",
            "recipient_phone",
            "province",
            "subtotal",
            "total",
            "placed_at",
            "created_at",
            "updated_at",
        ),
    )
    line_table = Table(
        OrderLine,
        (
            "id",
            "order_id",
            "product_id",
            "sku",
            "name",
            "list_price",
            "unit_price",
            "quantity",
            "line_total",
        ),
    )
    event_table = Table(
        OrderEvent,
        ("id", "order_id", "kind", "from_status", "to_status", "data", "created_at"),
    )
    shipment_table = Table(
        Shipment,
        (
            "id",
            "order_id",
            "warehouse_id",
            "carrier_id",
            "tracking_number",
            "status",
            "created_at",
            "shipped_at",
            "delivered_at",
        ),
    )
    packing_table = Table(Packing, ("id", "shipment_id", "started_at", "packed_at"))
    exception_table = Table(
        ParcelException,
        ("id", "shipment_id", "kind", "reason", "since", "created_at"),
    )
    return_table = Table(
        ReturnRequest,
        (
            "id",
            "number",
            "order_id",
            "status",
            "reason",
            "warehouse_id",
            "requested_at",
        ),
    )
    return_line_table = Table(
        ReturnLine, ("id", "return_request_id", "order_line_id", "quantity")
    )
    tables = [
        order_table,
        line_table,
        event_table,
        shipment_table,
        packing_table,
        exception_table,
        return_table,
        return_line_table,
    ]

    now = timezone.now()
    start = now - timedelta(days=365)
    line_id = shipment_id = return_id = event_id = exception_id = 0
    S = Order.Status
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        for n in range(1, orders + 1):
            day = start + timedelta(days=(n - 1) * 365 / orders)
            placed = day.replace(
                hour=rng.choices(range(24), HOUR_WEIGHTS)[0],
                minute=rng.randrange(60),
                second=rng.randrange(60),
            )
            if placed >= now:
                placed = now - timedelta(minutes=rng.randrange(1, 600))
            channel = rng.choice(channels)
            cod = rng.random() < 0.3
            events = []

            def move(at, from_status, to_status, data="{}", events=events):
                events.append((from_status, to_status, data, at))

            # The timeline, stage by stage, as far as the order's age allows.
            at = {"received": placed}
            held = rng.random() < 0.02
            short = rng.random() < 0.03
            step = placed
            for stage, mean in MEAN_HOURS.items():
                hours = rng.expovariate(1 / mean)
                if stage == "validated" and held:
                    hours += rng.expovariate(1 / 20)
                if stage == "paid" and cod:
                    hours = 0
                if stage == "allocated" and short:
                    hours += rng.expovariate(1 / 30)
                step = step + timedelta(hours=hours)
                if step > now:
                    break
                at[stage] = step
            cancelled = rng.random() < 0.04 and "shipped" not in at
            if held:
                problems = '{"problems": [{"code": "phone_invalid", "field": "recipient_phone"}]}'
                move(
                    placed + timedelta(minutes=1),
                    S.RECEIVED,
                    S.NEEDS_CORRECTION,
                    problems,
                )
            status = S.NEEDS_CORRECTION if held else S.RECEIVED
            if "validated" in at:
                after = S.READY_TO_FULFILL if cod else S.AWAITING_PAYMENT
                move(at["validated"], status, after)
                status = after
            if "paid" in at and status == S.AWAITING_PAYMENT:
                status_next = S.BACKORDERED if short else S.READY_TO_FULFILL
                move(at["paid"], status, status_next)
                status = status_next
            lines = []
            for product, sku, name, price in rng.choices(
                catalogue, weights=weights, k=rng.choice((1, 1, 2, 3))
            ):
                quantity = rng.choice((1, 1, 1, 2, 3))
                line_id += 1
                lines.append((line_id, product, sku, name, price, quantity))
            if short and status in (S.READY_TO_FULFILL, S.BACKORDERED):
                if status == S.READY_TO_FULFILL:
                    move(
                        at.get("paid", at["validated"]),
                        status,
                        S.BACKORDERED,
                        f'{{"shortages": [{{"sku": "{lines[0][2]}", "wanted": 1, '
                        '"available": 0}]}',
                    )
                    status = S.BACKORDERED
                if "allocated" in at:
                    move(at["allocated"], status, S.READY_TO_FULFILL)
                    status = S.READY_TO_FULFILL
            if cancelled and status not in (S.IN_FULFILLMENT,):
                move(placed + timedelta(hours=2), status, S.CANCELLED)
                status = S.CANCELLED
            elif "picked" in at:
                move(at["picked"], status, S.IN_FULFILLMENT)
                status = S.IN_FULFILLMENT
                shipment_id += 1
                shipped = at.get("shipped")
                delivered = at.get("delivered")
                state = (
                    "delivered"
                    if delivered
                    else "shipped"
                    if shipped
                    else "packed"
                    if "packed" in at
                    else "picking"
                )
                carrier = rng.choice(carriers)
                shipment_table.add(
                    shipment_id,
                    n,
                    rng.choice(warehouses),
                    carrier,
                    f"T{shipment_id:012d}" if shipped else "",
                    state,
                    at["allocated"].isoformat(),
                    shipped.isoformat() if shipped else None,
                    delivered.isoformat() if delivered else None,
                )
                packing_table.add(
                    shipment_id,
                    shipment_id,
                    at["picked"].isoformat(),
                    at["packed"].isoformat() if "packed" in at else None,
                )
                if shipped:
                    move(shipped, status, S.SHIPPED)
                    status = S.SHIPPED
                    if rng.random() < 0.03:
                        kind = "lost" if rng.random() < 0.2 else "delayed"
                        exception_id += 1
                        exception_table.add(
                            exception_id,
                            shipment_id,
                            kind,
                            "bench",
                            shipped.isoformat(),
                            shipped.isoformat(),
                        )
                if delivered:
                    move(delivered, status, S.DELIVERED)
                    status = S.DELIVERED
                    if rng.random() < 0.02:
                        return_id += 1
                        return_table.add(
                            return_id,
                            f"R{return_id:09d}",
                            n,
                            "completed",
                            rng.choice(("damaged", "changed_mind", "wrong_item")),
                            warehouses[0],
                            delivered.isoformat(),
                        )
                        return_line_table.add(return_id, return_id, lines[0][0], 1)
                if "closed" in at:
                    move(at["closed"], status, S.COMPLETED)
                    status = S.COMPLETED
            total = 0
            for lid, product, sku, name, price, quantity in lines:
                total += price * quantity
                line_table.add(
                    lid,
                    n,
                    product,
                    sku,
                    name,
                    cents(price),
                    cents(price),
                    quantity,
                    cents(price * quantity),
                )
            last = max([placed] + [e[3] for e in events])
            order_table.add(
                n,
                f"A{n:09d}",
                channel,
                customer,
                status,
                "cod" if cod else "prepaid",
                "张三",
                "13800000000",
                rng.choice(PROVINCES),
                cents(total),
                cents(total),
                placed.isoformat(),
                placed.isoformat(),
                last.isoformat(),
            )
            for from_status, to_status, data, when in events:
                event_id += 1
                event_table.add(
                    event_id,
                    n,
                    "status",
                    from_status,
                    to_status,
                    data,
                    when.isoformat(),
                )
            if n % 20_000 == 0:
                for table in tables:
                    table.flush(cur)
        for table in tables:
            table.flush(cur)
        for table in tables:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"greatest((SELECT max(id) FROM {table.name}), 1))"
            )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def timed(client, url, runs, params):
    from django.db import connection, reset_queries

    times = []
    for _run in range(runs):
        reset_queries()
        began = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times, len(connection.queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    server = server_of(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
    )
    name = f"{NAME}_{args.orders}"
    url = f"{server}/{name}" if args.keep else fresh_database(name, admin_url=server)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    django_setup(url)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from orders.analytics_services import daily_figures_catch_up, stage_times_catch_up
    from orders.models import Channel, Order
    from orders.roles import OWNER

    if args.keep:
        call_command("migrate", verbosity=0)
    else:
        began = time.perf_counter()
        generate(url, args.orders)
        print(
            f"generated {args.orders:,} orders in {time.perf_counter() - began:.0f} s"
        )
    began = time.perf_counter()
    copied = stage_times_catch_up(
        now=timezone.now() + timedelta(hours=1), batches=10**6
    )
    print(
        f"stage times copied: {copied:,} orders in {time.perf_counter() - began:.1f} s"
        f" (first copy; later runs copy only the orders changed)"
    )
    began = time.perf_counter()
    days = daily_figures_catch_up()
    print(
        f"daily figures counted: {days:,} days in {time.perf_counter() - began:.1f} s"
        f" (first count; later runs count only the days of the orders changed)"
    )
    settings.DEBUG = True  # connection.queries counts the queries
    print(
        f"orders {Order.objects.count():,}; last 30 days "
        f"{Order.objects.filter(placed_at__gte=timezone.now() - timedelta(days=30)).count():,}"
    )
    owner, _new = get_user_model().objects.get_or_create(username="bench-owner")
    owner.groups.add(Group.objects.get(name=OWNER))
    client = Client()
    client.force_login(owner)
    channel = Channel.objects.get(code="taobao").code
    # PostgreSQL's default random_page_cost (4) assumes spinning disks: it then
    # prefers scanning all order lines to fetching a month's lines by index. The
    # second round sets 1.1, as for SSD storage (ALTER DATABASE ... SET).
    for cost in ("4", "1.1"):
        with connection.cursor() as cursor:
            cursor.execute(f"SET random_page_cost = {cost}")
        print(f"random_page_cost {cost}; page (last 30 days)  p50 ms   max ms  queries")
        for page in PAGES:
            for label, params in (("all", {}), ("taobao", {"channel": channel})):
                times, queries = timed(
                    client, f"/console/analytics/{page}", args.runs, params
                )
                print(
                    f"/console/analytics/{page:<20} {label:<7}"
                    f"{percentile(times, 0.5):8.0f} {max(times):8.0f} {queries:8d}"
                )


if __name__ == "__main__":
    main()
