"""Outbound webhooks: tell the shop's other systems what happens, through an outbox.

``webhooks_queue_for_order_events`` is called by ``orders.events`` for every order
event saved (one place, so no state change is missed) and decides by the event's
kind and status which webhook event it is. The delivery rows are written in the
same transaction, so a rolled-back change sends nothing and a committed one is never
lost: a worker sends each after commit, and ``webhooks_flush`` (beat) sends what is
due — retries, and deliveries whose broker message never arrived.

A send claims the row (status "sending" with a lease), commits, and only then calls
the receiver, so no row lock is held over the network; a worker that dies mid-send
leaves a lease that runs out, and the delivery is sent again with the same event id,
which receivers use to drop the repeat. Signing uses ``orders.signing``, the scheme
our own inbound webhooks verify.
"""

import functools
import json
import random
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orders.models import Order, OrderEvent
from orders.signing import signature_compute, signature_header
from tracking.adapters.webhook_http import (
    WebhookUnreachable,
    url_refusal,
    webhook_post,
)
from tracking.webhook_models import (
    TEST_EVENT,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    webhook_secret_new,
)

E = WebhookEvent
S = Order.Status
D = WebhookDelivery.Status
USER_AGENT = "ShopOMS-Webhooks/1"
# Deliveries still waiting this long after they were due were lost by the broker.
PENDING_GRACE_SECONDS = 30
# A failed attempt due within this many seconds is re-queued by the task itself;
# later ones are picked up by the beat flush (long broker countdowns are fragile).
TASK_REQUEUE_MAX_SECONDS = 300

# Order statuses whose arrival is a webhook event. Partially shipped counts as
# shipped: a parcel left; the order's status in the payload tells which.
STATUS_EVENTS = {
    S.NEEDS_CORRECTION: E.ORDER_NEEDS_CORRECTION,
    S.READY_TO_FULFILL: E.ORDER_ALLOCATED,
    S.PARTIALLY_SHIPPED: E.ORDER_SHIPPED,
    S.SHIPPED: E.ORDER_SHIPPED,
    S.DELIVERED: E.ORDER_DELIVERED,
    S.CANCELLED: E.ORDER_CANCELLED,
}


def order_event_webhook_type(event: OrderEvent) -> str | None:
    """Return the webhook event an order event is, or None when it is none."""
    data = event.data or {}
    if event.kind == OrderEvent.Kind.CREATED:
        return E.ORDER_CREATED
    if event.kind == OrderEvent.Kind.STATUS:
        if event.to_status == S.READY_TO_FULFILL and event.from_status == (
            S.IN_FULFILLMENT
        ):
            return None  # picking undone: the stock was allocated before
        return STATUS_EVENTS.get(event.to_status)
    if event.kind == OrderEvent.Kind.PAYMENT:
        if data.get("to") == Order.PaymentStatus.PAID:
            return E.ORDER_PAID
        if data.get("refund_status") == "paid":
            return E.ORDER_REFUNDED
        return None
    # A parcel exception opened or escalated (tracking.parcel_exceptions) names its flag.
    if "exception" in data and "flag" in data:
        return E.ORDER_EXCEPTION
    return None


def _payload(*, event_id, event_type: str, data: dict, now) -> dict:
    return {
        "id": str(event_id),
        "type": event_type,
        "created_at": now.isoformat(),
        "data": data,
    }


@functools.cache
def _order_serializer():
    """Return one ``OrderOut`` for every payload: building its fields (deep copies of
    the declared ones) cost a third of each serialisation, and it keeps no state."""
    from orders.api.serializers import OrderOut

    return OrderOut()


def order_webhook_data(order: Order, event: OrderEvent | None = None) -> dict:
    """Return the order as the API shows it (``OrderOut``), with the change that happened."""
    with translation.override(settings.LANGUAGE_CODE):
        order_data = _order_serializer().to_representation(order)
        data = {"order": json.loads(json.dumps(order_data))}
        if event is not None:
            data["change"] = {
                "kind": event.kind,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "message": event.message,
            }
    return data


