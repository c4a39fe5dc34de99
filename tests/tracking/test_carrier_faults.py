"""A carrier answering slowly, with errors or with garbage, then recovering.

Shipped cash-on-delivery parcels (twenty when the faults are mixed) are followed at a fake Kuaidi100 on
127.0.0.1 through the real beat task (``tracking_poll_due``, its checks run eagerly)
in five rounds: a fault, the carrier recovered (picked up, in transit, out for
delivery), the same fault again, recovered (delivered), and a repeat of every poll.
Afterwards everything is counted exactly: each scan stored once, each parcel and
order where its scans put it, one "out for delivery" and one "delivered" message per
parcel and channel, all sent (the outbox drained), one cash collection per parcel,
and not one stock movement, order or journal entry more than shipping and delivery
make.
"""

import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import pytest
from django.core import mail
from django.db.models import Count
from django.utils import timezone

from billing.cod_models import CodCollection
from billing.models import JournalEntry, Payment
from fulfillment.models import Shipment
from inventory.models import StockMovement
from inventory.services import stock_receive
from orders.models import Order, OrderEvent
from tests.factories.inventory import ProductFactory
from tracking.adapters import aftership, kuaidi100
from tracking.adapters.carriers import ProviderError
from tracking.models import Notification, ParcelWatch, TrackingEvent, TrackingStatus
from tracking.tasks import tracking_poll_due

CUSTOMER, KEY = "FAULT-CUST", "fault-key"
CHANNELS = 2  # each customer wants SMS and email (no app push on the test channel)
TIMEOUT = 0.2  # seconds; the carrier's "slow" answers come after we gave up

# The carrier's wrong types, one per parcel in turn: each must be refused as garbage.
WRONG_TYPES = [
    b"[]",
    b"null",
    b'"200"',
    b'{"status": "200", "message": "ok", "data": 5}',
    b'{"status": "200", "message": "ok", "data": {"ftime": "2026-11-20 08:00:00"}}',
    b'{"status": "200", "data": [{"ftime": 20261120, "statusCode": "5"}]}',
    b'{"status": "200", "data": [["2026-11-20 08:00:00", "5"]]}',
    b'{"status": "200", "data": [{"ftime": "2026-11-20 08:00:00", "statusCode": "99"}]}',
    b'{"status": "200", "data": [{"ftime": "2026-11-20 08:00:00", "statusCode": ["5"]}]}',
    b'{"status": "200", "data": [{"ftime": "2026-11-20 08:00:00",'
    b' "context": "\\u0000", "statusCode": "5"}]}',
    b"[" * 100_000,  # nested past Python's recursion limit
    b"[" * 950 + b"]" * 950,  # decoded, but too deep to check for NUL
]


