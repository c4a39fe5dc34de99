"""Taking orders from channels exactly once.

A channel names its order with an external id. The first request creates the order;
a replay with the same content is answered with that order; the same id with other
content is refused (``IntakeConflict``) and changes nothing. Two concurrent requests
with one id meet at the database's unique constraint, and the loser answers as a replay.
"""

import hashlib
import json
from dataclasses import dataclass, replace

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from orders.events import Actor
from orders.exceptions import OrderError
from orders.models import Order
from orders.services import OrderInput, order_create


class IntakeConflict(OrderError):
    def __init__(self, order: Order):
        self.order = order
        super().__init__(
            _("Order %(external_id)s was already received with different content.")
            % {"external_id": order.external_id}
        )


@dataclass(frozen=True)
class IntakeResult:
    order: Order
    created: bool


def order_fingerprint(payload) -> str:
    """Return a stable digest of the order as sent (key order and spacing do not matter)."""
    canonical = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _existing(data: OrderInput) -> Order | None:
    return Order.objects.filter(
        channel=data.channel, external_id=data.external_id
    ).first()


def _replay(order: Order, fingerprint: str) -> IntakeResult:
    if order.intake_fingerprint != fingerprint:
        raise IntakeConflict(order)
    return IntakeResult(order=order, created=False)


def order_intake(*, data: OrderInput, fingerprint: str, actor: Actor) -> IntakeResult:
    """Create the channel's order once; return it with whether this call created it."""
    if not data.external_id:
        raise OrderError(_("The channel's order id (external_id) is required."))
    existing = _existing(data)
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            order = order_create(
                data=replace(data, fingerprint=fingerprint), actor=actor
            )
    except IntegrityError:
        existing = _existing(data)
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    return IntakeResult(order=order, created=True)