def _subscribers(event_types) -> dict[str, list[WebhookEndpoint]]:
    subscribers: dict[str, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(active=True):
        for event_type in set(endpoint.event_types) & set(event_types):
            subscribers.setdefault(event_type, []).append(endpoint)
    return subscribers


def _deliveries_queue(rows: list[WebhookDelivery]) -> list[WebhookDelivery]:
    """Save the deliveries in the caller's transaction; send them once it commits."""
    if not rows:
        return []
    WebhookDelivery.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    from tracking.tasks import webhook_deliver

    # robust: a broker outage must not fail the committed change; the beat flush
    # sends what is still waiting.
    transaction.on_commit(lambda: [webhook_deliver.delay(i) for i in ids], robust=True)
    return rows


def _event_rows(*, endpoints, event_type: str, data: dict, now) -> list:
    """Return one unsaved delivery per endpoint of one new event (one event id for all)."""
    event_id = uuid.uuid4()
    payload = _payload(event_id=event_id, event_type=event_type, data=data, now=now)
    return [
        WebhookDelivery(
            endpoint=endpoint,
            event_type=event_type,
            event_id=event_id,
            payload=payload,
            created_at=now,
            next_attempt_at=now,
        )
        for endpoint in endpoints
    ]


def webhooks_queue(*, event_type: str, data: dict, now=None) -> list[WebhookDelivery]:
    """Store one event for every active endpoint subscribed to it; sent after commit."""
    now = now or timezone.now()
    endpoints = _subscribers([event_type]).get(event_type, [])
    return _deliveries_queue(
        _event_rows(endpoints=endpoints, event_type=event_type, data=data, now=now)
    )


def webhooks_queue_for_order_events(*, events) -> list[WebhookDelivery]:
    """Store the webhook deliveries these just-saved order events call for (the outbox).

    Call inside the transaction that saved the events. Events that are no webhook
    event cost nothing; the others one query, and no more when nobody subscribes.
    """
    typed = [(t, e) for e in events if (t := order_event_webhook_type(e))]
    if not typed:
        return []
    subscribers = _subscribers({t for t, _e in typed})
    now = timezone.now()
    rows = []
    for event_type, event in typed:
        if endpoints := subscribers.get(event_type):
            rows += _event_rows(
                endpoints=endpoints,
                event_type=event_type,
                data=order_webhook_data(event.order, event),
                now=now,
            )
    return _deliveries_queue(rows)


def stock_low_webhook_queue(*, row, now=None) -> list[WebhookDelivery]:
    """Store a "stock low" event for one stock level (an ``inventory`` replenishment row)."""
    level = row.level
    data = {
        "stock_level": {
            "sku": level.product.sku,
            "product": level.product.name,
            "warehouse": level.warehouse.code,
            "warehouse_name": level.warehouse.name,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "available": level.available,
            "owed_to_backorders": row.owed,
            "reorder_point": row.reorder_point,
            "units_per_day": str(row.velocity),
            "suggested_quantity": row.suggested,
        }
    }
    return webhooks_queue(event_type=E.STOCK_LOW, data=data, now=now)


# --- Sending ------------------------------------------------------------------


def _signature(endpoint: WebhookEndpoint, body: bytes, now) -> str:
    """Return the X-Signature value; while a rotation overlaps, signed with both secrets."""
    header = signature_header(secret=endpoint.secret, body=body)
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until
        and (endpoint.previous_secret_until > now)
    ):
        timestamp = int(header.split(",", 1)[0].removeprefix("t="))
        old = signature_compute(
            secret=endpoint.previous_secret, timestamp=timestamp, body=body
        )
        header += f",v1={old}"
    return header


def webhook_body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode()


def retry_delay(attempts: int) -> float:
    """Return seconds until the next attempt: exponential, capped, with jitter.

    The jitter (between half and all of the delay) spreads the retries of many
    deliveries to one endpoint that came back up at once.
    """
    delay = min(
        settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
        settings.WEBHOOK_RETRY_MAX_SECONDS,
    )
    return delay / 2 + random.uniform(0, delay / 2)