class FaultyKuaidi100(BaseHTTPRequestHandler):
    """Kuaidi100's real-time query, for the parcels of ``scans``; ``fault`` per number.

    ``scans`` maps a tracking number to its scans (oldest first); ``faults`` maps a
    number to how the carrier misbehaves for it now ("slow", "500", "503", "html",
    "truncated", "wrong_types", "busy"); numbers not in it are answered properly.
    """

    scans: dict = {}
    faults: dict = {}
    asked: list = []  # (number, fault or "") per query received, signature checked
    garbage_offset = 0  # which of WRONG_TYPES the first parcel gets
    release = threading.Event()  # set when the test is over: slow answers stop waiting

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        assert form["sign"] == kuaidi100.sign(form["param"] + KEY + CUSTOMER)
        number = json.loads(form["param"])["num"]
        fault = self.faults.get(number, "")
        self.asked.append((number, fault))
        good = json.dumps(self.answer(number), ensure_ascii=False).encode()
        status, body, kind = 200, good, "application/json;charset=UTF-8"
        if fault == "slow":
            self.release.wait(TIMEOUT * 5)  # the whole answer, but too late
        elif fault in ("500", "503"):
            status, body, kind = (
                int(fault),
                b"<html>Service Unavailable</html>",
                "text/html",
            )
        elif fault == "html":
            body, kind = (
                b"<!DOCTYPE html><html><body>\xe7\xb9\x81\xe5\xbf\x99</body></html>",
                "text/html",
            )
        elif fault == "truncated":
            body = good[: len(good) // 2]
        elif fault == "wrong_types":
            at = sorted(self.scans).index(number) + self.garbage_offset
            body = WRONG_TYPES[at % len(WRONG_TYPES)]
        elif fault == "busy":  # Kuaidi100's own "try again later"
            body = b'{"result": false, "returnCode": "502", "message": "\xe7\xb9\x81\xe5\xbf\x99"}'
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up on a slow answer
            pass

    def answer(self, number):
        data = [
            {
                "time": f"{when:%Y-%m-%d %H:%M:%S}",
                "ftime": f"{when:%Y-%m-%d %H:%M:%S}",
                "context": context,
                "areaName": "广东,深圳市",
                "status": "",
                "statusCode": code,
            }
            for when, code, context in reversed(self.scans[number])
        ]
        delivered = bool(data) and data[0]["statusCode"] == "301"
        return {
            "message": "ok",
            "nu": number,
            "ischeck": "1" if delivered else "0",
            "com": "shunfeng",
            "status": "200",
            "state": "3" if delivered else "5",
            "data": data,  # newest first, as asked
        }

    def log_message(self, *args):
        pass


@pytest.fixture
def carrier_server(settings, loopback_server):
    FaultyKuaidi100.scans, FaultyKuaidi100.faults, FaultyKuaidi100.asked = {}, {}, []
    FaultyKuaidi100.release = threading.Event()
    FaultyKuaidi100.garbage_offset = 0
    settings.TRACKING_PROVIDER = "kuaidi100"
    settings.KUAIDI100_CUSTOMER, settings.KUAIDI100_KEY = CUSTOMER, KEY
    settings.KUAIDI100_SALT = ""  # polling only
    settings.TRACKING_POLL_BATCH = 50
    settings.KUAIDI100_URL = loopback_server(FaultyKuaidi100)
    settings.TRACKING_PROVIDER_TIMEOUT_SECONDS = TIMEOUT
    yield FaultyKuaidi100
    FaultyKuaidi100.release.set()


@pytest.fixture
def ship_parcels(
    carrier_server, place_order, ship, warehouse, django_capture_on_commit_callbacks
):
    """Return a function: ``count`` cash-on-delivery orders of one unit each, shipped
    three hours ago, their messages sent; the carrier knows three scans of each."""

    def make(count):
        product = ProductFactory(sku="FAULT-1", price=Decimal("88.00"))
        stock_receive(
            product=product, warehouse=warehouse, quantity=count, actor="test"
        )
        parcels = []
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(count):
                (parcel,) = ship(place_order(payment_method="cod", product=product))
                parcels.append(parcel)
        shipped_at = timezone.now() - timedelta(hours=3)
        Shipment.objects.update(shipped_at=shipped_at)
        # Kuaidi100 times are to the second, in China time.
        base = timezone.localtime(shipped_at, kuaidi100.CHINA).replace(microsecond=0)
        for parcel in parcels:
            carrier_server.scans[parcel.tracking_number] = [
                (base + timedelta(minutes=10), "1", "顺丰速运 已收取快件"),
                (base + timedelta(minutes=40), "0", "快件已发往 深圳转运中心"),
                (base + timedelta(minutes=90), "5", "快件交给李师傅，正在派送途中"),
            ]
        return parcels

    return make


def deliver_at_the_carrier(server, parcels):
    for parcel in parcels:
        scans = server.scans[parcel.tracking_number]
        scans.append(
            (scans[-1][0] + timedelta(minutes=30), "301", "已签收，签收人：本人")
        )


def poll_round(capture):
    """Make every followed parcel due, run the beat task and let each commit's work run."""
    ParcelWatch.objects.filter(done=False).update(
        next_check_at=timezone.now() - timedelta(seconds=1)
    )
    with capture(execute=True):
        polled = tracking_poll_due()
    return polled


def counts():
    """What must not change while a carrier misbehaves (nor double when it recovers)."""
    return {
        "orders": Order.objects.count(),
        "movements": StockMovement.objects.count(),
        "scans": TrackingEvent.objects.count(),
        "notifications": Notification.objects.count(),
        "journal": JournalEntry.objects.count(),
        "payments": Payment.objects.count(),
        "cod": CodCollection.objects.count(),
        "order_events": OrderEvent.objects.count(),
    }


def message_counts():
    return dict(Notification.objects.values_list("template").annotate(n=Count("id")))


MIXED = ["", "slow", "500", "503", "html", "truncated", "wrong_types", "busy"]

# How many parcels, and how the carrier fails the parcel at each position.
SCENARIOS = {
    "slow": (3, lambda i: "slow"),
    "500": (3, lambda i: "500"),
    "503": (3, lambda i: "503"),
    "html": (3, lambda i: "html"),
    "truncated": (3, lambda i: "truncated"),
    # Each of WRONG_TYPES once: half in the first fault, half in the second.
    "wrong_types": (len(WRONG_TYPES) // 2, lambda i: "wrong_types"),
    "busy": (3, lambda i: "busy"),
    # Twenty parcels: some answered properly, the others failed each its own way.
    "mixed": (20, lambda i: MIXED[i % len(MIXED)]),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_carrier_failing_then_recovering_loses_and_doubles_nothing(
    scenario,
    carrier_server,
    ship_parcels,
    sms_outbox,
    stock_ledger_errors,
    django_capture_on_commit_callbacks,
):
    PARCELS, fault = SCENARIOS[scenario]  # noqa: N806
    parcels = ship_parcels(PARCELS)
    numbers = [p.tracking_number for p in parcels]
    fault_of = {n: fault(i) for i, n in enumerate(numbers)}
    failing = [n for n in numbers if fault_of[n]]
    healthy = [n for n in numbers if not fault_of[n]]
    shipped = counts()
    assert message_counts() == {
        "order_received": PARCELS * CHANNELS,
        "shipped": PARCELS * CHANNELS,
    }
    assert shipped["movements"] > 0 and not stock_ledger_errors()

    # 1. The carrier fails: nothing is stored for the failing parcels, each is asked
    # once, the error is kept on its watch and it is not due again at once.
    carrier_server.faults = {n: fault_of[n] for n in failing}
    assert poll_round(django_capture_on_commit_callbacks) == PARCELS
    assert sorted(n for n, _ in carrier_server.asked) == sorted(numbers)
    for watch in ParcelWatch.objects.filter(shipment__tracking_number__in=failing):
        assert (watch.failures, watch.done) == (1, False), (
            watch.shipment.tracking_number
        )
        assert watch.last_error and watch.next_check_at > timezone.now()
    assert not TrackingEvent.objects.filter(
        shipment__tracking_number__in=failing
    ).exists()
    assert TrackingEvent.objects.filter(
        shipment__tracking_number__in=healthy
    ).count() == (3 * len(healthy))
    assert tracking_poll_due() == 0  # a failed parcel is asked again later, not at once
    assert Order.objects.filter(status=Order.Status.SHIPPED).count() == PARCELS

    # 2. The carrier recovers: each parcel's three scans, stored once each.
    carrier_server.faults = {}
    poll_round(django_capture_on_commit_callbacks)
    assert TrackingEvent.objects.count() == 3 * PARCELS
    assert set(Shipment.objects.values_list("tracking_status", flat=True)) == {
        TrackingStatus.OUT_FOR_DELIVERY
    }
    assert set(ParcelWatch.objects.values_list("failures", "last_error")) == {(0, "")}

    # 3. The same fault again, after the parcels are delivered at the carrier.
    deliver_at_the_carrier(carrier_server, parcels)
    carrier_server.faults = {n: fault_of[n] for n in failing}
    carrier_server.garbage_offset = PARCELS
    poll_round(django_capture_on_commit_callbacks)
    assert TrackingEvent.objects.count() == 3 * PARCELS + len(healthy)
    assert Order.objects.filter(status=Order.Status.SHIPPED).count() == len(failing)

    # 4. Recovered: every parcel delivered, its watch done.
    carrier_server.faults = {}
    poll_round(django_capture_on_commit_callbacks)
    assert ParcelWatch.objects.filter(done=True).count() == PARCELS

    # 5. Every poll again (as after a lost acknowledgement): nothing new.
    delivered = counts()
    ParcelWatch.objects.update(done=False)
    assert poll_round(django_capture_on_commit_callbacks) == PARCELS
    assert counts() == delivered

    # Exactly: four scans per parcel, once each, in order; parcels and orders delivered.
    # Each parcel's cash: one payment, one collection, one journal entry.
    assert delivered == {
        **shipped,
        "scans": 4 * PARCELS,
        "notifications": shipped["notifications"] + 2 * PARCELS * CHANNELS,
        "journal": shipped["journal"] + PARCELS,
        "payments": shipped["payments"] + PARCELS,
        "cod": PARCELS,
        "order_events": delivered["order_events"],  # counted by kind below
    }
    for parcel in parcels:
        scans = list(
            TrackingEvent.objects.filter(shipment=parcel).values_list(
                "status", flat=True
            )
        )
        assert scans == ["in_transit", "in_transit", "out_for_delivery", "delivered"]
    assert set(Shipment.objects.values_list("status", "tracking_status")) == {
        (Shipment.Status.DELIVERED, TrackingStatus.DELIVERED)
    }
    assert Order.objects.filter(status=Order.Status.DELIVERED).count() == PARCELS
    # One message per parcel, event and channel, every one sent: the outbox is drained.
    assert message_counts() == {
        "order_received": PARCELS * CHANNELS,
        "shipped": PARCELS * CHANNELS,
        "out_for_delivery": PARCELS * CHANNELS,
        "delivered": PARCELS * CHANNELS,
    }
    assert set(Notification.objects.values_list("status", flat=True)) == {
        Notification.Status.SENT
    }
    assert len(mail.outbox) == len(sms_outbox) == 4 * PARCELS
    # One timeline event per scan; the cash of each parcel collected once and booked once.
    assert (
        OrderEvent.objects.filter(kind=OrderEvent.Kind.TRACKING).count() == 4 * PARCELS
    )
    assert set(CodCollection.objects.values_list("shipment", flat=True)) == {
        p.pk for p in parcels
    }
    entries = JournalEntry.objects.values_list("source", "kind")
    assert len(entries) == len(set(entries))
    # No stock moved after shipping, and every level still equals its movements.
    assert StockMovement.objects.count() == shipped["movements"]
    assert not stock_ledger_errors()


class GarbageAfterShip(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"null",
        b'"ok"',
        b'{"data": []}',
        b'{"data": {"tracking": "SF1"}}',
        b'{"data": {"tracking": {"checkpoints": 5}}}',
        b'{"data": {"tracking": {"checkpoints": ["InTransit"]}}}',
        b"[" * 100_000,
        b"[" * 950 + b"]" * 950,
    ],
    ids=[
        "list",
        "null",
        "str",
        "data-list",
        "tracking-str",
        "checkpoints-number",
        "checkpoint-str",
        "nested-past-the-limit",
        "nested-950",
    ],
)
def test_aftership_garbage_is_a_provider_error_not_a_crash(loopback_server, body):
    """Each of these was an AttributeError or TypeError in the poll (a list or a
    str has no .get, a number is not iterable), or a RecursionError."""
    GarbageAfterShip.body = body
    client = aftership.AfterShip(
        api_key="k", base_url=loopback_server(GarbageAfterShip)
    )

    with pytest.raises(ProviderError):
        client.query(slug="sf-express", tracking_number="SF1")
