"""Marketplace settlements: imported from the platform's CSV and matched by order."""

from decimal import Decimal

import pytest
from django.utils import translation

from billing.cod_selectors import settlement_for_order
from billing.models import MarketplaceSettlementLine
from billing.settlements import settlement_import, settlement_line_resolve
from orders.exceptions import OrderError
from orders.models import Channel
from tests.factories.orders import ChannelFactory, OrderFactory

L = MarketplaceSettlementLine.Status


@pytest.fixture
def taobao(db):
    return ChannelFactory(code="taobao", name="淘宝", kind=Channel.Kind.MARKETPLACE)


@pytest.fixture
def orders(taobao):
    return [
        OrderFactory(channel=taobao, external_id=external_id)
        for external_id in ("3187000000000001", "3187000000000002")
    ]


def settlement_file(*rows, encoding="gb18030"):
    lines = ["订单编号,实收金额,佣金,结算时间", *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode(encoding)


def test_settlement_rows_match_orders_by_channel_and_external_id(
    taobao, orders, staff_user
):
    first, second = orders
    data = settlement_file(
        ('="3187000000000001"', "95.00", "5.00", "2026-11-20 10:00:00"),
        ("3187000000000002", "90.00", "5.00", "2026/11/21"),
        ("3187000000000999", "10.00", "0.50", "2026-11-21"),
        ("3187000000000003", "abc", "1", "2026-11-21"),
    )

    with translation.override("en"):
        settlement = settlement_import(
            channel=taobao, data=data, actor=staff_user, file_name="结算.csv"
        )

    got = [
        (line.external_id, line.order, line.status, line.difference)
        for line in settlement.lines.all()
    ]
    assert got == [
        ("3187000000000001", first, L.MATCHED, Decimal("0.00")),
        ("3187000000000002", second, L.DIFFERENT, Decimal("-5.00")),
        ("3187000000000999", None, L.UNMATCHED, None),
    ]
    assert settlement.rejected_rows == [{"row": 5, "reason": "'abc' is not an amount."}]
    line = settlement_for_order(first)
    assert (line.amount_received, line.platform_fee) == (
        Decimal("95.00"),
        Decimal("5.00"),
    )
    assert line.settled_at.year == 2026
    assert first.events.filter(data__settlement=settlement.pk).exists()


def test_the_same_settlement_file_again_settles_nothing_twice(
    taobao, orders, staff_user
):
    data = settlement_file(("3187000000000001", "95.00", "5.00", "2026-11-20"))
    settlement_import(channel=taobao, data=data, actor=staff_user)

    with translation.override("en"):
        again = settlement_import(channel=taobao, data=data, actor=staff_user)

    assert again.lines.count() == 0
    assert again.rejected_rows == [
        {"row": 2, "reason": "Order 3187000000000001 is already settled."}
    ]
    assert MarketplaceSettlementLine.objects.count() == 1


def test_another_channels_order_with_that_id_is_not_matched(taobao, orders, staff_user):
    jd = ChannelFactory(code="jd", name="京东", kind=Channel.Kind.MARKETPLACE)
    data = settlement_file(("3187000000000001", "95.00", "5.00", "2026-11-20"))

    settlement = settlement_import(channel=jd, data=data, actor=staff_user)

    assert settlement.lines.get().status == L.UNMATCHED


def test_a_settlement_file_without_its_columns_is_refused(taobao, staff_user):
    with translation.override("en"), pytest.raises(OrderError) as caught:
        settlement_import(channel=taobao, data=b"a,b\n1,2\n", actor=staff_user)

    assert str(caught.value) == (
        "The file needs a 订单编号 (order id) and a 实收金额 (amount received) column."
    )


@pytest.fixture
def imported(taobao, orders, staff_user):
    """A settlement with one row matched, one differing and one for no known order."""
    return settlement_import(
        channel=taobao,
        data=settlement_file(
            ("3187000000000001", "95.00", "5.00", "2026-11-20"),
            ("3187000000000002", "90.00", "5.00", "2026-11-20"),
            ("3187000000000999", "10.00", "0.50", "2026-11-20"),
        ),
        actor=staff_user,
    )


def test_finance_resolves_a_difference_with_a_note_on_the_orders_timeline(
    imported, staff_user
):
    line = imported.lines.get(status=L.DIFFERENT)

    with translation.override("en"):
        settlement_line_resolve(line=line, note="平台补贴 5 元", actor=staff_user)

    line.refresh_from_db()
    assert line.resolution_note == "平台补贴 5 元"
    assert (line.resolved_by, line.resolved_at is not None) == (staff_user, True)
    event = line.order.events.get(data__settlement_line=line.pk)
    assert event.message == "Settlement difference of ¥-5.00 resolved: 平台补贴 5 元"
    assert event.actor == staff_user


def test_a_row_for_no_known_order_is_resolved_without_an_event(imported, staff_user):
    line = imported.lines.get(status=L.UNMATCHED)

    settlement_line_resolve(line=line, note="另一家店的订单", actor=staff_user)

    line.refresh_from_db()
    assert line.resolved_at is not None and line.order is None


@pytest.mark.parametrize(
    ("status", "note", "error"),
    [
        (L.MATCHED, "ok", "This row matched its order: there is nothing to resolve."),
        (L.DIFFERENT, "  ", "Say how the difference was resolved."),
    ],
)
def test_a_matched_row_or_an_empty_note_is_refused(
    imported, staff_user, status, note, error
):
    line = imported.lines.get(status=status)

    with translation.override("en"), pytest.raises(OrderError, match=error):
        settlement_line_resolve(line=line, note=note, actor=staff_user)

    line.refresh_from_db()
    assert line.resolved_at is None


def test_a_row_is_resolved_once(imported, staff_user):
    line = imported.lines.get(status=L.DIFFERENT)
    settlement_line_resolve(line=line, note="first", actor=staff_user)

    with translation.override("en"), pytest.raises(OrderError, match="already"):
        settlement_line_resolve(line=line, note="second", actor=staff_user)

    line.refresh_from_db()
    assert line.resolution_note == "first"
    assert line.order.events.filter(data__settlement_line=line.pk).count() == 1