@transaction.atomic
def _delivery_claim(*, delivery_id: int, now) -> WebhookDelivery | None:
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("endpoint")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        return None
    due = delivery.status in (D.PENDING, D.FAILED) and delivery.next_attempt_at <= now
    abandoned = (
        delivery.status == D.SENDING
        and delivery.sending_until is not None
        and delivery.sending_until <= now
    )
    if not (due or abandoned):
        return None
    delivery.status = D.SENDING
    delivery.attempts += 1
    delivery.sending_until = now + timedelta(
        seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60
    )
    delivery.save(update_fields=["status", "attempts", "sending_until"])
    return delivery


@transaction.atomic
def _delivery_record(
    *, claimed: WebhookDelivery, now, answer=None, error="", give_up=False
) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.select_for_update().get(pk=claimed.pk)
    if delivery.status != D.SENDING or delivery.attempts != claimed.attempts:
        return delivery  # our lease ran out and another worker took over
    delivery.sending_until = None
    delivery.response_status = answer.status if answer else None
    delivery.response_body = answer.body if answer else ""
    delivery.response_ms = answer.duration_ms if answer else None
    if answer and 200 <= answer.status < 300:
        delivery.status = D.DELIVERED
        delivery.delivered_at = now
        delivery.last_error = ""
    else:
        delivery.last_error = (error or f"HTTP {answer.status}")[:500]
        deadline = delivery.created_at + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
        if give_up or now >= deadline:
            delivery.status = D.GIVEN_UP
        else:
            delivery.status = D.FAILED
            delivery.next_attempt_at = min(
                now + timedelta(seconds=retry_delay(delivery.attempts)), deadline
            )
    delivery.save()
    return delivery


def webhook_delivery_send(*, delivery_id: int, now=None) -> WebhookDelivery | None:
    """Send the delivery if it is due; return it, or None when there was nothing to do.

    Safe to call twice: only one caller can claim a due delivery. ``now`` is the
    clock that decides what is due and when to retry (tests move it).
    """
    clock = now or timezone.now()
    claimed = _delivery_claim(delivery_id=delivery_id, now=clock)
    if claimed is None:
        return None
    endpoint = claimed.endpoint
    if not endpoint.active:
        return _delivery_record(
            claimed=claimed,
            now=clock,
            error=_("The endpoint was turned off."),
            give_up=True,
        )
    refusal = url_refusal(
        endpoint.url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
    )
    if refusal:
        return _delivery_record(claimed=claimed, now=clock, error=refusal, give_up=True)
    body = webhook_body(claimed)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Signature": _signature(endpoint, body, clock),
        "X-Event-Type": claimed.event_type,
        "X-Event-Id": str(claimed.event_id),
    }
    try:
        answer = webhook_post(
            url=endpoint.url,
            body=body,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )
    except WebhookUnreachable as exc:
        return _delivery_record(
            claimed=claimed, now=now or timezone.now(), error=str(exc)
        )
    return _delivery_record(claimed=claimed, now=now or timezone.now(), answer=answer)


