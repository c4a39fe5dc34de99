"""AfterShip: the webhook (``aftership-hmac-sha256``) and the tracking query.

Webhook body: JSON ``{ts, event, event_id, msg: <tracking>}``; the header
``aftership-hmac-sha256`` is the base64 HMAC-SHA256 of the raw body with the webhook
secret. A tracking carries ``tag`` / ``subtag`` and ``checkpoints`` (each with
``checkpoint_time``, ``tag``, ``message``, ``location``). Tags map to our statuses in
``TAG_STATUS``; an unknown tag raises ``ProviderError`` instead of being guessed.
"""

import base64
import hashlib
import hmac
from datetime import datetime

import requests
from django.conf import settings

from tracking.adapters.carriers import (
    ProviderError,
    Scan,
    TrackingResult,
    provider_json,
)
from tracking.models import TrackingStatus as T

BASE_URL = "https://api.aftership.com/tracking/2024-10"

TAG_STATUS = {
    "Pending": T.INFO_RECEIVED,
    "InfoReceived": T.INFO_RECEIVED,
    "InTransit": T.IN_TRANSIT,
    "OutForDelivery": T.OUT_FOR_DELIVERY,
    "AttemptFail": T.FAILED_ATTEMPT,
    "AvailableForPickup": T.AVAILABLE_FOR_PICKUP,
    "Delivered": T.DELIVERED,
    "Exception": T.EXCEPTION,
    "Expired": T.EXPIRED,
}
# Our carrier codes → AfterShip courier slugs (unconfirmed ones fall back to ours).
SLUGS = {
    "sf": "sf-express",
    "zto": "zto-express",
    "yto": "yto",
    "yunda": "yunda",
    "sto": "sto",
    "jd": "jd",
    "ems": "china-ems",
    "jt": "jtexpress",
}
# ProviderReceipt.event_id's length; AfterShip's ids are 32 hex digits.
EVENT_ID_MAX = 100
# Exception subtags that mean the parcel is going back.
RETURN_SUBTAGS = frozenset({"Exception_007", "Exception_011"})


def webhook_signature(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_verify(*, body: bytes, signature: str, secret: str) -> bool:
    # As bytes: compare_digest raises on a str with non-ASCII characters (a header
    # arrives as Latin-1, so any byte over 0x7f makes one).
    return bool(secret) and hmac.compare_digest(
        webhook_signature(body, secret).encode(), (signature or "").encode()
    )


def webhook_parse(body: bytes) -> tuple[str, TrackingResult]:
    """Return the webhook's event id (for replay protection) and its tracking."""
    try:
        payload = provider_json(body)
        tracking = payload["msg"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ProviderError("AfterShip webhook without a tracking") from exc
    # Any other shape was a server error further on (a str has no .get, an event id
    # past its column's 100 characters fails the insert on PostgreSQL).
    if not isinstance(tracking, dict):
        raise ProviderError("AfterShip webhook: its tracking is not an object")
    event_id = payload.get("event_id", "")
    if not isinstance(event_id, str | int) or len(str(event_id)) > EVENT_ID_MAX:
        raise ProviderError(f"AfterShip webhook: unreadable event id {event_id!r:.120}")
    return str(event_id), result_from(tracking)


def result_from(tracking: dict) -> TrackingResult:
    checkpoints = tracking.get("checkpoints") or []
    if not isinstance(checkpoints, list):  # a number was a TypeError
        raise ProviderError(
            f"AfterShip checkpoints are not a list: {checkpoints!r:.100}"
        )
    scans = [_scan(c) for c in checkpoints]
    scans.sort(key=lambda scan: scan.occurred_at)
    return TrackingResult(
        carrier_code=str(tracking.get("slug", "")),
        tracking_number=str(tracking.get("tracking_number", "")),
        scans=scans,
        delivered=tracking.get("tag") == "Delivered",
    )


def _scan(checkpoint: dict) -> Scan:
    if not isinstance(checkpoint, dict):
        raise ProviderError(
            f"AfterShip checkpoint is not an object: {checkpoint!r:.200}"
        )
    tag = checkpoint.get("tag", "")
    if tag not in TAG_STATUS:
        raise ProviderError(f"AfterShip tag {tag!r} is not one we know", code=tag)
    status = TAG_STATUS[tag]
    if checkpoint.get("subtag") in RETURN_SUBTAGS:
        status = T.RETURNED
    try:
        when = datetime.fromisoformat(checkpoint["checkpoint_time"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderError(
            f"AfterShip checkpoint without a time: {checkpoint}"
        ) from exc
    if when.tzinfo is None:
        raise ProviderError(f"AfterShip checkpoint time without a zone: {when}")
    return Scan(
        occurred_at=when,
        status=status,
        description=str(checkpoint.get("message", "")).strip(),
        location=str(checkpoint.get("location") or "").strip(),
        raw=checkpoint,
    )


class AfterShip:
    def __init__(self, *, api_key: str, base_url: str = BASE_URL):
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")

    def query(self, *, slug: str, tracking_number: str) -> TrackingResult:
        try:
            response = requests.get(
                f"{self.base_url}/trackings/{SLUGS.get(slug, slug)}/{tracking_number}",
                headers={"as-api-key": self.api_key},
                timeout=settings.TRACKING_PROVIDER_TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            raise ProviderError(f"AfterShip request failed: {exc}", retry=True) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise ProviderError(
                f"AfterShip busy ({response.status_code})",
                code=str(response.status_code),
                retry=True,
            )
        try:
            body = provider_json(response.content)
        except ValueError as exc:
            raise ProviderError("AfterShip answered with something not JSON") from exc
        # A list, a str or null (or such a data or tracking) was a crash (.get).
        if not isinstance(body, dict):
            raise ProviderError(f"AfterShip answered with no object: {body!r:.100}")
        data = body.get("data")
        tracking = data.get("tracking") if isinstance(data, dict) else None
        if response.status_code == 200 and not isinstance(tracking, dict):
            raise ProviderError(f"AfterShip answered with no tracking: {body!r:.100}")
        if response.status_code != 200:
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            raise ProviderError(
                f"AfterShip refused: {meta.get('code')} {meta.get('message', '')}",
                code=str(meta.get("code", response.status_code)),
            )
        return result_from(tracking)
