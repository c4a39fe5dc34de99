"""Every inbound webhook against one table of attacks, over HTTP through the URLs,
middleware and views as deployed.

Inbound webhooks (config/urls.py): the signed channel order push, the Kuaidi100 and
AfterShip carrier pushes, Alipay's async notification and the WeChat Pay v3 callback.
(SMS and the demo carrier push nothing to us: we poll the demo carrier and send SMS.)

Each row sends the attack and checks the answer the provider expects and that
nothing changed: every table of the shop's apps is counted before and after, and
the orders', parcels' and stock levels' states compared. The one row a refusal
writes is the payment providers' kept rejection (``PaymentNotification``,
unverified), checked by name.

Alipay, Kuaidi100 and AfterShip sign no timestamp, so their "stale" row is a resend
of a request already applied, arriving later (re-signed by Alipay and AfterShip, as
their retries are): it is acknowledged, as the provider expects, and the replay guard
(the trade and its status, the scans kept once, the event id) makes it change nothing.
"""

import json
import time
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.db import connection

from billing.models import PaymentNotification
from fulfillment.models import Shipment
from inventory.models import StockLevel
from orders.models import Order
from orders.signing import signature_compute, signature_header
from tests.billing.payment_signing import (
    APIV3_KEY,
    alipay_notify,
    public_pem,
    rsa_key,
    wechat_body,
    wechat_headers,
)
from tests.orders.test_api import PAYLOAD
from tests.tracking.carrier_pushes import (
    AFTERSHIP_SECRET,
    OUT_FOR_DELIVERY,
    PUSH_SALT,
    aftership_body,
    push_param,
)
from tracking.adapters import aftership, kuaidi100
from tracking.models import ParcelWatch

SHOP_APPS = ("orders", "inventory", "fulfillment", "tracking", "billing")
CHANNEL_SECRET = "s3cret"
# A timestamp no float holds: signed and sent, it must be refused, not crash the check.
HUGE_TIMESTAMP = 10**400
# Timestamps that cannot be read: a digit int() refuses, more digits than int() takes.
UNREADABLE_TIMESTAMPS = ("²", "1" * 5000)

# The answers each provider expects (the channel's are ours: DRF's 401 with a reason).
CHANNEL_CREATED = (201, PAYLOAD["external_id"])
CHANNEL_MALFORMED = (401, "The X-Signature header is missing or malformed.")
CHANNEL_MISMATCH = (401, "The signature does not match.")
CHANNEL_STALE = (401, "The signature's timestamp is too old or in the future.")
CHANNEL_REPLAY = (401, "This push was already received (replay).")
KUAIDI100_OK = (200, kuaidi100.PUSH_REPLY)
KUAIDI100_BAD = (400, {"result": False, "returnCode": "400", "message": "bad sign"})
AFTERSHIP_OK = (200, b"ok")
AFTERSHIP_SEEN = (200, b"replay")
AFTERSHIP_BAD = (401, b"bad signature")
ALIPAY_OK = (200, b"success")
NOT_MONEY = "The notification's amount is not a sum of money."
OVERLONG = "The notification's trade_no is over 100 characters."
ALIPAY_FAIL = (400, b"fail")
WECHAT_OK = (200, {"code": "SUCCESS"})


def wechat_fail(message):
    return (400, {"code": "FAIL", "message": message})


