"""What every carrier or tracking aggregator adapter gives the tracking app.

An adapter turns a provider's own wording into ``Scan`` records with one of our
normalised statuses (``tracking.models.TrackingStatus``). Adapters talk HTTP and
parse; they never touch the database — ``tracking.services`` stores what they return.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime


class ProviderError(Exception):
    """The provider answered with an error or something we cannot read.

    ``retry``: whether asking again later may help (busy, rate-limited, timeout),
    as opposed to a request that will never succeed (unknown number, bad key).
    """

    def __init__(self, message: str, *, code: str = "", retry: bool = False):
        super().__init__(message)
        self.code = code
        self.retry = retry


def provider_json(text: str | bytes):
    """Return the provider's JSON decoded; raise ValueError, as for bad JSON, if any
    string in it holds a NUL character or it is nested too deep to decode.

    PostgreSQL stores NUL neither in text nor in jsonb, so one scan with a NUL would
    fail its insert with a server error; a provider that sends NUL sends garbage.
    """
    try:
        data = json.loads(text)
        nul = _holds_nul(data)
    except RecursionError:  # nested deeper than the stack: garbage, not a crash
        raise ValueError("the provider's JSON is nested too deep") from None
    if nul:
        raise ValueError("a NUL character in the provider's JSON")
    return data


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


@dataclass(frozen=True)
class Scan:
    """One event of a parcel's journey, normalised."""

    occurred_at: datetime  # aware
    status: str  # a TrackingStatus value
    description: str
    location: str = ""
    raw: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class TrackingResult:
    """What a provider knows of one parcel: its scans, oldest first."""

    carrier_code: str
    tracking_number: str
    scans: list[Scan]
    delivered: bool = False
