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
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracking.adapters.carriers import Scan, TrackingResult
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
