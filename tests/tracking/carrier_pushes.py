"""Carrier pushes as Kuaidi100 and AfterShip send them, signed, for the webhook tests."""

import json

from django.urls import reverse

from tracking.adapters import aftership, kuaidi100

PUSH_SALT = "push-salt"
AFTERSHIP_SECRET = "whsec"
# One scan: (time, text, Kuaidi100 state code); the default is out for delivery.
OUT_FOR_DELIVERY = ("2026-11-20 08:30:00", "快件正在派送途中", "5")


def kuaidi100_push(client, param, *, salt=PUSH_SALT):
    """POST ``param`` to our Kuaidi100 callback, signed with ``salt``."""
    return client.post(
        reverse("carrier_webhooks:kuaidi100"),
        {"param": param, "sign": kuaidi100.sign(param + salt)},
    )


def push_param(number, status="polling", code="5", *, scans=None):
    """Return a Kuaidi100 push's ``param`` (JSON) for parcel ``number``.

    ``scans`` is a list of (time, text, state code); by default one scan in ``code``.
    """
    scans = scans or [(OUT_FOR_DELIVERY[0], OUT_FOR_DELIVERY[1], code)]
    return json.dumps(
        {
            "status": status,
            "message": "",
            "lastResult": {
                "nu": number,
                "ischeck": "0",
                "status": "200",
                "data": [
                    {
                        "ftime": ftime,
                        "context": context,
                        "areaName": "广东,深圳市",
                        "statusCode": state,
                    }
                    # Kuaidi100 lists the newest scan first.
                    for ftime, context, state in reversed(scans)
                ],
            },
        },
        ensure_ascii=False,
    )


def aftership_body(number, *, event_id="ev-9", message="派送中", ts=1763598600):
    """Return an AfterShip webhook body: one out-for-delivery checkpoint of ``number``."""
    return json.dumps(
        {
            "ts": ts,
            "event": "tracking_update",
            "event_id": event_id,
            "msg": {
                "tracking_number": number,
                "tag": "OutForDelivery",
                "checkpoints": [
                    {
                        "checkpoint_time": "2026-11-20T08:30:00+08:00",
                        "tag": "OutForDelivery",
                        "message": message,
                    }
                ],
            },
        }
    ).encode()


def aftership_post(client, body: bytes, *, signature=None, secret=AFTERSHIP_SECRET):
    """POST ``body`` to our AfterShip webhook, signed with ``secret`` unless
    ``signature`` is given ("" sends no header)."""
    if signature is None:
        signature = aftership.webhook_signature(body, secret)
    headers = {"HTTP_AFTERSHIP_HMAC_SHA256": signature} if signature else {}
    return client.post(
        reverse("carrier_webhooks:aftership"),
        body,
        content_type="application/json",
        **headers,
    )
