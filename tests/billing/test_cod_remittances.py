"""Carriers' COD remittances: import, matching, differences and their resolution."""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from billing.cod import (
    cod_collection_record,
    cod_difference_resolve,
    cod_missing_refresh,
    cod_remittance_create,
    cod_remittance_import,
)
from billing.models import CodCollection, CodDifference, CodRemittance
from billing.tasks import cod_missing_check_task
from orders.exceptions import OrderError
from orders.models import Order

PS = Order.PaymentStatus
K = CodDifference.Kind


@pytest.fixture
def collected(place_order, ship, staff_user):
    """Return four COD parcels delivered and their 128.00 each collected, by tracking number."""
    parcels = []
    for _ in range(4):
        order = place_order(payment_method="cod")
        [parcel] = ship(order)
        cod_collection_record(order=order, amount=order.total, actor=staff_user)
        parcels.append(parcel)
    return parcels


def csv_bytes(rows, encoding="utf-8"):
    return ("\n".join(",".join(row) for row in rows) + "\n").encode(encoding)


def differences():
    return sorted(
        (d.kind, d.tracking_number, d.expected, d.received)
        for d in CodDifference.objects.filter(resolved_at__isnull=True)
    )


def test_a_gbk_remittance_file_lands_its_good_rows_and_reports_the_bad_one(
    collected, carrier, staff_user
):
    a, b, c, d = (p.tracking_number for p in collected)
    data = csv_bytes(
        [
            ["运单号", "代收金额"],
            [a, "128.00"],
            [b, "￥120.00"],
            [c, "130元"],
            ["SF0000000999", "50.00"],
            [d, "一百"],
            ["", "10.00"],
        ],
        encoding="gbk",
    )

    with translation.override("en"):
        remittance = cod_remittance_import(
            carrier=carrier,
            reference="SF-COD-202611-01",
            remitted_on=date(2026, 11, 27),
            data=data,
            file_name="回款.csv",
            actor=staff_user,
        )

    assert remittance.rejected_rows == [
        {"row": 6, "reason": "'一百' is not an amount."},
        {"row": 7, "reason": "No tracking number."},
    ]
    assert [(line.row_number, line.amount) for line in remittance.lines.all()] == [
        (2, Decimal("128.00")),
        (3, Decimal("120.00")),
        (4, Decimal("130.00")),
        (5, Decimal("50.00")),
    ]
    assert remittance.total == Decimal("428.00")
    assert differences() == [
        (K.EXTRA, c, Decimal("128.00"), Decimal("130.00")),
        (K.SHORT, b, Decimal("128.00"), Decimal("120.00")),
        (K.UNKNOWN, "SF0000000999", Decimal("0.00"), Decimal("50.00")),
    ]


def test_matched_parcels_turn_their_orders_remitted(collected, carrier, staff_user):
    a, b = collected[0], collected[1]

    cod_remittance_create(
        carrier=carrier,
        reference="R1",
        remitted_on=date(2026, 11, 27),
        rows=[(a.tracking_number, Decimal("128.00")), (b.tracking_number, "100")],
        actor=staff_user,
    )

    a.order.refresh_from_db()
    b.order.refresh_from_db()
    collected[2].order.refresh_from_db()
    # Remitted, short or not: the money came in; the shortfall is a difference.
    assert a.order.payment_status == PS.COD_REMITTED
    assert b.order.payment_status == PS.COD_REMITTED
    assert collected[2].order.payment_status == PS.COD_COLLECTED


def test_cash_not_remitted_after_the_allowed_days_is_listed_as_missing(
    collected, carrier, staff_user, settings
):
    settings.COD_REMITTANCE_MISSING_DAYS = 7
    late = collected[3]
    CodCollection.objects.filter(shipment=late).update(
        collected_at=timezone.now() - timedelta(days=8)
    )

    assert cod_missing_refresh() == 1
    assert cod_missing_refresh() == 0  # listed once

    assert differences() == [
        (K.MISSING, late.tracking_number, Decimal("128.00"), Decimal("0.00"))
    ]
    # A later remittance with the parcel resolves it by itself.
    with translation.override("en"):
        cod_remittance_create(
            carrier=carrier,
            reference="R2",
            remitted_on=date(2026, 11, 28),
            rows=[(late.tracking_number, "128.00")],
            actor=staff_user,
        )
    missing = CodDifference.objects.get(kind=K.MISSING)
    assert missing.resolved_at is not None
    assert missing.resolution_note == "Remitted in R2."
    assert differences() == []


