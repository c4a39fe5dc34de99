"""Recording carrier scans and letting the parcel and the order follow them."""

import json
import random
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.cod import cod_collection_from_scan
from fulfillment.models import Shipment
from fulfillment.services import shipment_mark_delivered
from orders.events import Actor, order_event_record
from orders.exceptions import OrderError
from orders.models import OrderEvent
from tracking.adapters import kuaidi100
from tracking.adapters.carriers import ProviderError
from tracking.models import ParcelWatch, ProviderReceipt, TrackingEvent, TrackingStatus
from tracking.notifications import notification_queue_for_order
from tracking.parcel_exceptions import parcel_exception_refresh
from tracking.providers import kuaidi100_client, provider_for, tracking_fetch

# Scans the customer hears about, with the template that tells them.
NOTIFY_ON = {
    TrackingStatus.OUT_FOR_DELIVERY: "out_for_delivery",
    TrackingStatus.DELIVERED: "delivered",
}


@transaction.atomic
def tracking_event_record(
    *,
    shipment: Shipment,
    status: str,
    description: str,
    actor: Actor,
    occurred_at=None,
    location: str = "",
    source: str = TrackingEvent.Source.MANUAL,
    raw=None,
    check_exceptions: bool = True,
) -> TrackingEvent | None:
    """Store one scan (once, however often it arrives) and move parcel and order along.

    Returns the new event, or None when the same scan was already stored.
    ``check_exceptions=False`` leaves the delay/loss check to the caller (a batch of
    scans is checked once, after the last).
    """
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("order")
        .get(pk=shipment.pk)
    )
    if shipment.status not in (
        Shipment.Status.SHIPPED,
        Shipment.Status.DELIVERED,
        Shipment.Status.REPLACED,  # a lost parcel may turn up after all
    ):
        raise OrderError(_("Scans can only be recorded for a parcel that has shipped."))
    if status not in TrackingStatus.values:
        raise OrderError(_("Unknown tracking status: %(status)s") % {"status": status})
    occurred_at = occurred_at or timezone.now()
    try:
        with transaction.atomic():
            event = TrackingEvent.objects.create(
                shipment=shipment,
                occurred_at=occurred_at,
                status=status,
                description=description.strip()[:300],
                location=location.strip()[:100],
                source=source,
                raw=raw or {},
            )
    except IntegrityError:
        return None
    latest = shipment.tracking_events.order_by("-occurred_at", "-id").first()
    if latest.pk == event.pk:
        shipment.tracking_status = status
        shipment.last_location = event.location or shipment.last_location
        shipment.save(update_fields=["tracking_status", "last_location"])
    order_event_record(
        order=shipment.order,
        kind=OrderEvent.Kind.TRACKING,
        actor=actor,
        message=f"{shipment.tracking_number}: {event.description}",
        data={"shipment": shipment.pk, "status": status, "location": event.location},
    )
    if (
        status == TrackingStatus.DELIVERED
        and shipment.status != Shipment.Status.REPLACED
    ):
        shipment_mark_delivered(
            shipment=shipment, actor=actor, delivered_at=occurred_at
        )
        if source != TrackingEvent.Source.MANUAL:
            # The courier hands a COD parcel over against the cash: record it.
            cod_collection_from_scan(
                shipment=shipment, actor=actor, raw=raw, occurred_at=occurred_at
            )
    if check_exceptions:
        parcel_exception_refresh(shipment=shipment)
    if status in NOTIFY_ON:
        notification_queue_for_order(
            order=shipment.order,
            template=NOTIFY_ON[status],
            key=f"shipment-{shipment.pk}",
            extra={"tracking_number": shipment.tracking_number},
        )
    return event


# --- Following parcels at their provider ---------------------------------------

FINAL_STATUSES = frozenset(
    {TrackingStatus.DELIVERED, TrackingStatus.RETURNED, TrackingStatus.EXPIRED}
)
MAX_BACKOFF = timedelta(days=1)


def _poll_delay(failures: int = 0, *, provider: str = "") -> timedelta:
    """The normal interval, doubled per failure in a row, with jitter to spread load.

    The demo carrier's clock runs DEMO_CARRIER_TIME_SCALE times faster; so do its polls.
    """
    base = timedelta(minutes=settings.TRACKING_POLL_MINUTES) * (2**failures)
    if provider == ParcelWatch.Provider.DEMO:
        base /= max(settings.DEMO_CARRIER_TIME_SCALE, 1)
    return min(base, MAX_BACKOFF) * random.uniform(0.8, 1.2)  # noqa: S311


@transaction.atomic
def parcel_watch_start(*, shipment: Shipment) -> ParcelWatch | None:
    """Start following a parcel that has just shipped (once per parcel)."""
    provider = provider_for(shipment)
    watch, _created = ParcelWatch.objects.get_or_create(
        shipment=shipment,
        defaults={
            "provider": provider,
            "done": provider == ParcelWatch.Provider.MANUAL,
            "next_check_at": timezone.now() + _poll_delay(provider=provider) / 4,
        },
    )
    if provider == ParcelWatch.Provider.KUAIDI100 and settings.KUAIDI100_SALT:
        from tracking.tasks import parcel_subscribe_task

        transaction.on_commit(
            lambda: parcel_subscribe_task.delay(watch.pk), robust=True
        )
    return watch


