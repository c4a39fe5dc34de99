"""The journal: balanced, append-only entries written by the services, once per source."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from billing.journal import (
    JournalError,
    Posting,
    accounts_ensure,
    journal_entry_reverse,
    journal_post,
    sale_postings,
)
from billing.models import JournalEntry, JournalLine, Payment
from billing.services import (
    payment_confirm,
    refund_approve,
    refund_mark_paid,
    refund_request,
)
from fulfillment.models import Shipment
from fulfillment.services import shipment_mark_delivered
from inventory.models import Product
from orders.models import Order
from tests.factories.pricing import ShippingRuleFactory

D = Decimal
K = JournalEntry.Kind


@pytest.fixture(autouse=True)
def in_english():
    """The service messages below are compared in English."""
    with translation.override("en"):
        yield


def lines_of(entry):
    return sorted(
        (line.account.code, line.debit, line.credit)
        for line in entry.lines.select_related("account")
    )


def balances(**filters):
    """Return {account code: debit − credit} over the entries matching ``filters``."""
    out = {}
    for line in JournalLine.objects.filter(**filters).select_related("account"):
        out[line.account.code] = (
            out.get(line.account.code, D("0")) + line.debit - line.credit
        )
    return {code: total for code, total in out.items() if total}


@pytest.fixture
def paid_order(place_order):
    """An order of 2 × ¥128.00 (cost ¥20.00 each), paid by Alipay."""
    order = place_order(quantity=2)
    payment_confirm(
        order=order, method=Payment.Method.ALIPAY, amount=D("256.00"), actor="test"
    )
    order.refresh_from_db()
    return order


def test_a_balanced_entry_is_written_with_its_lines(db):
    entry = journal_post(
        kind=K.PAYMENT,
        source="test:1",
        postings=[
            Posting("1001", debit=D("10.005")),
            Posting("1122", credit=D("10.01")),
        ],
    )

    assert lines_of(entry) == [
        ("1001", D("10.01"), D("0.00")),
        ("1122", D("0.00"), D("10.01")),
    ]


def test_an_unbalanced_entry_is_refused_and_nothing_is_written(db):
    with pytest.raises(JournalError) as error:
        journal_post(
            kind=K.PAYMENT,
            source="test:1",
            postings=[
                Posting("1001", debit=D("10.00")),
                Posting("1122", credit=D("9.99")),
            ],
        )

    assert str(error.value) == (
        "The entry does not balance: debits 10.00, credits 9.99."
    )
    assert not JournalEntry.objects.exists()


def test_the_database_refuses_a_two_sided_or_negative_line(db):
    accounts = accounts_ensure()
    entry = JournalEntry.objects.create(date="2026-11-01", kind=K.PAYMENT, source="x")
    for debit, credit in ((D("1"), D("1")), (D("-1"), D("0")), (D("0"), D("0"))):
        with pytest.raises(IntegrityError), transaction.atomic():
            JournalLine.objects.create(
                entry=entry,
                account=accounts["1001"],
                debit=debit,
                credit=credit,
                date=entry.date,
            )


def test_the_same_source_is_posted_once(db):
    postings = [Posting("1001", debit=D("5")), Posting("1122", credit=D("5"))]
    first = journal_post(kind=K.PAYMENT, source="payment:9", postings=postings)

    again = journal_post(kind=K.PAYMENT, source="payment:9", postings=postings)

    assert first is not None and again is None
    assert JournalEntry.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalEntry.objects.create(
            date="2026-11-01", kind=K.PAYMENT, source="payment:9"
        )


def test_a_reversing_entry_mirrors_the_entry_and_is_posted_once(db):
    entry = journal_post(
        kind=K.PAYMENT,
        source="payment:1",
        postings=[Posting("1012", debit=D("7.50")), Posting("1122", credit=D("7.50"))],
    )

    reversal = journal_entry_reverse(entry=entry)

    assert reversal.reverses == entry and reversal.kind == K.REVERSAL
    assert lines_of(reversal) == [
        ("1012", D("0.00"), D("7.50")),
        ("1122", D("7.50"), D("0.00")),
    ]
    assert journal_entry_reverse(entry=entry) is None
    assert balances() == {}


def test_sale_postings_split_goods_shipping_discount_and_tax():
    included = Order(
        subtotal=D("200.00"),
        discount_total=D("20.00"),
        shipping_fee=D("10.00"),
        tax_total=D("20.71"),
        total=D("190.00"),
        prices_include_tax=True,
    )
    added = Order(
        subtotal=D("200.00"),
        discount_total=D("20.00"),
        shipping_fee=D("10.00"),
        tax_total=D("23.40"),
        total=D("213.40"),
        prices_include_tax=False,
    )

    assert [(p.account, p.debit, p.credit) for p in sale_postings(included)] == [
        ("1122", D("190.00"), D("0.00")),
        ("6002", D("20.00"), D("0.00")),
        ("6001", D("0.00"), D("179.29")),
        ("6051", D("0.00"), D("10.00")),
        ("2221", D("0.00"), D("20.71")),
    ]
    assert [(p.account, p.debit, p.credit) for p in sale_postings(added)] == [
        ("1122", D("213.40"), D("0.00")),
        ("6002", D("20.00"), D("0.00")),
        ("6001", D("0.00"), D("200.00")),
        ("6051", D("0.00"), D("10.00")),
        ("2221", D("0.00"), D("23.40")),
    ]


def test_payment_is_posted_to_its_clearing_account(paid_order):
    entry = JournalEntry.objects.get(kind=K.PAYMENT, order=paid_order)

    assert lines_of(entry) == [
        ("1012", D("256.00"), D("0.00")),
        ("1122", D("0.00"), D("256.00")),
    ]


def test_shipment_recognises_the_sale_and_cost_of_goods(paid_order, ship):
    ship(paid_order)

    sale = JournalEntry.objects.get(kind=K.SALE, order=paid_order)
    cogs = JournalEntry.objects.get(kind=K.COGS, order=paid_order)
    assert lines_of(sale) == [
        ("1122", D("256.00"), D("0.00")),
        ("6001", D("0.00"), D("256.00")),
    ]
    assert lines_of(cogs) == [
        ("1405", D("0.00"), D("40.00")),
        ("6401", D("40.00"), D("0.00")),
    ]
    # paid and sold: the customer owes nothing
    assert balances(entry__order=paid_order) == {
        "1012": D("256.00"),
        "6001": D("-256.00"),
        "6401": D("40.00"),
        "1405": D("-40.00"),
    }


def test_with_recognition_at_delivery_the_sale_waits_for_the_parcel(
    settings, paid_order, ship
):
    settings.SALE_RECOGNISED_AT = "delivery"
    (parcel,) = ship(paid_order)
    assert not JournalEntry.objects.filter(kind=K.SALE).exists()
    assert JournalEntry.objects.filter(kind=K.COGS).count() == 1

    shipment_mark_delivered(shipment=parcel, actor="test")
    shipment_mark_delivered(shipment=Shipment.objects.get(pk=parcel.pk), actor="test")

    sale = JournalEntry.objects.get(kind=K.SALE, order=paid_order)
    assert lines_of(sale)[0] == ("1122", D("256.00"), D("0.00"))


def test_a_paid_refund_is_posted_against_the_payment_account(paid_order, staff_user):
    refund = refund_request(
        order=paid_order,
        amount=D("100.00"),
        lines=[],
        reason="goodwill",
        source="goodwill",
        actor=staff_user,
    )
    refund_approve(refund=refund, actor=staff_user)
    assert not JournalEntry.objects.filter(kind=K.REFUND).exists()

    refund_mark_paid(refund=refund, reference="R-1", actor=staff_user)

    entry = JournalEntry.objects.get(kind=K.REFUND)
    assert lines_of(entry) == [
        ("1012", D("0.00"), D("100.00")),
        ("6003", D("100.00"), D("0.00")),
    ]


def test_cod_collection_and_remittance_move_money_through_the_carrier_account(
    split_cod_order, carrier, staff_user
):
    from datetime import date

    from billing.cod import cod_collection_record, cod_remittance_create

    order, (a, b) = split_cod_order
    cod_collection_record(order=order, amount=order.total, actor=staff_user)

    cod_remittance_create(
        carrier=carrier,
        reference="R1",
        remitted_on=date(2026, 11, 27),
        rows=[(a.tracking_number, D("100.00")), (b.tracking_number, D("66.66"))],
        actor=staff_user,
    )

    assert order.total == D("166.66")
    assert balances(entry__order=order, entry__kind=K.PAYMENT) == {
        "1123": D("166.66"),
        "1122": D("-166.66"),
    }
    remitted = JournalEntry.objects.get(kind=K.COD_REMITTANCE)
    assert (remitted.date, lines_of(remitted)) == (
        date(2026, 11, 27),
        [("1001", D("166.66"), D("0.00")), ("1123", D("0.00"), D("166.66"))],
    )
    # shipped, collected and remitted: only the bank and the books of the sale remain
    assert balances(entry__kind__in=(K.SALE, K.PAYMENT, K.COD_REMITTANCE)) == {
        "1001": D("166.66"),
        "6001": D("-166.66"),
    }


def test_a_settlement_books_money_received_and_the_platform_fee(db, staff_user):
    from datetime import date

    from billing.settlements import settlement_import
    from orders.models import Channel
    from tests.factories.orders import ChannelFactory, OrderFactory

    taobao = ChannelFactory(code="taobao", name="淘宝", kind=Channel.Kind.MARKETPLACE)
    order = OrderFactory(channel=taobao, external_id="3187000000000001")
    data = "订单编号,实收金额,佣金,结算时间\n3187000000000001,95.00,5.00,2026-11-20\n"

    settlement_import(channel=taobao, data=data.encode(), actor=staff_user)

    entry = JournalEntry.objects.get(kind=K.SETTLEMENT)
    assert (entry.order, entry.date, lines_of(entry)) == (
        order,
        date(2026, 11, 20),
        [
            ("1001", D("95.00"), D("0.00")),
            ("1124", D("0.00"), D("100.00")),
            ("6602", D("5.00"), D("0.00")),
        ],
    )


def test_a_shipped_parcel_accrues_the_carriers_charge_from_its_rate_table(
    paid_order, ship, carrier
):
    # The carrier's own price: ¥12 the first kg, ¥5 each further kg started.
    ShippingRuleFactory(carrier=carrier, first_fee=D("12.00"), additional_fee=D("5.00"))
    Product.objects.filter(order_lines__order=paid_order).update(weight_kg=D("0.8"))

    (parcel,) = ship(paid_order)  # 2 × 0.8 kg = 1.6 kg → 12 + 5

    charge = JournalEntry.objects.get(kind=K.CARRIER_CHARGE, order=paid_order)
    assert charge.source == f"shipment:{parcel.pk}"
    assert lines_of(charge) == [
        ("2202", D("0.00"), D("17.00")),
        ("6601", D("17.00"), D("0.00")),
    ]


def test_a_carrier_without_a_rate_for_the_parcel_accrues_nothing(paid_order, ship):
    ship(paid_order)

    assert not JournalEntry.objects.filter(kind=K.CARRIER_CHARGE).exists()
