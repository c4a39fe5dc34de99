"""Recording carrier scans and letting the parcel and the order follow them."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.models import Shipment
from fulfillment.services import shipment_mark_delivered
from orders.events import Actor, order_event_record
from orders.exceptions import OrderError
from orders.models import OrderEvent
from tracking.models import TrackingEvent, TrackingStatus
from tracking.notifications import notification_queue_for_order

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
) -> TrackingEvent | None:
    """Store one scan (once, however often it arrives) and move parcel and order along.

    Returns the new event, or None when the same scan was already stored.
    """
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("order")
        .get(pk=shipment.pk)
    )
    if shipment.status not in (Shipment.Status.SHIPPED, Shipment.Status.DELIVERED):
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
    if status == TrackingStatus.DELIVERED:
        shipment_mark_delivered(
            shipment=shipment, actor=actor, delivered_at=occurred_at
        )
    if status in NOTIFY_ON:
        notification_queue_for_order(
            order=shipment.order,
            template=NOTIFY_ON[status],
            key=f"shipment-{shipment.pk}",
            extra={"tracking_number": shipment.tracking_number},
        )
    return event