def test_a_parcel_remitted_twice_is_all_extra_the_second_time(
    collected, carrier, staff_user
):
    a = collected[0].tracking_number
    cod_remittance_create(
        carrier=carrier,
        reference="R1",
        remitted_on=date(2026, 11, 27),
        rows=[(a, "128.00")],
        actor=staff_user,
    )
    cod_remittance_create(
        carrier=carrier,
        reference="R2",
        remitted_on=date(2026, 11, 28),
        rows=[(a, "128.00")],
        actor=staff_user,
    )

    assert differences() == [(K.EXTRA, a, Decimal("0.00"), Decimal("128.00"))]


def test_the_same_remittance_reference_is_recorded_once(collected, carrier, staff_user):
    rows = [(collected[0].tracking_number, "128.00")]
    cod_remittance_create(
        carrier=carrier,
        reference="R1",
        remitted_on=date(2026, 11, 27),
        rows=rows,
        actor=staff_user,
    )

    with translation.override("en"), pytest.raises(OrderError) as caught:
        cod_remittance_create(
            carrier=carrier,
            reference="R1",
            remitted_on=date(2026, 11, 27),
            rows=rows,
            actor=staff_user,
        )

    assert str(caught.value) == "Remittance R1 of 顺丰速运 is already recorded."
    assert CodRemittance.objects.count() == 1


def test_finance_resolves_a_difference_with_a_note_recording_who_and_when(
    collected, carrier, staff_user
):
    b = collected[1]
    cod_remittance_create(
        carrier=carrier,
        reference="R1",
        remitted_on=date(2026, 11, 27),
        rows=[(b.tracking_number, "120.00")],
        actor=staff_user,
    )
    short = CodDifference.objects.get(kind=K.SHORT)

    with translation.override("en"), pytest.raises(OrderError) as caught:
        cod_difference_resolve(difference=short, note="  ", actor=staff_user)
    assert str(caught.value) == "Say how the difference was resolved."

    resolved = cod_difference_resolve(
        difference=short, note="顺丰补款 8.00，单号 BK-1", actor=staff_user
    )

    assert resolved.resolved_by == staff_user
    assert resolved.resolved_at is not None
    assert resolved.resolution_note == "顺丰补款 8.00，单号 BK-1"
    assert differences() == []
    assert b.order.events.filter(data__cod_difference=short.pk).exists()
    with translation.override("en"), pytest.raises(OrderError) as caught:
        cod_difference_resolve(difference=short, note="again", actor=staff_user)
    assert str(caught.value) == "This difference is already resolved."


def test_a_file_that_is_not_csv_is_refused(carrier, staff_user):
    with translation.override("en"), pytest.raises(OrderError) as caught:
        cod_remittance_import(
            carrier=carrier,
            reference="R9",
            remitted_on=date(2026, 11, 27),
            data=b"PK\x03\x04\x00\x00binary",
            actor=staff_user,
        )

    assert str(caught.value) == "This is not a CSV file; save it as CSV and try again."
    assert not CodRemittance.objects.exists()


def test_the_daily_command_lists_unremitted_cash(collected, settings):
    settings.COD_REMITTANCE_MISSING_DAYS = 3
    CodCollection.objects.update(collected_at=timezone.now() - timedelta(days=4))
    out = StringIO()

    call_command("cod_missing_check", stdout=out)

    assert out.getvalue() == "4 collected parcel(s) newly listed as not remitted.\n"
    assert CodDifference.objects.filter(kind=K.MISSING).count() == 4


def test_beat_runs_the_missing_check_and_lists_unremitted_cash(collected, settings):
    settings.COD_REMITTANCE_MISSING_DAYS = 3
    CodCollection.objects.update(collected_at=timezone.now() - timedelta(days=4))
    entry = settings.CELERY_BEAT_SCHEDULE["cod-missing-check"]

    assert entry["task"] == cod_missing_check_task.name
    assert cod_missing_check_task.apply().get() == 4
    assert CodDifference.objects.filter(kind=K.MISSING).count() == 4