@transaction.atomic
def tracking_result_apply(*, shipment: Shipment, result, provider: str) -> int:
    """Store the provider's scans of the parcel (each once, oldest first); return how many were new.

    One transaction for the whole answer: a poll costs one commit, not one per scan.
    """
    stored = 0
    for scan in result.scans:
        try:
            event = tracking_event_record(
                shipment=shipment,
                status=scan.status,
                description=scan.description or str(scan.status),
                location=scan.location,
                occurred_at=scan.occurred_at,
                source=provider,
                raw=scan.raw,
                actor=f"carrier:{provider}",
                check_exceptions=False,
            )
        except OrderError:  # the parcel was cancelled or is not out yet
            break
        stored += event is not None
    if stored:
        parcel_exception_refresh(shipment=shipment)
    return stored


def parcel_check(*, watch_id: int) -> ParcelWatch:
    """Poll the parcel's provider now; schedule the next check or stop at the end."""
    watch = ParcelWatch.objects.select_related(
        "shipment__carrier", "shipment__order"
    ).get(pk=watch_id)
    if watch.done:
        return watch
    now = timezone.now()
    watch.last_checked_at = now
    try:
        result = tracking_fetch(provider=watch.provider, shipment=watch.shipment)
        tracking_result_apply(
            shipment=watch.shipment, result=result, provider=watch.provider
        )
    except ProviderError as exc:
        watch.failures += 1
        watch.last_error = str(exc)[:300]
        # An error that waiting cannot fix is still retried, but rarely.
        watch.next_check_at = now + _poll_delay(
            watch.failures if exc.retry else 6, provider=watch.provider
        )
    else:
        watch.failures, watch.last_error = 0, ""
        watch.shipment.refresh_from_db(fields=["tracking_status"])
        watch.done = watch.shipment.tracking_status in FINAL_STATUSES
        watch.next_check_at = (
            None if watch.done else now + _poll_delay(provider=watch.provider)
        )
    watch.save()
    if _may_subscribe(watch, now):
        from tracking.tasks import parcel_subscribe_task

        parcel_subscribe_task.delay(watch.pk)
    return watch


def _may_subscribe(watch: ParcelWatch, now) -> bool:
    """Kuaidi100 parcels go back to push once a refused or aborted subscription may be retried."""
    return (
        watch.provider == ParcelWatch.Provider.KUAIDI100
        and bool(settings.KUAIDI100_SALT)
        and not (watch.pushed or watch.done)
        and watch.resubscribe_after is not None
        and watch.resubscribe_after <= now
    )


def parcel_watches_claim(*, limit: int) -> list[int]:
    """Take the parcels due for a poll and push their next check out, so a slow
    worker or a second beat does not poll them twice; return their watch ids."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            ParcelWatch.objects.select_for_update(skip_locked=True)
            .filter(done=False, pushed=False, next_check_at__lte=now)
            .order_by("next_check_at")
            .values_list("pk", flat=True)[:limit]
        )
        ParcelWatch.objects.filter(pk__in=due).update(
            next_check_at=now + timedelta(minutes=10)
        )
    return due


def parcel_subscribe(*, watch_id: int) -> ParcelWatch:
    """Ask Kuaidi100 to push this parcel's scans; polling goes on if it refuses."""
    watch = ParcelWatch.objects.select_related(
        "shipment__carrier", "shipment__order"
    ).get(pk=watch_id)
    if watch.done or watch.pushed:
        return watch
    shipment = watch.shipment
    try:
        kuaidi100_client().subscribe(
            carrier_code=shipment.carrier.code,
            tracking_number=shipment.tracking_number,
            callback_url=settings.SITE_URL + reverse("carrier_webhooks:kuaidi100"),
            salt=settings.KUAIDI100_SALT,
            phone=shipment.order.recipient_phone[-4:],
        )
    except ProviderError as exc:
        watch.last_error = str(exc)[:300]
        if exc.retry:
            raise
        watch.resubscribe_after = timezone.now() + timedelta(days=1)
    else:
        watch.pushed, watch.resubscribe_after = True, None
    watch.save(update_fields=["pushed", "last_error", "resubscribe_after"])
    return watch


KUAIDI100_ABORT_WAIT = timedelta(minutes=30)


@transaction.atomic
def kuaidi100_push_apply(*, param: str) -> int:
    """Store a Kuaidi100 push; on ``abort`` go back to polling and subscribe again later."""
    body_status, result = kuaidi100.push_parse(param, carrier_code="")
    number = result.tracking_number if result else ""
    if not number:
        number = str((json.loads(param).get("lastResult") or {}).get("nu", ""))
    watch = (
        ParcelWatch.objects.select_related("shipment")
        .filter(shipment__tracking_number=number.upper())
        .first()
    )
    if watch is None:
        return 0
    if body_status == "abort":
        watch.pushed = False
        watch.resubscribe_after = timezone.now() + KUAIDI100_ABORT_WAIT
        watch.next_check_at = timezone.now()
        watch.save(update_fields=["pushed", "resubscribe_after", "next_check_at"])
    stored = (
        tracking_result_apply(
            shipment=watch.shipment, result=result, provider="kuaidi100"
        )
        if result
        else 0
    )
    if body_status == "shutdown":
        watch.done = True
        watch.save(update_fields=["done"])
    return stored


@transaction.atomic
def aftership_push_apply(*, event_id: str, result) -> int | None:
    """Store an AfterShip webhook's scans; None when the event was seen before."""
    try:
        with transaction.atomic():
            ProviderReceipt.objects.create(provider="aftership", event_id=event_id)
    except IntegrityError:
        return None
    shipment = Shipment.objects.filter(
        tracking_number=result.tracking_number.upper()
    ).first()
    if shipment is None:
        return 0
    return tracking_result_apply(shipment=shipment, result=result, provider="aftership")
