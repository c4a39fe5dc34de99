"""A small shop in a private database, for test_postgres_restart.py.

The test runs these in a ``manage.py shell`` process whose DATABASE_URL is the
private cluster's (the test process itself stays on the suite's database); each
prints one line of JSON for the test to read.
"""

import json
from collections import Counter

from django.db.models import Count, Sum

from fulfillment.services import fulfillment_start, shipment_ship
from inventory.models import StockLevel, StockMovement
from inventory.services import stock_receive
from orders.models import Order, OrderEvent, OrderLine
from orders.services import channel_token_issue
from tests.factories.fulfillment import CarrierFactory
from tests.factories.inventory import ProductFactory, WarehouseFactory
from tests.factories.orders import ChannelFactory
from tracking.models import Notification

STOCK = 1000


def seed(*, products: int, push_url: str, push_secret: str) -> None:
    """Print the channel's API key and the SKUs, each with STOCK units on hand."""
    channel = ChannelFactory(push_url=push_url, push_secret=push_secret)
    warehouse = WarehouseFactory()
    skus = []
    for n in range(products):
        product = ProductFactory(sku=f"PGR-{n}")
        stock_receive(
            product=product, warehouse=warehouse, quantity=STOCK, actor="seed"
        )
        skus.append(product.sku)
    print(json.dumps({"token": channel_token_issue(channel=channel), "skus": skus}))


def ship(*, keys: list[str]) -> None:
    """Pick and ship the orders with these external ids; print the keys shipped."""
    carrier = CarrierFactory()
    for order in Order.objects.filter(external_id__in=keys).order_by("pk"):
        for shipment in fulfillment_start(order=order, actor="warehouse"):
            shipment_ship(
                shipment=shipment,
                carrier=carrier,
                tracking_number=f"SF{shipment.pk:010d}",
                actor="warehouse",
            )
    print(json.dumps(sorted(keys)))


def report() -> None:
    """Print what the database holds: orders, their lines, stock, messages."""
    stock = {}
    for level in StockLevel.objects.select_related("product"):
        movements = StockMovement.objects.filter(
            product=level.product, warehouse=level.warehouse
        )
        ledger = movements.aggregate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
        stock[level.product.sku] = {
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "ledger": [ledger["on_hand"], ledger["reserved"]],
            "movements": dict(Counter(movements.values_list("kind", flat=True))),
        }
    events = Counter(
        OrderEvent.objects.filter(kind=OrderEvent.Kind.NOTIFICATION).values_list(
            "data__notification", flat=True
        )
    )
    print(
        json.dumps(
            {
                "orders": list(
                    Order.objects.values_list("external_id", "number", "status")
                ),
                "orders_per_key": dict(
                    Order.objects.values_list("external_id")
                    .annotate(n=Count("id"))
                    .values_list("external_id", "n")
                ),
                "lines": list(
                    OrderLine.objects.values_list(
                        "order__external_id", "product__sku", "quantity"
                    )
                ),
                "movements": list(
                    StockMovement.objects.filter(order__isnull=False).values_list(
                        "kind",
                        "order__external_id",
                        "product__sku",
                        "on_hand_delta",
                        "reserved_delta",
                    )
                ),
                "stock": stock,
                "notifications": list(
                    Notification.objects.values_list(
                        "pk", "order__external_id", "channel", "template", "status"
                    )
                ),
                "notification_events": {str(k): n for k, n in events.items()},
            },
            default=str,
        )
    )
