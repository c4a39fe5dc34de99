"""Marketplace import speed: a generated Taobao 订单报表 imported on PostgreSQL.

    .venv/bin/python bench/import_speed.py [--rows 100000] [--skus 500]

Writes a GBK CSV the way Taobao's seller centre exports it (="…" guards on ids, a
leading ' on phones, 元 on money, space-separated addresses with the postcode in
brackets): one kind of item per order, matched to our products by listing title;
90% paid, 6% unpaid, 2% closed, 2% with an unknown item. Imports it, then imports it
again (everything unchanged), and prints rows/s for both, the peak memory of the
process reading the file and of the largest worker process (``IMPORT_WORKERS``), and
the plain-SQL intake baseline of the same PostgreSQL (to compare machines).
"""

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import django_setup, fresh_database, pg_baseline  # noqa: E402

HEADERS = [
    "订单编号",
    "买家会员名",
    "买家应付货款",
    "买家应付邮费",
    "总金额",
    "买家实际支付金额",
    "订单状态",
    "买家留言",
    "收货人姓名",
    "收货地址",
    "联系手机",
    "订单创建时间",
    "订单付款时间",
    "宝贝标题",
    "宝贝种类",
    "宝贝总数量",
    "订单关闭原因",
]
ADDRESSES = [
    "广东省 深圳市 南山区 科技园路{n}号(518057)",
    "浙江省 杭州市 西湖区 文三路{n}号(310012)",
    "北京 北京市 朝阳区 建国路{n}号(100022)",
    "上海 上海市 浦东新区 世纪大道{n}号(200120)",
    "四川省 成都市 武侯区 人民南路{n}号(610041)",
    "广东省 东莞市 长安镇 振安路{n}号(523850)",
]
NAMES = ["张三", "李四", "王小明", "赵六", "陈静", "刘洋"]


def seed(skus: int):
    from decimal import Decimal

    from inventory.models import Product, StockLevel, StockMovement, Warehouse
    from orders.models import Channel, ChannelListing

    channel = Channel.objects.create(
        code="taobao", name="淘宝店", kind="marketplace", import_platform="taobao"
    )
    warehouse = Warehouse.objects.create(code="hz", name="杭州仓", priority=1)
    products = Product.objects.bulk_create(
        Product(sku=f"TB-{i:05d}", name=f"商品{i}", price=Decimal("39.90"))
        for i in range(skus)
    )
    units = 10_000_000
    StockLevel.objects.bulk_create(
        StockLevel(product=p, warehouse=warehouse, on_hand=units) for p in products
    )
    StockMovement.objects.bulk_create(
        StockMovement(
            product=p, warehouse=warehouse, kind="received", on_hand_delta=units
        )
        for p in products
    )
    ChannelListing.objects.bulk_create(
        ChannelListing(channel=channel, code=f"宝贝{p.sku} 包邮", product=p)
        for p in products
    )
    return channel


def write_export(path: Path, rows: int, skus: int):
    import csv

    rng = random.Random(7)
    with path.open("w", encoding="gbk", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADERS)
        for n in range(rows):
            roll = rng.random()
            status = (
                "交易关闭"
                if roll < 0.02
                else "等待买家付款"
                if roll < 0.08
                else "买家已付款，等待卖家发货"
            )
            title = (
                "下架的宝贝"
                if 0.08 <= roll < 0.10
                else f"宝贝TB-{rng.randrange(skus):05d} 包邮"
            )
            count = rng.randint(1, 3)
            placed = f"2026-11-11 {n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}"
            goods = count * 39.90
            paid = goods - (5 if goods > 100 else 0)
            writer.writerow(
                [
                    f'="{3300000000000000000 + n}"',
                    f"tb_{n % 5000}",
                    f"{goods:.2f}元",
                    "0.00元",
                    f"{goods:.2f}元",
                    f"{paid:.2f}元",
                    status,
                    "",
                    NAMES[n % len(NAMES)],
                    ADDRESSES[n % len(ADDRESSES)].format(n=n % 300 + 1),
                    f"'1{rng.choice('3589')}{rng.randrange(10**9):09d}",
                    placed,
                    placed if status != "等待买家付款" else "",
                    title,
                    "1",
                    str(count),
                    "买家不想买了" if status == "交易关闭" else "",
                ]
            )


def run_import(channel, path: Path):
    from django.core.files import File

    from orders.imports import import_batch_create, import_batch_run

    with path.open("rb") as upload:
        batch = import_batch_create(
            channel=channel,
            file=File(upload, name=path.name),
            actor="bench",
            queue=False,
        )
    started = time.perf_counter()
    batch = import_batch_run(batch_id=batch.pk)
    return batch, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    url = fresh_database("oms_bench_import")
    django_setup(url)
    from django.conf import settings
    from django.db import connection

    from orders.models import Order

    channel = seed(args.skus)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ExportOrderList202611.csv"
        write_export(path, args.rows, args.skus)
        size_mb = path.stat().st_size / 1e6
        print(
            f"import of a Taobao 订单报表: {args.rows} rows, {size_mb:.1f} MB GBK CSV"
        )
        print(
            f"  database: PostgreSQL {connection.pg_version // 10000}; "
            f"IMPORT_WORKERS={settings.IMPORT_WORKERS}"
        )
        for label in ("first import", "same file again"):
            batch, seconds = run_import(channel, path)
            print(
                f"  {label}: {batch.rows_done / seconds:,.0f} rows/s "
                f"({seconds:.1f} s; created {batch.created_count}, "
                f"updated {batch.updated_count}, unchanged {batch.unchanged_count}, "
                f"rejected rows {batch.rejected_count}; {batch.status})"
            )
    print(f"  orders in the database: {Order.objects.count()}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"  peak memory: {peak:.0f} MB in the process reading the file, "
        f"{workers:.0f} MB in the largest child (import workers, migrate)"
    )
    if not args.no_baseline:
        # Machines of the same kind differ a lot in speed; this says how fast this one was.
        baseline = pg_baseline()
        if baseline:
            print(
                f"  plain-SQL intake baseline on this machine (../shared/bench, "
                f"pgbench -c 8): {baseline:,.0f} orders/s"
            )


if __name__ == "__main__":
    main()
