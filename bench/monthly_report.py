"""Financial reports at scale: the sales report over a journal of 1,000,000 orders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x \\
        .venv/bin/python bench/monthly_report.py [--orders 1000000] [--keep]

Creates its own database ``oms_bench_report`` on DATABASE_URL's server (never the
database named in it) and writes a year of books with COPY: per order a sale entry
(goods, discount and VAT per order line, shipping income), a cost-of-goods entry per
product, a payment, a carrier charge, a settlement with its platform fee for
marketplace orders, and a refund for 3% of orders — the lines the posting services
write, with the orders, channels, products and warehouses their foreign keys need.
Then VACUUM ANALYZE (statistics, and the visibility map index-only scans need, as
autovacuum would leave it), and times ``billing.reports.sales_report`` (what the console page
calls) and ``receivables``: one month per day and per month, the whole year per
month, and one month filtered by channel, by SKU and by warehouse. Prints p50 and
max of ``--runs`` runs and the rows returned.

``--keep`` reuses the database of an earlier run with the same ``--orders``.
"""

import argparse
import json
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import django_setup, fresh_database, percentile  # noqa: E402

NAME = "oms_bench_report"
YEAR = 2026
CHANNELS = [
    ("web", "官网", "web", False),
    ("app", "App", "app", False),
    ("taobao", "淘宝店", "marketplace", True),
    ("jd", "京东店", "marketplace", True),
]
WAREHOUSES = [("hz", "杭州仓"), ("sh", "上海仓"), ("gz", "广州仓")]
# the chart's accounts (billing.journal)
BANK, ALIPAY, CUSTOMERS, COD, MARKETPLACE, INVENTORY = (
    "1001",
    "1012",
    "1122",
    "1123",
    "1124",
    "1405",
)
VAT, REVENUE, SHIPPING, DISCOUNTS, REFUNDS = "2221", "6001", "6051", "6002", "6003"
COGS, CARRIER, FEES = "6401", "6601", "6602"


def server_of(url: str) -> str:
    """Return DATABASE_URL without its database: the server the bench creates its own on."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def copy_text(value) -> str:
    """Return ``value`` as COPY's text format writes it (no tabs or backslashes here)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "obj"):  # a JSON value
        return json.dumps(value.obj)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


class Table:
    """Rows of one model's table as COPY text; the columns not given get their defaults."""

    def __init__(self, model, given: tuple[str, ...]):
        from django.db import connection

        self.name = model._meta.db_table
        self.columns = [f.column for f in model._meta.concrete_fields]
        defaults = [
            copy_text(f.get_db_prep_save(f.get_default(), connection=connection))
            for f in model._meta.concrete_fields
        ]
        # a row is a format string: defaults written in, the given columns as {}
        self.template = (
            "\t".join(
                "{}" if c in given else d.replace("{", "{{").replace("}", "}}")
                for c, d in zip(self.columns, defaults, strict=True)
            )
            + "\n"
        )
        order = [c for c in self.columns if c in given]
        assert sorted(order) == sorted(given), set(given) - set(order)
        self.positions = [given.index(c) for c in order]
        self.rows: list[str] = []
        self.count = 0

    def add(self, *values):
        ordered = [values[i] for i in self.positions]
        self.rows.append(
            self.template.format(*("\\N" if v is None else v for v in ordered))
        )

    def flush(self, cursor):
        columns = ", ".join(f'"{c}"' for c in self.columns)
        with cursor.copy(f'COPY "{self.name}" ({columns}) FROM STDIN') as copy:
            copy.write("".join(self.rows))
        self.count += len(self.rows)
        self.rows = []


