"""App push: a signed webhook to the shop's own app backend (one per sales channel).

The body is JSON; ``X-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`` with
the channel's push secret, the same scheme the channel uses to push orders to us
(``orders.signing``). ``id`` is the same on every attempt of one message, so the app
backend drops a repeat after a worker died before it could record the send.
"""

import json

import requests
from django.conf import settings

from orders.signing import signature_header


class PushError(Exception):
    """The app backend did not take the message; the task retries."""


def push_body(
    *,
    message_id: str,
    event: str,
    order_number: str,
    recipient: str,
    title: str,
    text: str,
    url: str,
) -> bytes:
    return json.dumps(
        {
            "id": message_id,
            "event": event,
            "order_number": order_number,
            "customer": recipient,
            "title": title,
            "text": text,
            "url": url,
        },
        ensure_ascii=False,
        sort_keys=True,
    ).encode()


def push_send(*, url: str, secret: str, body: bytes, message_id: str) -> str:
    """POST the signed message; return the app backend's reference (or our id)."""
    if not url or not secret:
        raise PushError("the channel has no app push URL or secret")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Signature": signature_header(secret=secret, body=body),
        "Idempotency-Key": message_id,
    }
    try:
        response = requests.post(
            url, data=body, headers=headers, timeout=settings.APP_PUSH_TIMEOUT_SECONDS
        )
    except requests.RequestException as exc:
        raise PushError(f"app backend unreachable: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise PushError(f"app backend answered HTTP {response.status_code}")
    return response.headers.get("X-Message-Reference", message_id)
