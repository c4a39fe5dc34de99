"""The demo carrier (演示快递): a simulated courier whose parcels move over time.

Each parcel's journey is worked out from its tracking number alone, so every poll of
the same parcel at the same moment gives the same scans, and a later poll only adds
newer ones — as a real carrier behaves. Most parcels are delivered about 30 hours after
pick-up; some are delayed, need a second attempt, are refused and return, or are lost
(no scan after a while, then expired). ``time_scale`` shrinks the hours so a demo
shows parcels moving within minutes (``DEMO_CARRIER_TIME_SCALE``; 60 makes an hour a
minute).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

from tracking.adapters.carriers import (
    ProviderError,
    Scan,
    TrackingResult,
    provider_json,
)
from tracking.models import TrackingStatus as T

CITIES = [
    "杭州市",
    "上海市",
    "南京市",
    "广州市",
    "深圳市",
    "成都市",
    "武汉市",
    "北京市",
]

# Outcome → share of parcels, out of 100.
OUTCOMES = (
    ("delivered", 80),
    ("delayed", 8),
    ("second_attempt", 5),
    ("refused", 4),
    ("lost", 3),
)


@dataclass(frozen=True)
class _Step:
    hours: float
    status: str
    description: str
    city_index: int


def outcome_of(tracking_number: str) -> str:
    roll = int(hashlib.sha256(tracking_number.encode()).hexdigest(), 16) % 100
    for outcome, share in OUTCOMES:
        if roll < share:
            return outcome
        roll -= share
    return "delivered"


def _journey(outcome: str) -> list[_Step]:
    steps = [
        _Step(1, T.IN_TRANSIT, "快件已被演示快递揽收", 0),
        _Step(6, T.IN_TRANSIT, "快件已从{city}转运中心发出", 0),
        _Step(20, T.IN_TRANSIT, "快件已到达{city}转运中心", 1),
    ]
    if outcome == "lost":
        return [*steps, _Step(24 * 7, T.EXPIRED, "快件长时间无物流更新，已登记丢失", 1)]
    late = 48 if outcome == "delayed" else 0
    if outcome == "delayed":
        steps.append(_Step(24, T.EXCEPTION, "因天气原因快件滞留，将延迟派送", 1))
    steps.append(_Step(26 + late, T.OUT_FOR_DELIVERY, "快件正在派送中（{city}）", 1))
    if outcome == "second_attempt":
        steps += [
            _Step(28, T.FAILED_ATTEMPT, "派送未成功：电话无人接听，明日再派", 1),
            _Step(50, T.OUT_FOR_DELIVERY, "快件再次派送中（{city}）", 1),
            _Step(52, T.DELIVERED, "已签收，签收人：本人", 1),
        ]
    elif outcome == "refused":
        steps += [
            _Step(28, T.EXCEPTION, "收件人拒收快件", 1),
            _Step(60, T.RETURNED, "快件已退回寄件人", 0),
        ]
    else:
        steps.append(_Step(30 + late, T.DELIVERED, "已签收，签收人：本人", 1))
    return steps


def demo_tracking(
    *, tracking_number: str, shipped_at: datetime, now: datetime, time_scale: float = 1
) -> TrackingResult:
    """Return the scans the demo carrier has made for this parcel by ``now``."""
    outcome = outcome_of(tracking_number)
    digits = int(hashlib.md5(tracking_number.encode()).hexdigest(), 16)  # noqa: S324
    cities = [CITIES[digits % len(CITIES)], CITIES[(digits // 7) % len(CITIES)]]
    scans = []
    for step in _journey(outcome):
        at = shipped_at + timedelta(hours=step.hours / time_scale)
        if at > now:
            break
        city = cities[step.city_index]
        scans.append(
            Scan(
                occurred_at=at,
                status=step.status,
                description=step.description.format(city=city),
                location=city,
                raw={"outcome": outcome, "hours": step.hours},
            )
        )
    return TrackingResult(
        carrier_code="demo",
        tracking_number=tracking_number,
        scans=scans,
        delivered=bool(scans) and scans[-1].status == T.DELIVERED,
    )


# --- Over HTTP: the demo carrier as a service, and its client ----------------------
#
# ``GET /track?number=DEMO…&shipped_at=<ISO 8601>`` answers
# ``{"number": …, "scans": [{"time", "status", "description", "location"}, …]}``
# (oldest first). A real carrier knows when it picked the parcel up; the simulation
# is told, so it needs no database of its own.


class DemoCarrierHandler(BaseHTTPRequestHandler):
    """Serves ``demo_tracking`` over HTTP; ``time_scale`` as ``DEMO_CARRIER_TIME_SCALE``."""

    time_scale: float = 1.0
    protocol_version = "HTTP/1.1"  # keep-alive, as a carrier's API gateway does
    # Headers and body go out in two writes; without this, delayed ACKs add ~40 ms.
    disable_nagle_algorithm = True

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        try:
            number = query["number"][0]
            shipped_at = datetime.fromisoformat(query["shipped_at"][0])
            if url.path != "/track" or shipped_at.tzinfo is None:
                raise ValueError
        except (KeyError, IndexError, ValueError):
            return self._answer(400, {"error": "number and shipped_at (ISO, aware)"})
        result = demo_tracking(
            tracking_number=number,
            shipped_at=shipped_at,
            now=datetime.now(UTC),
            time_scale=self.time_scale,
        )
        scans = [
            {
                "time": scan.occurred_at.isoformat(),
                "status": str(scan.status),
                "description": scan.description,
                "location": scan.location,
            }
            for scan in result.scans
        ]
        return self._answer(200, {"number": number, "scans": scans})

    def _answer(self, status: int, body: dict):
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def demo_carrier_serve(
    host: str = "127.0.0.1", port: int = 0, time_scale: float = 1.0
) -> ThreadingHTTPServer:
    """Return a started-on-demand server for the demo carrier (call ``serve_forever``)."""
    handler = type("Handler", (DemoCarrierHandler,), {"time_scale": time_scale})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


class DemoCarrierClient:
    """Asks a demo carrier served over HTTP (``DEMO_CARRIER_URL``) for a parcel's scans."""

    _sessions: dict[str, requests.Session] = {}

    def __init__(self, *, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _session(self) -> requests.Session:
        # One pooled connection per worker process and carrier, as for any API.
        if self.base_url not in self._sessions:
            self._sessions[self.base_url] = requests.Session()
        return self._sessions[self.base_url]

    def query(self, *, tracking_number: str, shipped_at: datetime) -> TrackingResult:
        try:
            response = self._session().get(
                f"{self.base_url}/track",
                params={
                    "number": tracking_number,
                    "shipped_at": shipped_at.isoformat(),
                },
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise ProviderError(f"demo carrier unreachable: {exc}", retry=True) from exc
        if response.status_code != 200:
            raise ProviderError(
                f"demo carrier answered {response.status_code}",
                code=str(response.status_code),
                retry=response.status_code >= 500,
            )
        try:
            body = provider_json(response.content)  # NUL or nesting: garbage
            scans = [
                Scan(
                    occurred_at=datetime.fromisoformat(item["time"]),
                    status=T(item["status"]),
                    description=item["description"],
                    location=item.get("location", ""),
                    raw=item,
                )
                for item in body["scans"]
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderError(f"demo carrier: unreadable answer ({exc})") from exc
        return TrackingResult(
            carrier_code="demo",
            tracking_number=tracking_number,
            scans=scans,
            delivered=bool(scans) and scans[-1].status == T.DELIVERED,
        )
