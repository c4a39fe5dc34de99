"""Following shipped parcels: polling (demo carrier, Kuaidi100) and pushes (Kuaidi100, AfterShip)."""

import json
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest
from django.utils import timezone

from fulfillment.services import fulfillment_start, shipment_ship
from orders.models import Order
from tests.factories.fulfillment import CarrierFactory
from tests.tracking.carrier_pushes import (
    AFTERSHIP_SECRET,
    PUSH_SALT,
    aftership_body,
    aftership_post,
    kuaidi100_push,
    push_param,
)
from tracking.adapters import aftership, kuaidi100
from tracking.adapters.demo import outcome_of
from tracking.models import ParcelWatch, TrackingEvent
from tracking.services import parcel_check, parcel_watches_claim
from tracking.tasks import tracking_poll_due

S = Order.Status


def delivered_demo_number():
    return next(
        f"DEMO{n:08d}"
        for n in range(10_000)
        if outcome_of(f"DEMO{n:08d}") == "delivered"
    )


@pytest.fixture
def demo_parcel(place_order):
    """A parcel of the demo carrier, shipped two days ago."""
    order = place_order(payment_method="cod")
    carrier = CarrierFactory(code="demo", name="演示快递")
    (parcel,) = fulfillment_start(order=order, actor="test")
    parcel = shipment_ship(
        shipment=parcel,
        carrier=carrier,
        tracking_number=delivered_demo_number(),
        actor="test",
    )
    parcel.shipped_at = timezone.now() - timedelta(days=2)
    parcel.save(update_fields=["shipped_at"])
    return parcel


def test_shipping_a_parcel_starts_following_it_at_its_provider(demo_parcel):
    watch = ParcelWatch.objects.get(shipment=demo_parcel)

    assert watch.provider == ParcelWatch.Provider.DEMO
    assert not watch.done and watch.next_check_at > timezone.now()


def test_a_poll_stores_the_scans_delivers_the_order_and_stops(demo_parcel, settings):
    settings.DEMO_CARRIER_TIME_SCALE = 1

    watch = parcel_check(watch_id=demo_parcel.watch.pk)

    demo_parcel.order.refresh_from_db()
    assert demo_parcel.order.status == S.DELIVERED
    assert watch.done and watch.next_check_at is None
    statuses = list(
        TrackingEvent.objects.filter(shipment=demo_parcel).values_list(
            "status", flat=True
        )
    )
    assert statuses[-1] == "delivered" and len(statuses) >= 5


def test_polling_again_stores_no_scan_twice(demo_parcel, settings):
    settings.DEMO_CARRIER_TIME_SCALE = 1
    watch = demo_parcel.watch
    parcel_check(watch_id=watch.pk)
    stored = TrackingEvent.objects.count()
    ParcelWatch.objects.filter(pk=watch.pk).update(done=False)

    parcel_check(watch_id=watch.pk)

    assert TrackingEvent.objects.count() == stored


def test_due_parcels_are_handed_out_once(demo_parcel, settings):
    settings.DEMO_CARRIER_TIME_SCALE = 1
    ParcelWatch.objects.update(next_check_at=timezone.now() - timedelta(minutes=1))

    assert parcel_watches_claim(limit=10) == [demo_parcel.watch.pk]
    assert parcel_watches_claim(limit=10) == []


def test_the_beat_task_polls_what_is_due(demo_parcel, settings):
    settings.DEMO_CARRIER_TIME_SCALE = 1
    ParcelWatch.objects.update(next_check_at=timezone.now() - timedelta(minutes=1))

    assert tracking_poll_due() == 1  # tasks run eagerly in tests

    assert ParcelWatch.objects.get().done


