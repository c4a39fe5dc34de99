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

from orders.bulk import BulkItem, orders_create_bulk
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


@dataclass
class BatchOutcome:
    """What became of one order of a batch: created, replayed, conflict or refused."""

    status: str
    order: Order | None = None
    error: str = ""


INTAKE_ATTEMPTS = 3


def orders_intake_batch(
    *, items: list[tuple[OrderInput, str]], actor: Actor
) -> list[BatchOutcome]:
    """Take many channel orders at once, each exactly once; return an outcome per item.

    ``items``: each order with the fingerprint of what was sent. Each order keeps the
    promises of ``order_intake`` (a replay answers with the order, other content is
    a conflict); the new ones are created together under the same rules
    (``orders.bulk``). Orders with a coupon go one by one: a used-up coupon refuses
    only its own order.
    """
    outcomes: list[BatchOutcome | None] = [None] * len(items)
    first_of: dict[str, int] = {}
    for index, (data, _fingerprint) in enumerate(items):
        if not data.external_id:
            outcomes[index] = BatchOutcome(
                "refused", error=_("The channel's order id (external_id) is required.")
            )
        elif data.external_id in first_of:  # the same order twice in one batch
            outcomes[index] = BatchOutcome("later_duplicate")
        else:
            first_of[data.external_id] = index
    for attempt in range(INTAKE_ATTEMPTS):
        try:
            _intake_new(items, outcomes, first_of, actor)
            break
        except IntegrityError:
            # A concurrent request created some of them: they are replays now.
            if attempt == INTAKE_ATTEMPTS - 1:
                raise
    for index, (data, fingerprint) in enumerate(items):
        if outcomes[index].status == "later_duplicate":
            outcomes[index] = _outcome_of_replay(
                outcomes[first_of[data.external_id]].order, fingerprint
            )
    return outcomes


def _outcome_of_replay(order: Order | None, fingerprint: str) -> BatchOutcome:
    if order is None:  # its first copy was refused
        return BatchOutcome(
            "refused", error=_("The first copy of this order was refused.")
        )
    if order.intake_fingerprint != fingerprint:
        return BatchOutcome("conflict", order=order, error=str(IntakeConflict(order)))
    return BatchOutcome("replayed", order=order)


def _intake_new(items, outcomes, first_of, actor):
    channel_ids = {items[i][0].channel.pk for i in first_of.values()}
    existing = {
        (o.channel_id, o.external_id): o
        for o in Order.objects.filter(
            channel_id__in=channel_ids, external_id__in=list(first_of)
        ).exclude(external_id="")  # the unique index's condition, so it is used
    }
    bulk, one_by_one = [], []
    for index in first_of.values():
        data, fingerprint = items[index]
        order = existing.get((data.channel.pk, data.external_id))
        if order is not None:
            outcomes[index] = _outcome_of_replay(order, fingerprint)
        elif data.coupon_code:
            one_by_one.append(index)
        else:
            bulk.append(index)
    with transaction.atomic():
        result = orders_create_bulk(
            items=[
                BulkItem(data=replace(items[i][0], fingerprint=items[i][1]))
                for i in bulk
            ],
            actor=actor,
            notify_received=True,
        )
    created = iter(result.orders)
    for position, index in enumerate(bulk):
        if position in result.errors:
            outcomes[index] = BatchOutcome("refused", error=result.errors[position])
        else:
            outcomes[index] = BatchOutcome("created", order=next(created))
    for index in one_by_one:
        data, fingerprint = items[index]
        try:
            intake = order_intake(data=data, fingerprint=fingerprint, actor=actor)
        except IntakeConflict as exc:
            outcomes[index] = BatchOutcome("conflict", order=exc.order, error=str(exc))
        except OrderError as exc:
            outcomes[index] = BatchOutcome("refused", error=str(exc))
        else:
            outcomes[index] = BatchOutcome(
                "created" if intake.created else "replayed", order=intake.order
            )
