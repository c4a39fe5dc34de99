import itertools

import pytest
from django.utils import translation

from orders.exceptions import InvalidTransition
from orders.lifecycle import CANCELLABLE, TRANSITIONS, order_transition
from orders.models import Order, OrderEvent
from tests.factories.orders import OrderFactory

S = Order.Status
PAIRS = list(itertools.product(S.values, repeat=2))


def test_the_table_covers_every_status():
    assert set(TRANSITIONS) == set(S.values)
    for nexts in TRANSITIONS.values():
        assert nexts <= set(S.values)


def test_completed_and_cancelled_are_terminal():
    assert TRANSITIONS[S.COMPLETED] == frozenset()
    assert TRANSITIONS[S.CANCELLED] == frozenset()
    terminal = {status for status, nexts in TRANSITIONS.items() if not nexts}
    assert terminal == {S.COMPLETED, S.CANCELLED, S.RETURNED}


def test_only_goods_that_left_can_come_back():
    came_back = {S.PARTIALLY_RETURNED, S.RETURNED}
    assert {s for s, nexts in TRANSITIONS.items() if nexts & came_back} == {
        S.SHIPPED,
        S.DELIVERED,
        S.PARTIALLY_RETURNED,
    }


def test_orders_can_be_cancelled_only_until_the_goods_leave():
    assert set(CANCELLABLE) == {
        S.RECEIVED,
        S.NEEDS_CORRECTION,
        S.AWAITING_PAYMENT,
        S.REVIEW,
        S.BACKORDERED,
        S.READY_TO_FULFILL,
        S.IN_FULFILLMENT,
    }


@pytest.mark.parametrize(("from_status", "to_status"), PAIRS)
def test_order_transition_follows_the_table(staff_user, from_status, to_status):
    order = OrderFactory(status=from_status)

    if to_status in TRANSITIONS[from_status]:
        moved = order_transition(
            order=order, to_status=to_status, actor=staff_user, message="why"
        )

        assert moved.status == to_status
        order.refresh_from_db()
        assert order.status == to_status
        event = OrderEvent.objects.get(order=order)
        assert (event.kind, event.from_status, event.to_status) == (
            OrderEvent.Kind.STATUS,
            from_status,
            to_status,
        )
        assert (event.actor, event.message) == (staff_user, "why")
    else:
        with translation.override("en"), pytest.raises(InvalidTransition) as caught:
            order_transition(order=order, to_status=to_status, actor=staff_user)

        with translation.override("en"):
            labels = (S(from_status).label, S(to_status).label)
            assert str(caught.value) == (
                f"Order {order.number} cannot go from “{labels[0]}” to “{labels[1]}”."
            )
        order.refresh_from_db()
        assert order.status == from_status
        assert not OrderEvent.objects.filter(order=order).exists()