class BusyKuaidi100(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"result": false, "returnCode": "502", "message": "busy"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def kuaidi100_parcel(place_order, ship, settings, loopback_server):
    settings.TRACKING_PROVIDER = "kuaidi100"
    settings.KUAIDI100_KEY, settings.KUAIDI100_CUSTOMER = "key", "cust"
    settings.KUAIDI100_SALT = ""  # polling only
    settings.KUAIDI100_URL = loopback_server(BusyKuaidi100)
    (parcel,) = ship(place_order(payment_method="cod"))
    return parcel


def test_a_busy_provider_is_asked_again_later_and_later(kuaidi100_parcel):
    watch = kuaidi100_parcel.watch
    assert watch.provider == "kuaidi100"

    first = parcel_check(watch_id=watch.pk)
    first_wait = first.next_check_at - first.last_checked_at
    second = parcel_check(watch_id=watch.pk)
    second_wait = second.next_check_at - second.last_checked_at

    assert (second.failures, second.done) == (2, False)
    assert "502" in second.last_error
    assert second_wait > first_wait


def test_a_signed_kuaidi100_push_stores_its_scans_and_gets_their_reply(
    client, kuaidi100_parcel, settings
):
    settings.KUAIDI100_SALT = PUSH_SALT

    response = kuaidi100_push(client, push_param(kuaidi100_parcel.tracking_number))

    assert response.json() == kuaidi100.PUSH_REPLY
    kuaidi100_parcel.refresh_from_db()
    assert kuaidi100_parcel.tracking_status == "out_for_delivery"


def test_a_push_with_a_bad_signature_changes_nothing(
    client, kuaidi100_parcel, settings
):
    settings.KUAIDI100_SALT = PUSH_SALT

    response = kuaidi100_push(
        client, push_param(kuaidi100_parcel.tracking_number), salt="forged"
    )

    assert response.status_code == 400
    assert not TrackingEvent.objects.exists()


def test_a_replayed_kuaidi100_push_stores_its_scans_once(
    client, kuaidi100_parcel, settings
):
    """Kuaidi100 signs no timestamp; a replay is harmless because scans are kept once."""
    settings.KUAIDI100_SALT = PUSH_SALT
    param = push_param(kuaidi100_parcel.tracking_number)

    first = kuaidi100_push(client, param)
    again = kuaidi100_push(client, param)

    assert first.json() == again.json() == kuaidi100.PUSH_REPLY
    assert TrackingEvent.objects.filter(shipment=kuaidi100_parcel).count() == 1


def test_a_push_with_a_nul_character_is_acknowledged_and_stores_nothing(
    client, kuaidi100_parcel, settings
):
    """PostgreSQL cannot store NUL; such a scan once failed its insert with a 500."""
    settings.KUAIDI100_SALT = PUSH_SALT
    param = push_param(kuaidi100_parcel.tracking_number).replace("派送", "派\\u0000送")

    response = kuaidi100_push(client, param)

    assert response.json() == kuaidi100.PUSH_REPLY
    assert not TrackingEvent.objects.exists()


def test_an_abort_push_goes_back_to_polling_and_subscribes_later(
    client, kuaidi100_parcel, settings
):
    settings.KUAIDI100_SALT = PUSH_SALT
    ParcelWatch.objects.update(pushed=True)

    kuaidi100_push(client, push_param(kuaidi100_parcel.tracking_number, "abort"))

    watch = ParcelWatch.objects.get()
    assert not watch.pushed
    assert watch.resubscribe_after >= timezone.now() + timedelta(minutes=29)


def test_an_aftership_webhook_is_stored_once_and_replays_are_refused(
    client, place_order, ship, settings
):
    settings.AFTERSHIP_WEBHOOK_SECRET = AFTERSHIP_SECRET
    (parcel,) = ship(place_order(payment_method="cod"))
    body = aftership_body(parcel.tracking_number, event_id="ev-9")

    def post(signature):
        return aftership_post(client, body, signature=signature)

    assert post("forged").status_code == 401
    good = aftership.webhook_signature(body, AFTERSHIP_SECRET)
    assert post(good).content == b"ok"
    assert post(good).content == b"replay"
    assert TrackingEvent.objects.filter(shipment=parcel).count() == 1


def test_an_aftership_webhook_with_a_nul_character_is_acknowledged_and_stores_nothing(
    client, place_order, ship, settings
):
    settings.AFTERSHIP_WEBHOOK_SECRET = AFTERSHIP_SECRET
    (parcel,) = ship(place_order(payment_method="cod"))
    body = aftership_body(
        parcel.tracking_number, event_id="ev-10", message="派\x00送中"
    )

    response = aftership_post(client, body)

    assert response.status_code == 200
    assert not TrackingEvent.objects.exists()


class SubscribingKuaidi100(BaseHTTPRequestHandler):
    """Answers a query with one scan and takes every subscription."""

    subscriptions = []

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/poll":
            type(self).subscriptions.append(self.path)
            body = {"result": True, "returnCode": "200", "message": "提交成功"}
        else:
            body = json.loads(push_param("X"))["lastResult"]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


def test_after_an_abort_the_parcel_is_subscribed_again_once_allowed(
    kuaidi100_parcel, settings, loopback_server
):
    settings.KUAIDI100_SALT = PUSH_SALT
    settings.KUAIDI100_URL = loopback_server(SubscribingKuaidi100)
    SubscribingKuaidi100.subscriptions = []
    ParcelWatch.objects.update(
        pushed=False, resubscribe_after=timezone.now() - timedelta(minutes=1)
    )

    watch = parcel_check(watch_id=kuaidi100_parcel.watch.pk)

    watch.refresh_from_db()
    assert SubscribingKuaidi100.subscriptions == ["/poll"]
    assert watch.pushed and watch.resubscribe_after is None
