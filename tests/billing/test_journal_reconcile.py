"""Reconciliation: the journal's totals equal the orders, payments and refunds behind them."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from billing.journal_models import JournalEntry, JournalLine
from billing.models import Payment
from billing.reconcile import journal_reconcile
from billing.services import payment_confirm

D = Decimal
K = JournalEntry.Kind


@pytest.fixture(autouse=True)
def in_english():
    """The service messages below are compared in English."""
    with translation.override("en"):
        yield


def test_a_seeded_month_of_demo_data_reconciles(db):
    call_command("seed_demo", "--orders", "45", stdout=StringIO())
    today = timezone.localdate()
    assert JournalEntry.objects.filter(kind=K.SALE).count() > 5
    assert JournalEntry.objects.filter(kind=K.PAYMENT).count() > 5

    assert journal_reconcile(date_from=today - timedelta(days=40), date_to=today) == []
    for start in range(0, 40, 7):  # any period, not only the whole
        day = today - timedelta(days=start)
        assert journal_reconcile(date_from=day - timedelta(days=6), date_to=day) == []
    out = StringIO()
    call_command(
        "journal_reconcile",
        "--from",
        str(today - timedelta(days=40)),
        "--to",
        str(today),
        stdout=out,
    )
    assert out.getvalue().startswith("The journal reconciles for ")


def test_the_command_fails_listing_the_difference(place_order, ship):
    order = place_order(quantity=1)
    payment_confirm(
        order=order, method=Payment.Method.ALIPAY, amount=D("128.00"), actor="test"
    )
    ship(order)
    # a payment the journal never saw (written behind the services' back)
    Payment.objects.create(order=order, method=Payment.Method.OTHER, amount=D("5.00"))
    today = timezone.localdate()
    err = StringIO()

    with pytest.raises(CommandError) as error:
        call_command(
            "journal_reconcile", "--from", str(today), "--to", str(today), stderr=err
        )

    assert str(error.value) == (
        f"The journal does not reconcile for {today} – {today}: 1 difference(s)."
    )
    assert err.getvalue() == (
        "Payments received: journal 128.00, records 133.00, difference -5.00\n"
    )


def test_an_entry_that_does_not_balance_is_listed(place_order, ship):
    order = place_order(quantity=1, payment_method="cod")
    ship(order)
    entry = JournalEntry.objects.get(kind=K.COGS)
    # only possible by writing rows directly: the service refuses it
    JournalLine.objects.filter(entry=entry, debit__gt=0).update(debit=D("19.00"))
    today = timezone.localdate()

    figures = [d.figure for d in journal_reconcile(date_from=today, date_to=today)]

    assert figures == ["Cost of goods shipped", f"Entry {entry}"]


def test_with_recognition_at_delivery_only_delivered_orders_count(
    settings, place_order, ship
):
    from fulfillment.services import shipment_mark_delivered

    settings.SALE_RECOGNISED_AT = "delivery"
    delivered, shipped = place_order(quantity=1), place_order(quantity=2)
    for order in (delivered, shipped):
        payment_confirm(
            order=order,
            method=Payment.Method.ALIPAY,
            amount=order.total,
            actor="test",
        )
    (parcel,) = ship(delivered)
    ship(shipped)
    shipment_mark_delivered(shipment=parcel, actor="test")
    today = timezone.localdate()

    assert journal_reconcile(date_from=today, date_to=today) == []
    assert JournalEntry.objects.get(kind=K.SALE).order == delivered
