"""The demo carrier: deterministic, moving journeys with every kind of ending."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from tracking.adapters.demo import demo_tracking, outcome_of
from tracking.models import TrackingStatus as T

SHIPPED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def journey(number, hours, scale=1):
    return demo_tracking(
        tracking_number=number,
        shipped_at=SHIPPED,
        now=SHIPPED + timedelta(hours=hours),
        time_scale=scale,
    )


def number_with(outcome):
    return next(
        f"DEMO{n:08d}" for n in range(10_000) if outcome_of(f"DEMO{n:08d}") == outcome
    )


def test_the_same_parcel_polled_twice_gives_the_same_scans_and_later_adds_only_newer():
    number = number_with("delivered")
    early, again, later = journey(number, 7), journey(number, 7), journey(number, 40)

    assert early == again
    assert later.scans[: len(early.scans)] == early.scans
    assert [s.status for s in later.scans][-1] == T.DELIVERED
    assert later.delivered and not early.delivered


def test_every_ending_happens_and_most_parcels_arrive():
    outcomes = Counter(outcome_of(f"DEMO{n:08d}") for n in range(2000))

    assert set(outcomes) == {
        "delivered",
        "delayed",
        "second_attempt",
        "refused",
        "lost",
    }
    assert outcomes["delivered"] > 1400


def test_a_refused_parcel_returns_and_a_lost_one_expires():
    refused = journey(number_with("refused"), 24 * 10)
    lost = journey(number_with("lost"), 24 * 10)

    assert refused.scans[-1].status == T.RETURNED
    assert lost.scans[-1].status == T.EXPIRED
    assert not refused.delivered and not lost.delivered


def test_the_time_scale_makes_an_hour_a_minute():
    number = number_with("delivered")

    assert journey(number, 1, scale=60).delivered  # 30 hours → 30 minutes


def test_the_demo_carrier_over_http_gives_the_same_scans_as_in_process(
    loopback_server, db
):
    from tracking.adapters.demo import DemoCarrierClient, DemoCarrierHandler

    number = number_with("refused")
    shipped = datetime.now(UTC) - timedelta(hours=100)
    url = loopback_server(DemoCarrierHandler)

    over_http = DemoCarrierClient(base_url=url).query(
        tracking_number=number, shipped_at=shipped
    )

    in_process = demo_tracking(
        tracking_number=number, shipped_at=shipped, now=datetime.now(UTC)
    )
    assert [(s.occurred_at, s.status, s.description) for s in over_http.scans] == [
        (s.occurred_at, s.status, s.description) for s in in_process.scans
    ]
    assert over_http.scans[-1].status == T.RETURNED


def test_a_bad_request_to_the_demo_carrier_is_a_provider_error(loopback_server):
    import pytest

    from tracking.adapters.carriers import ProviderError
    from tracking.adapters.demo import DemoCarrierClient, DemoCarrierHandler

    client = DemoCarrierClient(base_url=loopback_server(DemoCarrierHandler) + "/nope")

    with pytest.raises(ProviderError, match="answered 404|answered 400"):
        client.query(tracking_number="DEMO1", shipped_at=datetime.now(UTC))