def generate(url: str, orders: int, skus: int, seed: int = 7) -> dict:
    """Write the reference rows with the ORM, then orders and the journal with COPY."""
    import psycopg
    from django.db import connection

    from billing.journal import accounts_ensure
    from billing.journal_models import JournalEntry, JournalLine
    from inventory.models import Product, Warehouse
    from orders.models import Channel, Customer, Order

    rng = random.Random(seed)
    channels = [
        (Channel.objects.create(code=c, name=n, kind=k).pk, marketplace)
        for c, n, k, marketplace in CHANNELS
    ]
    warehouses = [Warehouse.objects.create(code=c, name=n).pk for c, n in WAREHOUSES]
    prices = [
        (rng.randrange(1990, 29990, 100), rng.randrange(500, 9000, 10))
        for _i in range(skus)
    ]
    products = Product.objects.bulk_create(
        Product(
            sku=f"SKU-{i:04d}",
            name=f"商品{i}",
            price=Decimal(cents(price)),
            cost=Decimal(cents(cost)),
        )
        for i, (price, cost) in enumerate(prices)
    )
    # a few SKUs sell much more than the rest
    catalogue = [(p.pk, *pc) for p, pc in zip(products, prices, strict=True)]
    weights = [1 / (i + 1) ** 0.6 for i in range(skus)]
    customer = Customer.objects.create(name="bench").pk
    account = {code: a.pk for code, a in accounts_ensure().items()}

    order_table = Table(
        Order,
        (
            "id",
            "number",
            "channel_id",
            "customer_id",
            "status",
            "payment_status",
            "payment_method",
            "recipient_name",
            "recipient_phone",
            "subtotal",
            "discount_total",
            "shipping_fee",
            "tax_total",
            "total",
            "placed_at",
            "created_at",
            "updated_at",
        ),
    )
    entry_table = Table(
        JournalEntry, ("id", "date", "kind", "source", "order_id", "created_at")
    )
    line_table = Table(
        JournalLine,
        (
            "id",
            "entry_id",
            "account_id",
            "debit",
            "credit",
            "date",
            "channel_id",
            "product_id",
            "warehouse_id",
        ),
    )
    connection.close()
    ids = {"entry": 0, "line": 0}

    def post(kind, source, day, order_id, channel_id, postings):
        """One balanced entry; postings are (account, debit, credit, product, warehouse) in cents."""
        assert sum(d - c for _a, d, c, _p, _w in postings) == 0
        ids["entry"] += 1
        entry = ids["entry"]
        moment = f"{day}T12:00:00+00:00"
        entry_table.add(entry, day, kind, source, order_id, moment)
        for code, debit, credit, product_id, warehouse_id in postings:
            if debit == credit == 0:
                continue
            ids["line"] += 1
            line_table.add(
                ids["line"],
                entry,
                account[code],
                cents(debit),
                cents(credit),
                day,
                channel_id,
                product_id,
                warehouse_id,
            )

    first_day = date(YEAR, 1, 1)
    days = (date(YEAR + 1, 1, 1) - first_day).days
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        # The bench writes consistent rows itself; foreign keys are not re-checked
        # row by row (superuser only), which keeps a million orders to minutes.
        cur.execute("SET session_replication_role = replica")
        for n in range(1, orders + 1):
            day = first_day + timedelta(days=(n - 1) * days // orders)
            channel, marketplace = rng.choice(channels)
            warehouse = rng.choice(warehouses)
            subtotal = discount = tax = 0
            goods, costs, refunds = [], [], []
            for product, price, cost in rng.choices(
                catalogue, weights=weights, k=rng.choice((1, 1, 2, 3))
            ):
                quantity = rng.choice((1, 1, 1, 2, 3))
                gross = price * quantity
                off = gross // 10 if rng.random() < 0.3 else 0
                line_tax = (gross - off) * 13 // 100
                subtotal, discount, tax = (
                    subtotal + gross,
                    discount + off,
                    tax + line_tax,
                )
                dims = (product, warehouse)
                goods += [
                    (REVENUE, 0, gross, *dims),
                    (DISCOUNTS, off, 0, *dims),
                    (VAT, 0, line_tax, *dims),
                ]
                costs += [
                    (COGS, cost * quantity, 0, *dims),
                    (INVENTORY, 0, cost * quantity, *dims),
                ]
                refunds.append((REFUNDS, gross - off, 0, *dims))
            shipping = rng.choice((0, 0, 800, 1000))
            total = subtotal - discount + shipping + tax
            placed = f"{day}T12:00:00+00:00"
            order_table.add(
                n,
                f"B{n:09d}",
                channel,
                customer,
                "delivered",
                "paid",
                "prepaid",
                "张三",
                "13800000000",
                cents(subtotal),
                cents(discount),
                cents(shipping),
                cents(tax),
                cents(total),
                placed,
                placed,
                placed,
            )
            whole = (None, None)
            post(
                "sale",
                f"order:{n}",
                day,
                n,
                channel,
                [
                    (CUSTOMERS, total, 0, *whole),
                    (SHIPPING, 0, shipping, *whole),
                    *goods,
                ],
            )
            post("cogs", f"shipment:{n}", day, n, channel, costs)
            paid_to = MARKETPLACE if marketplace else rng.choice((ALIPAY, BANK, COD))
            post(
                "payment",
                f"payment:{n}",
                day,
                n,
                channel,
                [(paid_to, total, 0, *whole), (CUSTOMERS, 0, total, *whole)],
            )
            post(
                "carrier_charge",
                f"parcel:{n}",
                day,
                n,
                channel,
                [(CARRIER, 600, 0, *whole), (BANK, 0, 600, *whole)],
            )
            later = min(day + timedelta(days=7), date(YEAR, 12, 31))
            if marketplace:
                fee = total * 5 // 100
                post(
                    "settlement",
                    f"settlement_line:{n}",
                    later,
                    n,
                    channel,
                    [
                        (BANK, total - fee, 0, *whole),
                        (FEES, fee, 0, *whole),
                        (MARKETPLACE, 0, total, *whole),
                    ],
                )
            if rng.random() < 0.03:
                back = refunds[:1]
                post(
                    "refund",
                    f"refund:{n}",
                    later,
                    n,
                    channel,
                    [*back, (BANK, 0, back[0][1], *whole)],
                )
            if n % 20_000 == 0 or n == orders:
                for table in (order_table, entry_table, line_table):
                    table.flush(cur)
                conn.commit()
        cur.execute("SET session_replication_role = DEFAULT")
        for table, seq in (
            ("orders_order", "id"),
            ("billing_journalentry", "id"),
            ("billing_journalline", "id"),
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{seq}'),"
                f" (SELECT max({seq}) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")
    return {
        "orders": order_table.count,
        "entries": entry_table.count,
        "lines": line_table.count,
    }


def timed(runs: int, call) -> tuple[float, float, object]:
    times, result = [], None
    for _i in range(runs):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 0.5), max(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--month", type=int, default=6, help="the month timed (1-12)")
    parser.add_argument(
        "--keep", action="store_true", help="reuse the data of an earlier run"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of the timed queries"
    )
    args = parser.parse_args()

    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must name a PostgreSQL server; the bench is about it.")
    server = server_of(given)
    url = f"{server}/{NAME}"
    reuse = args.keep and has_books(server, args.orders)
    if not reuse:
        started = time.perf_counter()
        url = fresh_database(NAME, admin_url=server)
        django_setup(url)
        made = generate(url, args.orders, args.skus)
        print(
            f"generated {made['orders']:,} orders, {made['entries']:,} journal entries,"
            f" {made['lines']:,} journal lines in {time.perf_counter() - started:.0f} s"
            " (COPY, then VACUUM ANALYZE)"
        )
    else:
        django_setup(url)
        print(f"reusing {NAME} ({args.orders:,} orders)")

    from django.db import connection

    from billing.reports import receivables, sales_report, sales_report_queryset

    month_start = date(YEAR, args.month, 1)
    month_end = (month_start + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    top_sku = "SKU-0000"
    cases = [
        ("one month per day", dict(date_from=month_start, date_to=month_end)),
        (
            "one month per month",
            dict(date_from=month_start, date_to=month_end, by="month"),
        ),
        (
            "one year per month",
            dict(date_from=date(YEAR, 1, 1), date_to=date(YEAR, 12, 31), by="month"),
        ),
        (
            "one month per month, channel taobao",
            dict(
                date_from=month_start, date_to=month_end, by="month", channel="taobao"
            ),
        ),
        (
            f"one month per month, SKU {top_sku} (the best seller)",
            dict(date_from=month_start, date_to=month_end, by="month", sku=top_sku),
        ),
        (
            "one year per month, SKU SKU-0250",
            dict(
                date_from=date(YEAR, 1, 1),
                date_to=date(YEAR, 12, 31),
                by="month",
                sku="SKU-0250",
            ),
        ),
        (
            "one month per month, warehouse hz",
            dict(date_from=month_start, date_to=month_end, by="month", warehouse="hz"),
        ),
    ]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average {load} on {os.cpu_count()} cores")
    print(f"{'report':<52} {'p50 ms':>8} {'max ms':>8} {'rows':>5}  net sales")
    for label, kwargs in cases:
        p50, worst, rows = timed(args.runs, lambda k=kwargs: sales_report(**k))
        net = sum(row.net_sales for row in rows)
        print(f"{label:<52} {p50:8.1f} {worst:8.1f} {len(rows):5d}  {net:,.2f}")
    p50, worst, owed = timed(args.runs, lambda: receivables(date_to=month_end))
    print(
        f"{'receivables at the end of the month':<52} {p50:8.1f} {worst:8.1f}"
        f"     -  COD {owed['cod']:,.2f}, marketplace {owed['marketplace']:,.2f}"
    )
    if args.explain:
        for label, kwargs in cases:
            kwargs.pop("by", None)
            qs = sales_report_queryset(**kwargs)
            print(f"\n-- {label}")
            with connection.cursor() as cur:
                sql, params = qs.query.sql_with_params()
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                print("\n".join(r[0] for r in cur.fetchall()))


def has_books(server: str, orders: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(f"{server}/{NAME}") as conn:
            found = conn.execute("SELECT max(id) FROM orders_order").fetchone()[0]
    except psycopg.Error:
        return False
    return found == orders


if __name__ == "__main__":
    main()