# endpoint → attack → the answer. A missing attack does not apply to the scheme
# (only the channel push and WeChat Pay sign a timestamp). The "signed_" rows are
# genuine requests holding garbage (a provider's fault, not an attack): answered
# without a server error and changing nothing. A channel's signed garbage is
# schemathesis's part (tests/api/test_schemathesis.py signs the pushes it makes).
TABLE = {
    "channel_push": {
        "valid": CHANNEL_CREATED,
        "unsigned": CHANNEL_MALFORMED,
        "malformed": CHANNEL_MALFORMED,
        "wrong_key": CHANNEL_MISMATCH,
        "tampered": CHANNEL_MISMATCH,
        "garbled_signature": CHANNEL_MISMATCH,
        "stale": CHANNEL_STALE,
        "huge_timestamp": CHANNEL_STALE,
        "replay": CHANNEL_REPLAY,
    },
    "kuaidi100": {
        "valid": KUAIDI100_OK,
        "unsigned": KUAIDI100_BAD,
        "wrong_key": KUAIDI100_BAD,
        "tampered": KUAIDI100_BAD,
        "garbled_signature": KUAIDI100_BAD,
        "stale": KUAIDI100_OK,
        "replay": KUAIDI100_OK,
        "signed_garbage": KUAIDI100_OK,
    },
    "aftership": {
        "valid": AFTERSHIP_OK,
        "unsigned": AFTERSHIP_BAD,
        "wrong_key": AFTERSHIP_BAD,
        "tampered": AFTERSHIP_BAD,
        "garbled_signature": AFTERSHIP_BAD,
        "stale": AFTERSHIP_SEEN,
        "replay": AFTERSHIP_SEEN,
        "signed_garbage": (200, b""),
    },
    "alipay": {
        "valid": ALIPAY_OK,
        "unsigned": ALIPAY_FAIL,
        "wrong_key": ALIPAY_FAIL,
        "tampered": ALIPAY_FAIL,
        "garbled_signature": ALIPAY_FAIL,
        "stale": ALIPAY_OK,
        "replay": ALIPAY_OK,
        "signed_bad_amount": ALIPAY_FAIL,
        "signed_overlong": ALIPAY_FAIL,
    },
    "wechatpay": {
        "valid": WECHAT_OK,
        "unsigned": wechat_fail("Bad timestamp."),
        "malformed": wechat_fail("Bad timestamp."),
        "wrong_key": wechat_fail("Bad signature."),
        "tampered": wechat_fail("Bad signature."),
        "garbled_signature": wechat_fail("Bad signature."),
        "stale": wechat_fail("The timestamp is too far from now."),
        "huge_timestamp": wechat_fail("The timestamp is too far from now."),
        "replay": WECHAT_OK,
        "signed_bad_amount": wechat_fail(NOT_MONEY),
        "signed_overlong": wechat_fail(OVERLONG),
    },
}


@dataclass
class Sent:
    """One POST as the provider would make it."""

    path: str
    body: bytes | dict
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"

    def post(self, client):
        if isinstance(self.body, dict):  # a form, as Alipay and Kuaidi100 send
            return client.post(self.path, self.body, **self.headers)
        return client.post(
            self.path, self.body, content_type=self.content_type, **self.headers
        )


@dataclass
class Attack:
    """``before`` are sent (and accepted) first; each of ``sent`` gets the row's answer."""

    sent: list
    before: list = field(default_factory=list)


def snapshot():
    """Return every table's row count in the shop's apps, and the states that move."""
    models = [
        model for model in apps.get_models() if model._meta.app_label in SHOP_APPS
    ]
    counts = " UNION ALL ".join(
        f"SELECT '{model._meta.label}', COUNT(*) FROM {model._meta.db_table}"
        for model in models
    )
    with connection.cursor() as cursor:
        cursor.execute(counts)
        state = dict(cursor.fetchall())
    state["orders"] = list(
        Order.objects.order_by("pk").values_list("status", "payment_status")
    )
    state["parcels"] = list(
        Shipment.objects.order_by("pk").values_list("status", "tracking_status")
    )
    state["watches"] = list(
        ParcelWatch.objects.order_by("pk").values_list(
            "pushed", "done", "resubscribe_after"
        )
    )
    state["stock"] = list(
        StockLevel.objects.order_by("pk").values_list("on_hand", "reserved")
    )
    return state


def changes(before, after):
    """Return what differs: row count deltas by model, each moved state as (before, after)."""
    return {
        key: after[key] - before[key]
        if isinstance(after[key], int)
        else (before[key], after[key])
        for key in after
        if after[key] != before[key]
    }


# --- The endpoints: each builds its genuine request and each attack on it ---------


