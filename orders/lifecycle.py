"""The order lifecycle: which status may follow which, and the one service that moves an order.

Every status change goes through ``order_transition``. The other apps call it (through
the named verbs in ``orders.services`` or the shipping-state refresh in
``fulfillment.services``); nothing assigns ``Order.status`` directly.
"""

import json

from django.db import transaction

from orders.events import Actor, actor_fields, order_event_record
from orders.exceptions import InvalidTransition
from orders.models import Order, OrderEvent

S = Order.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset(
        {
            S.NEEDS_CORRECTION,
            S.AWAITING_PAYMENT,
            S.REVIEW,
            S.BACKORDERED,
            S.READY_TO_FULFILL,
            S.CANCELLED,
        }
    ),
    S.NEEDS_CORRECTION: frozenset(
        {S.AWAITING_PAYMENT, S.REVIEW, S.BACKORDERED, S.READY_TO_FULFILL, S.CANCELLED}
    ),
    S.AWAITING_PAYMENT: frozenset(
        {S.REVIEW, S.BACKORDERED, S.READY_TO_FULFILL, S.CANCELLED}
    ),
    # A routing rule holds a valid, paid (or COD) order for a team before any stock
    # is promised. Not needs_correction: that one asks the customer to fix their
    # details, and a correction sends the order on by itself; a review waits for staff.
    S.REVIEW: frozenset({S.BACKORDERED, S.READY_TO_FULFILL, S.CANCELLED}),
    S.BACKORDERED: frozenset({S.READY_TO_FULFILL, S.CANCELLED}),
    S.READY_TO_FULFILL: frozenset({S.IN_FULFILLMENT, S.BACKORDERED, S.CANCELLED}),
    S.IN_FULFILLMENT: frozenset(
        {S.READY_TO_FULFILL, S.PARTIALLY_SHIPPED, S.SHIPPED, S.BACKORDERED, S.CANCELLED}
    ),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED}),
    # A return is completed (goods back, refund requested) when some or all of what
    # was shipped has come back; a parcel refused before "delivered" is a return too.
    S.SHIPPED: frozenset({S.DELIVERED, S.PARTIALLY_RETURNED, S.RETURNED}),
    S.DELIVERED: frozenset({S.COMPLETED, S.PARTIALLY_RETURNED, S.RETURNED}),
    S.PARTIALLY_RETURNED: frozenset({S.RETURNED, S.COMPLETED}),
    # Settled and closed: a late return is still recorded, the status stays.
    S.COMPLETED: frozenset(),
    S.RETURNED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Statuses in which the goods have not left and the order can still be stopped.
CANCELLABLE = frozenset(s for s, nexts in TRANSITIONS.items() if S.CANCELLED in nexts)


def can_transition(order: Order, to_status: str) -> bool:
    return to_status in TRANSITIONS[order.status]


def order_lock(order: Order) -> Order:
    """Return the order re-read under a row lock; call inside a transaction."""
    return Order.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def order_transition(
    *, order: Order, to_status: str, actor: Actor, message="", data=None
) -> Order:
    """Move the order to ``to_status`` if the table allows it, and record the event.

    The row is locked and re-read first, so two clerks pressing buttons at once
    cannot both move it. Returns the locked, updated order.
    """
    locked = order_lock(order)
    if not can_transition(locked, to_status):
        raise InvalidTransition(order=locked, to_status=to_status)
    from_status = locked.status
    locked.status = to_status
    locked.save(update_fields=["status", "updated_at"])
    order_event_record(
        order=locked,
        kind=OrderEvent.Kind.STATUS,
        actor=actor,
        message=message,
        from_status=from_status,
        to_status=to_status,
        data=data,
    )
    order.status = locked.status
    return locked


def order_transition_unsaved(
    *, order: Order, to_status: str, actor: Actor, message="", data=None
) -> OrderEvent:
    """Move an order that is being created in bulk, and return its unsaved event.

    The same table decides; the caller saves orders and events in bulk, inside the
    transaction that inserted them, so no other transaction can see them in between.
    """
    if not can_transition(order, to_status):
        raise InvalidTransition(order=order, to_status=to_status)
    event = OrderEvent(
        order=order,
        kind=OrderEvent.Kind.STATUS,
        from_status=order.status,
        to_status=to_status,
        message=str(message)[:500],
        data=data or {},
        **actor_fields(actor),
    )
    order.status = to_status
    return event


def orders_unsaved_save(orders: list[Order]):
    """Save what ``order_transition_unsaved`` did to new orders: one UPDATE per outcome.

    Bulk creation moves many orders at once; grouping them by outcome keeps it to a
    few statements, and keeps the status write here, beside the table that allowed it.
    """
    outcomes: dict[tuple[str, str], tuple[list, list[int]]] = {}
    for order in orders:
        key = (order.status, json.dumps(order.problems, sort_keys=True), order.ship_by)
        outcomes.setdefault(key, (order.problems, []))[1].append(order.pk)
    for (status, _key, ship_by), (problems, ids) in outcomes.items():
        Order.objects.filter(pk__in=ids).update(
            status=status, problems=problems, ship_by=ship_by
        )
