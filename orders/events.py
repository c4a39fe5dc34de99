"""Writing the order timeline. Every service that changes an order calls this."""

from django.contrib.auth.models import AbstractBaseUser

from orders.models import Order, OrderEvent

# Who did something: a staff user, or a label such as "system", "customer",
# "channel:taobao", "carrier:sf".
Actor = AbstractBaseUser | str | None


def actor_fields(actor: Actor) -> dict:
    """Return the event fields that name the actor."""
    if isinstance(actor, AbstractBaseUser):
        return {"actor": actor, "actor_label": ""}
    return {"actor": None, "actor_label": actor or "system"}


def order_event_record(
    *, order, kind, actor: Actor, message="", from_status="", to_status="", data=None
) -> OrderEvent:
    """Record one event on the order's timeline."""
    event = OrderEvent.objects.create(
        order=order,
        kind=kind,
        message=str(message)[:500],
        from_status=from_status,
        to_status=to_status,
        data=data or {},
        **actor_fields(actor),
    )
    # The order changed as far as anyone outside can tell: its updated_at moves
    # with its timeline, so the sync feed (/api/v1/sync/orders/) brings it again
    # after a parcel, payment or refund changed and the order row itself did not.
    Order.objects.filter(pk=order.pk).update(updated_at=event.created_at)
    order_events_announce([event])
    return event


def order_events_announce(events) -> None:
    """Queue the outbound webhooks these just-saved events call for, in their transaction.

    Every path that saves order events ends here (one event, or many in bulk intake),
    so the shop's other systems hear of every change (``tracking.outbound_webhooks``).
    """
    from tracking.outbound_webhooks import webhooks_queue_for_order_events

    webhooks_queue_for_order_events(events=events)