class ChannelPush:
    """/webhooks/channels/<code>/: X-Signature ``t=<unix>,v1=<HMAC-SHA256 of t.body>``."""

    needs = ("channel", "stocked_product")  # fixtures
    applied = {"orders.Order": 1}  # at least these rows come with an accepted request

    def __init__(self, *, channel, stocked_product):
        stocked_product.sku = PAYLOAD["lines"][0]["sku"]
        stocked_product.save()
        channel.webhook_secret = CHANNEL_SECRET
        channel.save()
        self.path = f"/webhooks/channels/{channel.code}/"
        self.body = json.dumps(PAYLOAD).encode()

    def send(self, body, header=None):
        headers = {} if header is None else {"HTTP_X_SIGNATURE": header}
        return Sent(self.path, body, headers)

    def valid(self):
        return self.send(
            self.body, signature_header(secret=CHANNEL_SECRET, body=self.body)
        )

    def answer(self, response):
        data = response.json()
        return response.status_code, data.get("detail", data.get("external_id"))

    def attack(self, name):
        now, body, valid = int(time.time()), self.body, self.valid()
        other = body.replace(b'"quantity": 2', b'"quantity": 20')
        assert other != body
        hex_signature = signature_compute(
            secret=CHANNEL_SECRET, timestamp=now, body=body
        )
        return {
            "valid": Attack([valid]),
            "unsigned": Attack([self.send(body)]),
            "malformed": Attack(
                [
                    self.send(body, f"t={stamp},v1={hex_signature}")
                    for stamp in UNREADABLE_TIMESTAMPS
                ]
            ),
            "wrong_key": Attack(
                [self.send(body, signature_header(secret="another", body=body))]
            ),
            "tampered": Attack([self.send(other, valid.headers["HTTP_X_SIGNATURE"])]),
            "garbled_signature": Attack([self.send(body, f"t={now},v1=signé")]),
            "stale": Attack([self.send(body, self.signed_at(now - 301))]),
            "huge_timestamp": Attack([self.send(body, self.signed_at(HUGE_TIMESTAMP))]),
            "replay": Attack([valid], before=[valid]),
        }[name]

    def signed_at(self, timestamp):
        return signature_header(
            secret=CHANNEL_SECRET, body=self.body, timestamp=timestamp
        )


class Kuaidi100Push:
    """/webhooks/carriers/kuaidi100/: a form ``param`` (JSON), ``sign = MD5(param + salt)``."""

    needs = ("settings", "parcel")
    applied = {"tracking.TrackingEvent": 1}

    def __init__(self, *, settings, parcel):
        settings.KUAIDI100_SALT = PUSH_SALT
        self.path = "/webhooks/carriers/kuaidi100/"
        self.number = parcel.tracking_number
        self.param = push_param(self.number)

    def send(self, param, sign=None):
        form = {"param": param} if sign is None else {"param": param, "sign": sign}
        return Sent(self.path, form)

    def signed(self, param, salt=PUSH_SALT):
        return self.send(param, kuaidi100.sign(param + salt))

    def valid(self):
        return self.signed(self.param)

    def answer(self, response):
        return response.status_code, response.json()

    def attack(self, name):
        param, valid = self.param, self.valid()
        delivered = param.replace('"statusCode": "5"', '"statusCode": "3"')
        assert delivered != param
        in_transit = push_param(
            self.number, scans=[("2026-11-20 06:00:00", "快件已到达深圳转运中心", "0")]
        )
        newer = push_param(
            self.number,
            scans=[
                ("2026-11-20 06:00:00", "快件已到达深圳转运中心", "0"),
                OUT_FOR_DELIVERY,
            ],
        )
        return {
            "valid": Attack([valid]),
            "unsigned": Attack([self.send(param)]),
            "wrong_key": Attack([self.signed(param, salt="forged")]),
            "tampered": Attack([self.send(delivered, valid.body["sign"])]),
            "garbled_signature": Attack([self.send(param, "签名")]),
            # An older push arriving after a newer one: it has no timestamp to refuse
            # it by; its scan is stored already and the parcel does not move back.
            "stale": Attack(
                [self.signed(in_transit)],
                before=[self.signed(in_transit), self.signed(newer)],
            ),
            "replay": Attack([valid], before=[valid]),
            "signed_garbage": Attack(
                [
                    self.signed(garbage)
                    for garbage in (
                        "[]",
                        '{"lastResult": "x"}',
                        json.dumps({"lastResult": {"nu": self.number, "data": ["x"]}}),
                        '{"status": "abort", "lastResult": null}',
                    )
                ]
            ),
        }[name]


