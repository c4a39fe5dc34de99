"""Signed webhooks: ``X-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``.

Several ``v1`` values may be sent while a secret is being rotated; one match is enough.
"""

import hashlib
import hmac
import time

from django.utils.translation import gettext as _


class SignatureError(Exception):
    """The request is not proven to come from the channel; the message says why."""


def signature_compute(*, secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """Return the header value a sender puts on ``body`` (used by our tests and outbound hooks)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature_compute(secret=secret, timestamp=timestamp, body=body)}"


def signature_verify(
    *, header: str, body: bytes, secret: str, tolerance: int, now: float | None = None
) -> str:
    """Return the matching signature, or raise SignatureError (missing, stale, or wrong)."""
    if not secret:
        raise SignatureError(_("This channel does not accept pushed orders."))
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        key, _sep, value = part.strip().partition("=")
        # isdigit() alone takes "²", and int() refuses over 4300 digits: either was
        # a server error instead of a malformed header.
        if key == "t" and value.isascii() and value.isdigit():
            try:
                timestamp = int(value)
            except ValueError:
                timestamp = None
        elif key == "v1" and value:
            candidates.append(value.lower())
    if timestamp is None or not candidates:
        raise SignatureError(_("The X-Signature header is missing or malformed."))
    now = time.time() if now is None else now
    # Compared, not subtracted: a timestamp of hundreds of digits overflows a float.
    if not now - tolerance <= timestamp <= now + tolerance:
        raise SignatureError(
            _("The signature's timestamp is too old or in the future.")
        )
    expected = signature_compute(secret=secret, timestamp=timestamp, body=body)
    for candidate in candidates:
        # As bytes: compare_digest raises on a str with non-ASCII characters.
        if hmac.compare_digest(candidate.encode(), expected.encode()):
            return expected
    raise SignatureError(_("The signature does not match."))
