"""Writing the order timeline. Every service that changes an order calls this."""

from django.contrib.auth.models import AbstractBaseUser

from orders.models import OrderEvent

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
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        message=str(message)[:500],
        from_status=from_status,
        to_status=to_status,
        data=data or {},
        **actor_fields(actor),
    )