class AfterShipWebhook:
    """/webhooks/carriers/aftership/: ``aftership-hmac-sha256`` = base64 HMAC of the body."""

    needs = ("settings", "parcel")
    applied = {"tracking.TrackingEvent": 1, "tracking.ProviderReceipt": 1}

    def __init__(self, *, settings, parcel):
        settings.AFTERSHIP_WEBHOOK_SECRET = AFTERSHIP_SECRET
        self.path = "/webhooks/carriers/aftership/"
        self.number = parcel.tracking_number
        self.body = aftership_body(self.number)

    def send(self, body, signature=None):
        headers = {} if signature is None else {"HTTP_AFTERSHIP_HMAC_SHA256": signature}
        return Sent(self.path, body, headers)

    def signed(self, body, secret=AFTERSHIP_SECRET):
        return self.send(body, aftership.webhook_signature(body, secret))

    def valid(self):
        return self.signed(self.body)

    def answer(self, response):
        return response.status_code, response.content

    def attack(self, name):
        body, valid = self.body, self.valid()
        day_later = aftership_body(self.number, ts=1763598600 + 86400)
        return {
            "valid": Attack([valid]),
            "unsigned": Attack([self.send(body)]),
            "wrong_key": Attack([self.signed(body, secret="another")]),
            "tampered": Attack(
                [
                    self.send(
                        body.replace(b"OutForDelivery", b"Delivered"),
                        valid.headers["HTTP_AFTERSHIP_HMAC_SHA256"],
                    )
                ]
            ),
            # A header is Latin-1 on the wire: "signé" is what a garbled one reads as.
            "garbled_signature": Attack([self.send(body, "signé")]),
            # The same event a day later, signed again: the event id stops it.
            "stale": Attack([self.signed(day_later)], before=[valid]),
            "replay": Attack([valid], before=[valid]),
            "signed_garbage": Attack(
                [
                    self.signed(garbage)
                    for garbage in (
                        b'{"event_id": "ev-1", "msg": "x"}',
                        b'{"event_id": "ev-2", "msg": {"checkpoints": ["x"]}}',
                        aftership_body(self.number, event_id="e" * 101),
                    )
                ]
            ),
        }[name]


class PaymentWebhook:
    """Shared by Alipay and WeChat Pay: a refusal is kept as an unverified notification."""

    needs = ("settings", "provider_key", "other_key", "place_order")
    applied = {"billing.Payment": 1, "billing.PaymentNotification": 1}
    refusal_kept = {"billing.PaymentNotification": 1}

    def __init__(self, *, settings, provider_key, other_key, place_order):
        settings.ALIPAY_APP_ID = "2021000000000001"
        settings.ALIPAY_PUBLIC_KEY = public_pem(provider_key)
        settings.WECHATPAY_PLATFORM_PUBLIC_KEY = public_pem(provider_key)
        settings.WECHATPAY_APIV3_KEY = APIV3_KEY
        settings.WECHATPAY_MCHID = "1900000001"
        self.key, self.other_key = provider_key, other_key
        self.order = place_order()

    def kept_reason(self, attack, answer):
        """Return the reason kept with a refused notification answered ``answer``."""
        raise NotImplementedError


class AlipayNotification(PaymentWebhook):
    """/webhooks/payments/alipay/: a form signed RSA2 with Alipay's key; no timestamp."""

    path = "/webhooks/payments/alipay/"

    def signed(self, key=None, **extra):
        return Sent(
            self.path, alipay_notify(key or self.key, order=self.order, **extra)
        )

    def valid(self):
        return self.signed()

    def answer(self, response):
        return response.status_code, response.content

    def kept_reason(self, attack, answer):
        return {"signed_bad_amount": NOT_MONEY, "signed_overlong": OVERLONG}.get(
            attack, "Bad signature."
        )

    def attack(self, name):
        valid, other_key = self.valid(), self.other_key
        unsigned = {
            k: v for k, v in valid.body.items() if k not in ("sign", "sign_type")
        }
        return {
            "valid": Attack([valid]),
            "unsigned": Attack([Sent(self.path, unsigned)]),
            "wrong_key": Attack([self.signed(other_key)]),
            "tampered": Attack(
                [Sent(self.path, {**valid.body, "total_amount": "0.01"})]
            ),
            "garbled_signature": Attack(
                [Sent(self.path, {**valid.body, "sign": "签名"})]
            ),
            # Alipay resends for 25 hours, each resend signed anew with its own time.
            "stale": Attack(
                [self.signed(notify_time="2026-11-29 11:00:00")], before=[valid]
            ),
            "replay": Attack([valid], before=[valid]),
            "signed_bad_amount": Attack(
                [
                    self.signed(total_amount=amount)
                    for amount in ("NaN", "Infinity", "1e30", "0.001")
                ]
            ),
            "signed_overlong": Attack([self.signed(trade_no="9" * 101)]),
        }[name]


