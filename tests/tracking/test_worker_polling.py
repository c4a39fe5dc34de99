"""A real Celery worker on Redis polls a batch of parcels from the demo carrier over HTTP."""

import threading
import time
from datetime import timedelta

import pytest
from celery import signals
from django.utils import timezone

from fulfillment.services import fulfillment_start, shipment_ship
from orders.models import Order
from tests.factories.fulfillment import CarrierFactory
from tests.tracking.test_worker_redis import REDIS_URL, redis_worker  # noqa: F401
from tracking.adapters.demo import DemoCarrierHandler, outcome_of
from tracking.models import ParcelWatch, TrackingEvent
from tracking.tasks import tracking_poll_due

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        not REDIS_URL,
        reason="REDIS_URL is not set: the real-broker test needs a Redis server",
    ),
]

PARCELS = 6


def delivered_numbers(count):
    numbers = (f"DEMO{n:08d}" for n in range(100_000))
    return [n for n in numbers if outcome_of(n) == "delivered"][:count]


def test_a_worker_polls_a_batch_of_demo_parcels_once_each_until_delivered(
    redis_worker,  # noqa: F811
    loopback_server,
    place_order,
    settings,
):
    settings.DEMO_CARRIER_URL = loopback_server(DemoCarrierHandler)
    settings.DEMO_CARRIER_TIME_SCALE = 1
    settings.TRACKING_POLL_SPACING_SECONDS = 0
    carrier = CarrierFactory(code="demo", name="演示快递")
    parcels = []
    for number in delivered_numbers(PARCELS):
        order = place_order(payment_method="cod", phone="13800138000")
        (parcel,) = fulfillment_start(order=order, actor="test")
        parcels.append(
            shipment_ship(
                shipment=parcel, carrier=carrier, tracking_number=number, actor="test"
            )
        )
    long_ago = timezone.now() - timedelta(days=3)
    for parcel in parcels:
        parcel.shipped_at = long_ago
        parcel.save(update_fields=["shipped_at"])
    ParcelWatch.objects.update(next_check_at=timezone.now())

    checked = []

    def count_checks(sender=None, args=None, **kwargs):
        if sender.name == "tracking.tasks.parcel_check_task":
            checked.append(args[0])

    signals.task_postrun.connect(count_checks, weak=False)
    try:
        tracking_poll_due.delay()
        wait_until_every_parcel_is_done()
    finally:
        signals.task_postrun.disconnect(count_checks)

    for parcel in parcels:
        parcel.order.refresh_from_db()
        assert parcel.order.status == Order.Status.DELIVERED
        scans = TrackingEvent.objects.filter(shipment=parcel)
        assert scans.count() >= 5
        assert scans.values("occurred_at", "status").distinct().count() == scans.count()
    assert sorted(checked) == sorted(ParcelWatch.objects.values_list("pk", flat=True))
    assert threading.current_thread().name not in redis_worker


def wait_until_every_parcel_is_done(seconds=30):
    deadline = time.monotonic() + seconds
    while ParcelWatch.objects.filter(done=False).exists():
        assert time.monotonic() < deadline, (
            f"parcels still not polled after {seconds} s"
        )
        time.sleep(0.2)
