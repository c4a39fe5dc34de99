"""Delays and lost parcels: transit-time standards, and detection with a controllable clock."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.services import shipment_mark_delivered
from orders.models import OrderEvent
from tracking.models import ParcelException, TransitStandard
from tracking.parcel_exceptions import (
    StandardBook,
    exception_close,
    parcel_exceptions_detect,
    percentile_hours,
    transit_standard_set,
    transit_standards_learn,
)
from tracking.services import tracking_event_record
from tracking.tasks import parcel_exceptions_detect_task

K = ParcelException.Kind
NOW = timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.TRANSIT_STANDARD_DEFAULT_HOURS = 72
    settings.PARCEL_DELAY_NO_SCAN_HOURS = 48
    settings.PARCEL_LOST_NO_SCAN_DAYS = 7
    settings.PARCEL_LOST_PAST_ESTIMATE_HOURS = 120


@pytest.fixture
def parcel(place_order, ship):
    """A parcel from 浙江省 to 广东省, shipped at NOW with no scans yet."""
    (shipment,) = ship(place_order(payment_method="cod"))
    Shipment.objects.filter(pk=shipment.pk).update(shipped_at=NOW)
    shipment.refresh_from_db()
    return shipment


def scan(shipment, at, status="in_transit", description="快件已到达深圳转运中心"):
    return tracking_event_record(
        shipment=shipment,
        status=status,
        description=description,
        occurred_at=at,
        location="深圳市",
        actor="carrier:test",
    )


def open_exception(shipment):
    return ParcelException.objects.filter(
        shipment=shipment, status=ParcelException.Status.OPEN
    ).first()


def test_a_parcel_within_its_standard_and_recently_scanned_is_not_flagged(parcel):
    scan(parcel, NOW + timedelta(hours=30))

    result = parcel_exceptions_detect(now=NOW + timedelta(hours=60))

    assert (result.checked, result.flagged) == (1, 0)
    assert not ParcelException.objects.exists()


def test_a_parcel_past_its_standard_is_delayed_since_it_was_expected(parcel):
    scan(parcel, NOW + timedelta(hours=70))

    result = parcel_exceptions_detect(now=NOW + timedelta(hours=73))

    exception = open_exception(parcel)
    assert result.flagged == 1
    assert exception.kind == K.DELAYED
    assert exception.since == NOW + timedelta(hours=72)
    assert "72" in exception.reason


def test_a_parcel_with_no_scan_for_the_set_hours_is_delayed_within_its_standard(
    parcel, settings
):
    settings.PARCEL_DELAY_NO_SCAN_HOURS = 24
    scan(parcel, NOW + timedelta(hours=2))

    parcel_exceptions_detect(now=NOW + timedelta(hours=27))

    exception = open_exception(parcel)
    assert exception.kind == K.DELAYED
    assert exception.since == NOW + timedelta(hours=2)


def test_no_scan_for_seven_days_makes_the_delayed_parcel_probably_lost(parcel):
    scan(parcel, NOW + timedelta(hours=2))
    parcel_exceptions_detect(now=NOW + timedelta(hours=73))
    first = open_exception(parcel)

    result = parcel_exceptions_detect(now=NOW + timedelta(days=7, hours=3))

    exception = open_exception(parcel)
    assert result.changed == 1
    assert exception.pk == first.pk  # the same exception, escalated
    assert exception.kind == K.LOST
    assert exception.since == NOW + timedelta(hours=2)


def test_far_past_its_estimate_a_parcel_still_scanned_is_probably_lost(parcel):
    for hours in (24, 96, 150, 190):
        scan(parcel, NOW + timedelta(hours=hours), description=f"中转 {hours}")

    parcel_exceptions_detect(now=NOW + timedelta(hours=193))

    exception = open_exception(parcel)
    assert exception.kind == K.LOST
    assert exception.since == NOW + timedelta(hours=72)


def test_a_new_scan_that_moves_the_parcel_on_clears_the_flag(parcel, settings):
    settings.PARCEL_DELAY_NO_SCAN_HOURS = 24
    real_now = timezone.now()
    Shipment.objects.filter(pk=parcel.pk).update(
        shipped_at=real_now - timedelta(hours=30)
    )
    parcel_exceptions_detect(now=real_now)
    assert open_exception(parcel).kind == K.DELAYED

    scan(parcel, real_now)

    exception = ParcelException.objects.get(shipment=parcel)
    assert exception.status == ParcelException.Status.CLEARED
    assert exception.ended_at is not None
    messages = list(
        OrderEvent.objects.filter(data__exception=exception.pk).values_list(
            "message", flat=True
        )
    )
    assert len(messages) == 2  # flagged, then cleared


@pytest.mark.parametrize(
    ("status", "description", "kind"),
    [
        ("failed_attempt", "派送未成功：电话无人接听", K.FAILED_ATTEMPT),
        ("exception", "收件人拒收快件", K.REFUSED),
        ("exception", "因天气原因快件滞留", K.DELAYED),
        ("returned", "快件已退回寄件人", K.RETURNED),
        ("expired", "快件长时间无物流更新，已登记丢失", K.LOST),
    ],
)
def test_a_carrier_scan_reporting_trouble_flags_the_parcel_at_once(
    parcel, status, description, kind
):
    scan(parcel, timezone.now(), status=status, description=description)

    exception = open_exception(parcel)
    assert exception.kind == kind
    assert description in exception.reason


def test_a_delivered_parcel_clears_its_flag(parcel):
    parcel_exceptions_detect(now=NOW + timedelta(hours=80))
    assert open_exception(parcel) is not None

    scan(parcel, NOW + timedelta(hours=81), status="delivered", description="已签收")

    assert open_exception(parcel) is None
    assert ParcelException.objects.get().status == ParcelException.Status.CLEARED


def test_a_closed_exception_is_not_flagged_again_until_something_new_happens(parcel):
    parcel_exceptions_detect(now=NOW + timedelta(hours=80))
    exception_close(
        exception=open_exception(parcel), resolution="客户同意等待", actor="test"
    )

    parcel_exceptions_detect(now=NOW + timedelta(hours=90))
    assert open_exception(parcel) is None

    parcel_exceptions_detect(now=NOW + timedelta(days=8))  # worse: probably lost
    assert open_exception(parcel).kind == K.LOST


def test_running_detection_twice_at_the_same_time_changes_nothing(parcel):
    parcel_exceptions_detect(now=NOW + timedelta(hours=80))
    events = OrderEvent.objects.count()

    result = parcel_exceptions_detect(now=NOW + timedelta(hours=80))

    assert (result.flagged, result.changed, result.cleared) == (0, 0, 0)
    assert OrderEvent.objects.count() == events


def test_the_beat_task_detects_with_the_real_clock(parcel):
    Shipment.objects.filter(pk=parcel.pk).update(
        shipped_at=timezone.now() - timedelta(days=4)
    )

    assert parcel_exceptions_detect_task()["flagged"] == 1


# --- Standards ---------------------------------------------------------------


def test_a_staff_standard_for_the_route_sets_when_a_parcel_is_late(parcel):
    transit_standard_set(
        carrier=parcel.carrier,
        origin_province="浙江省",
        destination_province="广东省",
        hours=24,
        actor="test",
    )

    parcel_exceptions_detect(now=NOW + timedelta(hours=25))

    assert open_exception(parcel).expected_by == NOW + timedelta(hours=24)


def test_staff_standards_win_over_learned_ones_and_exact_routes_over_any(carrier):
    S = TransitStandard.Source
    standards = [
        TransitStandard(carrier=carrier, origin_province="浙江省", destination_province="广东省", hours=40, source=S.LEARNED),
        TransitStandard(carrier=carrier, origin_province="浙江省", destination_province="广东省", hours=30, source=S.STAFF),
        TransitStandard(carrier=carrier, origin_province="", destination_province="新疆维吾尔自治区", hours=120, source=S.STAFF),
    ]  # fmt: skip
    book = StandardBook(standards)

    assert book.hours_for(carrier.pk, "浙江省", "广东省") == 30
    assert book.hours_for(carrier.pk, "上海市", "新疆维吾尔自治区") == 120
    assert book.hours_for(carrier.pk, "上海市", "北京市") == 72  # the default


def test_the_percentile_is_nearest_rank_in_whole_hours():
    assert percentile_hours([10, 20, 30, 40, 50], 90) == 50
    assert percentile_hours([float(h) for h in range(1, 101)], 90) == 90
    assert percentile_hours([0.2], 90) == 1


def test_standards_are_learned_per_route_once_enough_parcels_were_delivered(
    place_order, ship, settings, stocked_product
):
    settings.TRANSIT_LEARN_MIN_PARCELS = 5
    settings.TRANSIT_LEARN_PERCENTILE = 90
    for hours in (20, 30, 25, 50, 40):
        (shipment,) = ship(place_order(payment_method="cod"))
        Shipment.objects.filter(pk=shipment.pk).update(
            shipped_at=NOW - timedelta(hours=hours)
        )
        shipment_mark_delivered(shipment=shipment, actor="test", delivered_at=NOW)
    other = place_order(
        payment_method="cod",
        address={
            "province": "北京市",
            "city": "北京市",
            "district": "朝阳区",
            "address_detail": "建国路1号",
        },
    )
    (few,) = ship(other)
    shipment_mark_delivered(shipment=few, actor="test", delivered_at=NOW)

    assert transit_standards_learn(now=NOW) == 1

    learned = TransitStandard.objects.get()
    assert (learned.origin_province, learned.destination_province) == (
        "浙江省",
        "广东省",
    )
    assert (learned.hours, learned.sample_size) == (50, 5)
    assert learned.source == TransitStandard.Source.LEARNED


def test_learning_again_updates_the_figure_and_keeps_staff_standards(
    place_order, ship, settings
):
    settings.TRANSIT_LEARN_MIN_PARCELS = 1
    (shipment,) = ship(place_order(payment_method="cod"))
    Shipment.objects.filter(pk=shipment.pk).update(shipped_at=NOW - timedelta(hours=10))
    shipment_mark_delivered(shipment=shipment, actor="test", delivered_at=NOW)
    transit_standard_set(
        carrier=shipment.carrier,
        origin_province="浙江省",
        destination_province="广东省",
        hours=48,
        actor="test",
    )

    transit_standards_learn(now=NOW)
    transit_standards_learn(now=NOW)

    assert sorted(TransitStandard.objects.values_list("source", "hours")) == [
        ("learned", 10),
        ("staff", 48),
    ]