def webhook_deliveries_due(*, now=None, limit: int = 500) -> list[int]:
    """Return the ids of deliveries to send now.

    Retries whose time has come, first sends the broker never handed to a worker,
    and sends whose worker died (its lease ran out).
    """
    now = now or timezone.now()
    lost_before = now - timedelta(seconds=PENDING_GRACE_SECONDS)
    return list(
        WebhookDelivery.objects.filter(
            Q(status=D.PENDING, next_attempt_at__lte=lost_before)
            | Q(status=D.FAILED, next_attempt_at__lte=now)
            | Q(status=D.SENDING, sending_until__lte=now)
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


# --- Staff's actions ------------------------------------------------------------


def _event_types_clean(event_types) -> list[str]:
    unknown = set(event_types) - set(E.values)
    if unknown:
        raise ValidationError(
            {"event_types": _("Unknown events: %(events)s") % {"events": unknown}}
        )
    return [value for value in E.values if value in set(event_types)]


def _url_check(url: str):
    refusal = url_refusal(
        url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES, resolve=False
    )
    if refusal:
        raise ValidationError({"url": refusal})


@transaction.atomic
def webhook_endpoint_create(
    *, url: str, event_types, description: str = "", active: bool = True, actor
) -> WebhookEndpoint:
    """Register an endpoint with a new secret (shown to staff once)."""
    _url_check(url)
    endpoint = WebhookEndpoint(
        url=url,
        event_types=_event_types_clean(event_types),
        description=description,
        active=active,
        created_by=actor,
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, event_types, description: str, active: bool
) -> WebhookEndpoint:
    """Change where an endpoint is, what it hears, or turn it off; the secret stays."""
    _url_check(url)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.url = url
    endpoint.event_types = _event_types_clean(event_types)
    endpoint.description = description
    endpoint.active = active
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_secret_rotate(*, endpoint: WebhookEndpoint, now=None) -> str:
    """Give the endpoint a new secret and return it; the old one also signs for a while."""
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + timedelta(
        hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS
    )
    endpoint.secret = webhook_secret_new()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return endpoint.secret


@transaction.atomic
def webhook_endpoint_test(*, endpoint: WebhookEndpoint, actor) -> WebhookDelivery:
    """Send a test event to this endpoint only, to check its URL and signature."""
    data = {
        "message": "Test event from the shop's order system.",
        "sent_by": actor.get_username(),
    }
    [delivery] = _deliveries_queue(
        _event_rows(
            endpoints=[endpoint],
            event_type=TEST_EVENT,
            data=data,
            now=timezone.now(),
        )
    )
    return delivery


def _replay_row(delivery: WebhookDelivery, *, now) -> WebhookDelivery:
    return WebhookDelivery(
        endpoint=delivery.endpoint,
        event_type=delivery.event_type,
        event_id=delivery.event_id,
        payload=delivery.payload,
        replay_of=delivery,
        created_at=now,
        next_attempt_at=now,
    )


@transaction.atomic
def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the event again by hand: a new delivery with the same event id and payload.

    The receiver sees the same ``X-Event-Id`` and can tell it is a repeat; the new
    delivery gets its own attempts and retry window.
    """
    if not delivery.endpoint.active:
        raise ValidationError(_("Turn the endpoint on before replaying its events."))
    [replay] = _deliveries_queue([_replay_row(delivery, now=timezone.now())])
    return replay


@transaction.atomic
def webhook_deliveries_replay_given_up(*, endpoint: WebhookEndpoint) -> int:
    """Send again every event given up on this endpoint (after a long outage); return how many.

    Each gets a new delivery with its event id, as a single replay does; an event
    already replayed is not sent a second time by this.
    """
    # Locked: two people pressing at once must not send everything twice.
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.active:
        raise ValidationError(_("Turn the endpoint on before replaying its events."))
    given_up = list(
        endpoint.deliveries.filter(status=D.GIVEN_UP)
        .exclude(replays__isnull=False)
        .order_by("created_at", "pk")
    )
    now = timezone.now()
    _deliveries_queue([_replay_row(delivery, now=now) for delivery in given_up])
    return len(given_up)


# --- Reads --------------------------------------------------------------------


def webhook_endpoints_overview(endpoints):
    """Return the endpoints with their deliveries counted by state, for the console list."""
    return endpoints.annotate(
        delivered_count=Count("deliveries", filter=Q(deliveries__status=D.DELIVERED)),
        open_count=Count(
            "deliveries",
            filter=Q(deliveries__status__in=[D.PENDING, D.SENDING, D.FAILED]),
        ),
        given_up_count=Count("deliveries", filter=Q(deliveries__status=D.GIVEN_UP)),
        last_delivery_at=Max("deliveries__created_at"),
    )


def webhook_deliveries_for_endpoint(*, endpoint: WebhookEndpoint, status: str = ""):
    """Return the endpoint's deliveries, newest first, of one status when given."""
    deliveries = endpoint.deliveries.order_by("-created_at", "-pk")
    if status in D.values:
        deliveries = deliveries.filter(status=status)
    return deliveries
