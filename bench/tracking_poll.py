"""Polling 10,000 parcels in transit against the demo carrier served over HTTP on loopback.

    .venv/bin/python bench/tracking_poll.py [--parcels 10000] [--workers 4] [--batch 200]

Seeds a fresh PostgreSQL database with shipped demo-carrier parcels at every stage of
their journey (shipped 0–200 hours ago, so some are delivered, delayed, refused or
lost by now), serves the demo carrier from its own process (``DemoCarrierHandler``,
keep-alive HTTP on 127.0.0.1), and runs one full polling cycle as Celery workers would:
``--workers`` processes each claim due parcels (``parcel_watches_claim``) and check them
(``parcel_check``: HTTP query, scans stored once each, parcel and order moved on,
delay/loss flags refreshed). Prints the time for the full cycle, parcels checked and
scan updates stored per second, then the time of one delay-and-loss detection run
(``parcel_exceptions_detect``) over every parcel in transit.
"""

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import django_setup, fresh_database  # noqa: E402

DB_NAME = "oms_bench_tracking"


def serve_carrier(url, port_queue):
    django_setup(url)
    from tracking.adapters.demo import demo_carrier_serve

    server = demo_carrier_serve(time_scale=1.0)
    port_queue.put(server.server_port)
    server.serve_forever()


def seed(parcels: int):
    """Bulk-insert shipped orders and their watched parcels (set-up, not measured)."""
    import random
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from fulfillment.models import Carrier, Shipment, ShipmentLine
    from inventory.models import Product, Warehouse
    from orders.models import Channel, Customer, Order, OrderLine
    from tracking.models import ParcelWatch

    rng = random.Random(6)
    now = timezone.now()
    channel = Channel.objects.create(code="web", name="官网", kind="web")
    warehouse = Warehouse.objects.create(
        code="hz", name="杭州仓", priority=1, province="浙江省"
    )
    carrier = Carrier.objects.create(code="demo", name="演示快递")
    product = Product.objects.create(sku="TEA-1", name="红茶", price=Decimal("50"))
    customer = Customer.objects.create(name="张三", phone="+8613800138000")
    provinces = ["广东省", "北京市", "上海市", "四川省", "湖北省"]
    orders = Order.objects.bulk_create(
        Order(
            number=f"B{n:09d}",
            channel=channel,
            customer=customer,
            status=Order.Status.SHIPPED,
            payment_method="cod",
            payment_status="cod_pending",
            recipient_name="张三",
            recipient_phone="+8613800138000",
            province=provinces[n % len(provinces)],
            city="某市",
            address_detail="某路1号",
            subtotal=Decimal("50"),
            total=Decimal("50"),
        )
        for n in range(parcels)
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=o,
            product=product,
            sku="TEA-1",
            name="红茶",
            unit_price=Decimal("50"),
            quantity=1,
            line_total=Decimal("50"),
        )
        for o in orders
    )
    shipments = Shipment.objects.bulk_create(
        Shipment(
            order=o,
            warehouse=warehouse,
            carrier=carrier,
            tracking_number=f"DEMO{n:010d}",
            status=Shipment.Status.SHIPPED,
            shipped_at=now - timedelta(hours=rng.uniform(0, 200)),
        )
        for n, o in enumerate(orders)
    )
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=s, order_line=line, quantity=1)
        for s, line in zip(shipments, lines, strict=True)
    )
    ParcelWatch.objects.bulk_create(
        ParcelWatch(
            shipment=s, provider="demo", next_check_at=now - timedelta(minutes=1)
        )
        for s in shipments
    )


def poll_worker(args):
    url, carrier_url, batch = args
    import os

    os.environ["DEMO_CARRIER_URL"] = carrier_url
    # Real hours, as the carrier serves them: a checked parcel is next due in
    # TRACKING_POLL_MINUTES, so one cycle polls each parcel once.
    os.environ["DEMO_CARRIER_TIME_SCALE"] = "1"
    django_setup(url)
    from tracking.services import parcel_check, parcel_watches_claim

    checked = errors = 0
    while True:
        due = parcel_watches_claim(limit=batch)
        if not due:
            return checked, errors
        for watch_id in due:
            watch = parcel_check(watch_id=watch_id)
            checked += 1
            errors += bool(watch.failures)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--parcels", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=200)
    options = parser.parse_args()

    url = fresh_database(DB_NAME)
    django_setup(url)
    started = time.perf_counter()
    seed(options.parcels)
    print(f"seeded {options.parcels} parcels in {time.perf_counter() - started:.1f} s")

    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    carrier = ctx.Process(target=serve_carrier, args=(url, ports), daemon=True)
    carrier.start()
    carrier_url = f"http://127.0.0.1:{ports.get(timeout=30)}"

    from django.db import connection

    from tracking.models import ParcelException, ParcelWatch, TrackingEvent

    connection.close()
    started = time.perf_counter()
    with ctx.Pool(options.workers) as pool:
        results = pool.map(
            poll_worker, [(url, carrier_url, options.batch)] * options.workers
        )
    cycle = time.perf_counter() - started
    carrier.terminate()

    checked = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    stored = TrackingEvent.objects.count()
    finished = ParcelWatch.objects.filter(done=True).count()
    print(
        f"full polling cycle: {checked} parcels checked in {cycle:.1f} s"
        f" ({options.workers} workers; {checked / cycle:.0f} parcels/s)"
    )
    print(
        f"scan updates stored: {stored} ({stored / cycle:.0f} updates/s);"
        f" {finished} parcels finished (delivered, returned or lost); {errors} errors"
    )
    flagged = ParcelException.objects.count()
    print(f"flagged by the scans themselves: {flagged}")

    from tracking.parcel_exceptions import parcel_exceptions_detect

    started = time.perf_counter()
    result = parcel_exceptions_detect()
    detect = time.perf_counter() - started
    print(
        f"delay/loss detection: {result.checked} parcels in transit checked in"
        f" {detect:.2f} s; {result.flagged} newly flagged, {result.changed} changed"
    )


if __name__ == "__main__":
    main()
