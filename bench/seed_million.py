"""A shop with a million orders, for timing the console at scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x \\
        .venv/bin/python bench/seed_million.py [--orders 1000000]

Creates its own database ``oms_bench_scale`` on DATABASE_URL's server (never the
database named in it; SQLite is refused), migrates it, and writes a year of orders
placed in Asia/Shanghai with COPY: customers (Chinese names, unique mobile numbers,
a few who order often), 1–5 lines per order, the timeline events, a parcel for every
order that left the warehouse (two for some) and carrier scans for the last month's
parcels. Channels, statuses and payment follow a shop's usual mix: marketplaces
bring half the orders, old orders are completed, the last days' are still moving.
The secondary indexes are dropped during the COPY and built after it, then VACUUM
ANALYZE. Prints rows per second per table and the time taken. ``bench/console_speed.py``
times the console against it.
"""

import argparse
import os
import random
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import django_setup, fresh_database  # noqa: E402
from monthly_report import Table, cents, server_of  # noqa: E402

NAME = "oms_bench_scale"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BATCH = 20_000
# code, name, kind, share of orders, external id prefix
CHANNELS = [
    ("web", "官网", "web", 18, ""),
    ("app", "App", "app", 22, ""),
    ("phone", "电话订购", "phone", 5, ""),
    ("taobao", "淘宝店", "marketplace", 33, "TB"),
    ("jd", "京东店", "marketplace", 22, "JD"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国红文辉玲婷雪梅鹏飞宇浩然子轩欣怡"
PLACES = [
    ("浙江省", "杭州市", "西湖区"),
    ("上海市", "上海市", "浦东新区"),
    ("广东省", "广州市", "天河区"),
    ("北京市", "北京市", "朝阳区"),
    ("江苏省", "南京市", "鼓楼区"),
    ("四川省", "成都市", "武侯区"),
]
# Orders per hour of the day (Shanghai): quiet nights, a lunch bump, an evening peak.
HOURS = [
    2,
    1,
    1,
    1,
    1,
    2,
    3,
    5,
    7,
    9,
    10,
    11,
    12,
    10,
    9,
    9,
    10,
    11,
    12,
    14,
    16,
    15,
    11,
    5,
]
# Statuses of orders older than ten days, and of the last ten days'.
SETTLED = {
    "completed": 80,
    "delivered": 6,
    "cancelled": 7,
    "returned": 2,
    "partially_returned": 1,
    "shipped": 2,
    "backordered": 1,
}
RECENT = {
    "received": 4,
    "needs_correction": 4,
    "awaiting_payment": 8,
    "review": 2,
    "backordered": 3,
    "ready_to_fulfill": 12,
    "in_fulfillment": 10,
    "partially_shipped": 2,
    "shipped": 25,
    "delivered": 20,
    "completed": 5,
    "cancelled": 5,
}
UNPAID = {"received", "needs_correction", "awaiting_payment", "cancelled"}
LEFT = {
    "partially_shipped",
    "shipped",
    "delivered",
    "completed",
    "returned",
    "partially_returned",
}
DELIVERED = {"delivered", "completed", "returned", "partially_returned"}


def _weighted(table: dict):
    return list(table), list(table.values())


def generate(url: str, orders: int, seed: int = 11) -> dict[str, tuple[int, float]]:
    """Write the reference rows with the ORM, the rest with COPY; return rows and
    seconds per table."""
    import psycopg
    from django.db import connection

    from fulfillment.models import Carrier, Shipment
    from inventory.models import Product, Warehouse
    from orders.models import Channel, Customer, Order, OrderEvent, OrderLine
    from tracking.models import TrackingEvent

    rng = random.Random(seed)
    channels = [
        (Channel.objects.create(code=c, name=n, kind=k).pk, share, prefix)
        for c, n, k, share, prefix in CHANNELS
    ]
    warehouses = [
        Warehouse.objects.create(code=c, name=n).pk
        for c, n in (("hz", "杭州仓"), ("sh", "上海仓"))
    ]
    carriers = [
        Carrier.objects.create(code=c, name=n).pk
        for c, n in (("sf", "顺丰速运"), ("zto", "中通快递"), ("yto", "圆通速递"))
    ]
    prices = [rng.randrange(990, 39990, 100) for _i in range(500)]
    products = Product.objects.bulk_create(
        Product(sku=f"SKU-{i:04d}", name=f"商品{i}", price=Decimal(cents(p)))
        for i, p in enumerate(prices)
    )
    catalogue = [
        (p.pk, p.sku, p.name, price) for p, price in zip(products, prices, strict=True)
    ]
    connection.close()

    customers = max(1, orders // 3)
    channel_ids = [c[0] for c in channels]
    channel_weights = [c[1] for c in channels]
    prefixes = {c[0]: c[2] for c in channels}
    settled, settled_w = _weighted(SETTLED)
    recent, recent_w = _weighted(RECENT)
    now = datetime.now(SHANGHAI).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=365)

    def phone(i):
        # a permutation of 0..10⁹, so every customer's number is unique
        return f"+861{'3456789'[i % 7]}{(i * 7_919 + 12_345) % 10**9:09d}"

    def name():
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        return rng.choice(SURNAMES) + given

    # placed times: any day of the year (weekends busier), hours as HOURS; sorted so
    # ids follow time as in a real shop, some orders sharing a second
    days = rng.choices(
        range(365),
        weights=[1.3 if d % 7 in (5, 6) else 1 for d in range(365)],
        k=orders,
    )
    hours = rng.choices(range(24), weights=HOURS, k=orders)
    placed = sorted(
        start + timedelta(days=d, hours=h, seconds=rng.randrange(3600))
        for d, h in zip(days, hours, strict=True)
    )
    placed = [min(p, now) for p in placed]

    tables = {
        "customers": Table(Customer, ("id", "name", "phone", "created_at")),
        "orders": Table(
            Order,
            (
                "id",
                "number",
                "channel_id",
                "external_id",
                "customer_id",
                "status",
                "payment_status",
                "payment_method",
                "recipient_name",
                "recipient_phone",
                "province",
                "city",
                "district",
                "address_detail",
                "subtotal",
                "shipping_fee",
                "total",
                "placed_at",
                "created_at",
                "updated_at",
            ),
        ),
        "lines": Table(
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
        ),
        "events": Table(
            OrderEvent,
            (
                "id",
                "order_id",
                "kind",
                "from_status",
                "to_status",
                "actor_label",
                "message",
                "created_at",
            ),
        ),
        "shipments": Table(
            Shipment,
            (
                "id",
                "order_id",
                "warehouse_id",
                "carrier_id",
                "tracking_number",
                "status",
                "tracking_status",
                "created_at",
                "shipped_at",
                "delivered_at",
            ),
        ),
        "scans": Table(
            TrackingEvent,
            (
                "id",
                "shipment_id",
                "occurred_at",
                "location",
                "description",
                "status",
                "source",
                "recorded_at",
            ),
        ),
    }
    spent = dict.fromkeys(tables, 0.0)
    ids = dict.fromkeys(("line", "event", "shipment", "scan"), 0)
    names = {}

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.cursor()
        cursor.execute("SET session_replication_role = replica")  # no FK triggers
        dropped = indexes_drop(cursor, [t.name for t in tables.values()])

        def flush():
            for key, table in tables.items():
                began = time.perf_counter()
                table.flush(cursor)
                spent[key] += time.perf_counter() - began

        for i in range(customers):
            names[i + 1] = name()
            tables["customers"].add(i + 1, names[i + 1], phone(i), start.isoformat())
            if len(tables["customers"].rows) >= BATCH:
                flush()
        per_day: dict[str, int] = {}
        for n, at in enumerate(placed, start=1):
            local = at.astimezone(SHANGHAI)
            day = local.strftime("%y%m%d")
            per_day[day] = per_day.get(day, 0) + 1
            channel = rng.choices(channel_ids, weights=channel_weights)[0]
            prefix = prefixes[channel]
            # a few regulars order often
            customer = 1 + int(customers * rng.random() ** 2)
            age = (now - at).days
            status = rng.choices(
                *(settled, settled_w) if age > 10 else (recent, recent_w)
            )[0]
            cod = channel in channel_ids[:3] and rng.random() < 0.1
            if status in UNPAID:
                payment = "unpaid"
            elif status in ("returned",):
                payment = "refunded"
            elif cod:
                payment = "cod_remitted" if status == "completed" else "cod_pending"
            else:
                payment = "paid"
            recipient = names[customer] if rng.random() < 0.9 else name()
            recipient_phone = (
                phone(customer - 1) if rng.random() < 0.92 else phone(customers + n)
            )
            province, city, district = rng.choice(PLACES)
            subtotal = 0
            for _line in range(
                rng.choices((1, 2, 3, 4, 5), weights=(50, 25, 13, 8, 4))[0]
            ):
                pk, sku, pname, price = catalogue[int(500 * rng.random() ** 1.8)]
                quantity = rng.choices((1, 2, 3), weights=(75, 18, 7))[0]
                subtotal += price * quantity
                ids["line"] += 1
                tables["lines"].add(
                    ids["line"],
                    n,
                    pk,
                    sku,
                    pname,
                    cents(price),
                    cents(price),
                    quantity,
                    cents(price * quantity),
                )
            shipping = 0 if subtotal >= 9900 else 1000
            iso = at.isoformat()
            tables["orders"].add(
                n,
                f"{day}{per_day[day]:06d}",
                channel,
                f"{prefix}{4_000_000_000 + n * 13}" if prefix else "",
                customer,
                status,
                payment,
                "cod" if cod else "prepaid",
                recipient,
                recipient_phone,
                province,
                city,
                district,
                f"文三路{n % 500}号{n % 30}栋",
                cents(subtotal),
                cents(shipping),
                cents(subtotal + shipping),
                iso,
                iso,
                (at + timedelta(days=min(age, 3))).isoformat(),
            )
            event_times = [at + timedelta(minutes=m) for m in (0, 5, 60 * 20, 60 * 30)]
            timeline = [("created", "", "received", "")]
            if status != "received":
                if status in LEFT:
                    timeline += [
                        ("payment", "", "", "paid"),
                        ("status", "received", "ready_to_fulfill", ""),
                        ("status", "in_fulfillment", status, ""),
                    ]
                else:
                    timeline.append(("status", "received", status, ""))
            for (kind, from_, to, message), when in zip(
                timeline, event_times, strict=False
            ):
                ids["event"] += 1
                tables["events"].add(
                    ids["event"], n, kind, from_, to, "", message, when.isoformat()
                )
            parcels = 0 if status not in LEFT else (2 if rng.random() < 0.04 else 1)
            if status == "in_fulfillment":
                parcels = 1
            for _parcel in range(parcels):
                ids["shipment"] += 1
                sid = ids["shipment"]
                shipped_at = at + timedelta(hours=20)
                delivered = status in DELIVERED and shipped_at + timedelta(days=2) < now
                left = status != "in_fulfillment"
                tables["shipments"].add(
                    sid,
                    n,
                    rng.choice(warehouses),
                    rng.choice(carriers),
                    f"SF{1_300_000_000_000 + sid}" if left else "",
                    ("delivered" if delivered else "shipped") if left else "picking",
                    ("delivered" if delivered else "in_transit") if left else "",
                    iso,
                    shipped_at.isoformat() if left else None,
                    (shipped_at + timedelta(days=2)).isoformat() if delivered else None,
                )
                if left and age <= 30:
                    scans = [("info_received", "已揽收"), ("in_transit", "运输中")]
                    if delivered:
                        scans.append(("delivered", "已签收"))
                    for k, (scan, text) in enumerate(scans):
                        when = (shipped_at + timedelta(days=k)).isoformat()
                        ids["scan"] += 1
                        tables["scans"].add(
                            ids["scan"], sid, when, city, text, scan, "demo", when
                        )
            if n % BATCH == 0:
                flush()
        flush()
        cursor.execute("SET session_replication_role = DEFAULT")
        began = time.perf_counter()
        indexes_create(cursor, dropped)
        spent["indexes"] = time.perf_counter() - began
        for table in tables.values():
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'(SELECT max(id) FROM "{table.name}"))'
            )
        began = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")
        spent["vacuum analyze"] = time.perf_counter() - began
    counts = {key: table.count for key, table in tables.items()}
    return {key: (counts.get(key, 0), seconds) for key, seconds in spent.items()}


def indexes_drop(cursor, tables: list[str]) -> list[str]:
    """Drop the tables' indexes that back no constraint; return their definitions."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        [tables],
    )
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def indexes_create(cursor, definitions: list[str]):
    cursor.execute("SET maintenance_work_mem = '512MB'")
    for definition in definitions:
        cursor.execute(definition)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("seed_million needs PostgreSQL: set DATABASE_URL=postgres://…")
    began = time.perf_counter()
    target = fresh_database(NAME, server_of(url))
    django_setup(target)
    migrated = time.perf_counter() - began
    print(f"database {NAME}: created and migrated in {migrated:.1f} s")
    figures = generate(target, args.orders)
    for key, (rows, seconds) in figures.items():
        rate = f"{rows / seconds:>10,.0f} rows/s" if rows and seconds else ""
        print(f"{key:<15} {rows:>10,} rows {seconds:8.1f} s {rate}")
    total = time.perf_counter() - began
    print(
        f"{args.orders:,} orders in {total / 60:.1f} min ({args.orders / total:,.0f} orders/s overall)"
    )
    print(f"DATABASE_URL={target}")


if __name__ == "__main__":
    main()