class WechatPayCallback(PaymentWebhook):
    """/webhooks/payments/wechatpay/: Wechatpay-* headers sign "timestamp\\nnonce\\nbody\\n"."""

    path = "/webhooks/payments/wechatpay/"

    def signed(self, body=None, *, key=None, timestamp=None):
        body = body or wechat_body(order=self.order)
        timestamp = int(time.time()) if timestamp is None else timestamp
        return Sent(
            self.path, body, wechat_headers(key or self.key, body, timestamp=timestamp)
        )

    def valid(self):
        return self.signed()

    def answer(self, response):
        return response.status_code, response.json()

    def kept_reason(self, attack, answer):
        return answer[1]["message"]

    def attack(self, name):
        valid, other_key = self.valid(), self.other_key
        cheaper = wechat_body(order=self.order, amount_fen=1)
        now = int(time.time())
        garbled = {**valid.headers, "HTTP_WECHATPAY_SIGNATURE": "signé"}
        return {
            "valid": Attack([valid]),
            "unsigned": Attack([Sent(self.path, valid.body)]),
            "malformed": Attack(
                [
                    Sent(
                        self.path,
                        valid.body,
                        {**valid.headers, "HTTP_WECHATPAY_TIMESTAMP": stamp},
                    )
                    for stamp in UNREADABLE_TIMESTAMPS
                ]
            ),
            "wrong_key": Attack([self.signed(key=other_key)]),
            "tampered": Attack([Sent(self.path, cheaper, valid.headers)]),
            "garbled_signature": Attack([Sent(self.path, valid.body, garbled)]),
            "stale": Attack([self.signed(timestamp=now - 301)]),
            "huge_timestamp": Attack([self.signed(timestamp=HUGE_TIMESTAMP)]),
            "replay": Attack([valid], before=[valid]),
            "signed_bad_amount": Attack(
                [self.signed(wechat_body(order=self.order, amount_fen=10**20))]
            ),
            "signed_overlong": Attack(
                [self.signed(wechat_body(order=self.order, transaction_id="9" * 101))]
            ),
        }[name]


ENDPOINTS = {
    "channel_push": ChannelPush,
    "kuaidi100": Kuaidi100Push,
    "aftership": AfterShipWebhook,
    "alipay": AlipayNotification,
    "wechatpay": WechatPayCallback,
}
ROWS = [
    pytest.param(endpoint, attack, answer, id=f"{endpoint}-{attack}")
    for endpoint, attacks in TABLE.items()
    for attack, answer in attacks.items()
]


@pytest.fixture(scope="module")
def provider_key():
    """Alipay's and WeChat Pay's private key (their public half is in our settings)."""
    return rsa_key()


@pytest.fixture(scope="module")
def other_key():
    return rsa_key()


@pytest.fixture
def parcel(settings, place_order, ship):
    """A shipped parcel followed through Kuaidi100 (polling: no subscription sent)."""
    settings.TRACKING_PROVIDER = "kuaidi100"
    settings.KUAIDI100_SALT = ""
    (shipped,) = ship(place_order(payment_method="cod"))
    return shipped


def test_the_table_covers_every_inbound_webhook_url():
    from django.urls import get_resolver

    def routes(resolver, prefix=""):
        for entry in resolver.url_patterns:
            if hasattr(entry, "url_patterns"):
                yield from routes(entry, prefix + str(entry.pattern))
            else:
                yield prefix + str(entry.pattern)

    webhooks = sorted(r for r in routes(get_resolver()) if r.startswith("webhooks/"))
    assert webhooks == [
        "webhooks/carriers/aftership/",
        "webhooks/carriers/kuaidi100/",
        "webhooks/channels/<slug:code>/",
        "webhooks/payments/alipay/",
        "webhooks/payments/wechatpay/",
    ]
    assert sorted(TABLE) == sorted(ENDPOINTS)


@pytest.mark.parametrize(("endpoint", "attack", "answer"), ROWS)
def test_each_webhook_answers_each_attack_as_its_provider_expects_and_changes_nothing(
    endpoint, attack, answer, client, request, db
):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # reasons are compared in English
    kind = ENDPOINTS[endpoint]
    site = kind(**{name: request.getfixturevalue(name) for name in kind.needs})
    plan = site.attack(attack)
    for sent in plan.before:
        assert site.answer(sent.post(client)) == TABLE[endpoint]["valid"]

    for sent in plan.sent:
        before = snapshot()
        response = sent.post(client)
        assert site.answer(response) == answer
        changed = changes(before, snapshot())
        if attack == "valid":
            assert {key: changed.get(key) for key in site.applied} == site.applied
        elif response.status_code < 300:  # acknowledged: a resend, without effect
            assert changed == {}
        else:  # refused: nothing written but the payment providers' kept rejection
            assert changed == getattr(site, "refusal_kept", {})
            if isinstance(site, PaymentWebhook):
                kept = PaymentNotification.objects.latest("pk")
                assert (kept.verified, kept.outcome, kept.message) == (
                    False,
                    PaymentNotification.Outcome.REJECTED,
                    site.kept_reason(attack, answer),
                )
