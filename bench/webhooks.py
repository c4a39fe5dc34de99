"""Outbound webhooks: what the outbox costs order intake, and how fast deliveries go out.

    .venv/bin/python bench/webhooks.py [--orders 1000] [--senders 4]

1. Intake: ``--orders`` cash-on-delivery orders through ``order_intake`` (the API's
   path) with no endpoint, then as many with two endpoints subscribed to every
   event (order.created and order.allocated each: 4 deliveries per order, the order
   serialised as the API shows it). Prints orders/s of each and the difference.
2. Sending: the deliveries just written are sent by ``--senders`` threads calling
   ``webhook_delivery_send`` (what each worker process does) to a receiver on
   127.0.0.1 that checks every signature. Prints deliveries/s, p50/p99 per send,
   and checks each delivery arrived exactly once with a valid signature.

The broker is Kombu's in-memory transport: the bench's threads stand in for workers.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    django_setup,
    fresh_database,
    percentile,
    signed_receiver,
)

ADDRESS = {
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "address_detail": "科技园路1号",
    "postal_code": "518000",
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=4)
    args = parser.parse_args()

    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = "true"
    url = fresh_database("oms_bench_webhooks")
    django_setup(url)
    from decimal import Decimal

    from django.db import connection

    from inventory.models import Product, StockLevel, Warehouse
    from orders.intake import order_fingerprint, order_intake
    from orders.models import Channel
    from orders.services import LineInput, OrderInput
    from tracking import outbound_webhooks, tasks
    from tracking.webhook_models import WebhookDelivery, WebhookEvent

    tasks.webhook_deliver.delay = lambda *a, **k: None  # the senders below send
    channel = Channel.objects.create(code="web", name="官网", kind="web")
    warehouse = Warehouse.objects.create(code="hz", name="杭州仓", priority=1)
    product = Product.objects.create(sku="TEA-1", name="红茶", price=Decimal("19.90"))
    StockLevel.objects.create(product=product, warehouse=warehouse, on_hand=10**7)

    def intake(first: int) -> float:
        started = time.perf_counter()
        for n in range(first, first + args.orders):
            order_intake(
                data=OrderInput(
                    channel=channel,
                    customer_name="张三",
                    customer_phone=f"138{n:08d}",
                    lines=[LineInput(product, 1)],
                    payment_method="cod",
                    address=ADDRESS,
                    external_id=f"WH-{n}",
                ),
                fingerprint=order_fingerprint({"n": n}),
                actor="bench",
            )
        return args.orders / (time.perf_counter() - started)

    plain = intake(0)
    secrets = {}  # the receiver reads it per request
    base, seen = signed_receiver(secrets)
    for name in ("accounting", "crm"):
        endpoint = outbound_webhooks.webhook_endpoint_create(
            url=f"{base}/{name}", event_types=WebhookEvent.values, actor=None
        )
        secrets[f"/{name}"] = endpoint.secret
    hooked = intake(args.orders)
    print(
        f"intake, {args.orders} orders each, 1 process: {plain:.1f} orders/s without "
        f"endpoints, {hooked:.1f} orders/s with 2 endpoints on every event "
        f"({(hooked / plain - 1) * 100:+.1f}%)"
    )

    ids = list(WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True))
    connection.close()
    latencies, lock = [], threading.Lock()

    def sender(share):
        mine = []
        for delivery_id in share:
            started = time.perf_counter()
            outbound_webhooks.webhook_delivery_send(delivery_id=delivery_id)
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [
        threading.Thread(target=sender, args=(ids[i :: args.senders],))
        for i in range(args.senders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    delivered = WebhookDelivery.objects.filter(status="delivered").count()
    keys = {(path, event_id) for path, event_id, _valid in seen}
    print(
        f"sending, {args.senders} senders: {len(ids)} deliveries in {elapsed:.1f} s, "
        f"{len(ids) / elapsed:.0f}/s, p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
    )
    print(
        f"delivered {delivered} of {len(ids)}; received {len(seen)} requests, "
        f"{len(keys)} distinct, {sum(1 for s in seen if not s[2])} bad signatures"
    )
    ok = delivered == len(ids) == len(seen) == len(keys) and all(s[2] for s in seen)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
