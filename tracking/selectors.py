"""Reads for the customer's order-status page and the staff scan page."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from fulfillment.models import Shipment
from orders.models import Customer, Order
from orders.phones import phone_digits
from orders.selectors import order_matches_phone
from tracking.models import TrackingEvent

S = Order.Status

# The steps a customer sees, in order; each status says how far along it is.
# Correction and payment both wait before step 1; a backorder waits after it.
STEP_REACHED = {
    S.RECEIVED: 0,
    S.NEEDS_CORRECTION: 0,
    S.AWAITING_PAYMENT: 0,
    S.REVIEW: 1,
    S.BACKORDERED: 1,
    S.READY_TO_FULFILL: 2,
    S.IN_FULFILLMENT: 3,
    S.PARTIALLY_SHIPPED: 3,
    S.SHIPPED: 4,
    S.DELIVERED: 5,
    S.COMPLETED: 6,
    # Goods came back after delivery: the journey got as far as delivered.
    S.PARTIALLY_RETURNED: 5,
    S.RETURNED: 5,
}

# Stands in for the order when the number is unknown, so an unknown number and a
# wrong phone take the same steps (and about the same time) before being refused.
DECOY_PHONE = "+8613000000000"


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # "done", "current" or "todo"


def order_for_lookup(number: str) -> Order | None:
    """Return the order with this number and its customer (for the phone check), or None."""
    return Order.objects.select_related("customer").filter(number=number).first()


def order_lookup_matches(order: Order | None, phone: str) -> bool:
    """Return whether the order exists and the phone belongs to it.

    The phone is compared even when there is no order, against a stand-in, so the
    two refusals cannot be told apart by how long they take.
    """
    if order is None:
        decoy = Order(recipient_phone=DECOY_PHONE, customer=Customer(phone=DECOY_PHONE))
        order_matches_phone(decoy, phone)
        return False
    return order_matches_phone(order, phone)


def order_for_tracking(number: str) -> Order | None:
    """Return the order with its lines, parcels (with carrier) and scans, newest first.

    Four queries whatever the order holds. Cancelled parcels never left the
    warehouse and are left out.
    """
    scans = TrackingEvent.objects.order_by("-occurred_at", "-id")
    shipments = (
        Shipment.objects.exclude(status=Shipment.Status.CANCELLED)
        .select_related("carrier", "warehouse")
        .prefetch_related(Prefetch("tracking_events", queryset=scans))
        .order_by("created_at", "id")
    )
    return (
        Order.objects.filter(number=number)
        .select_related("customer")
        .prefetch_related("lines", Prefetch("shipments", queryset=shipments))
        .first()
    )


def order_progress(order: Order) -> list[Step]:
    """Return the customer-facing steps of the order, each done, current or to do.

    A cancelled order has no progress; the page says so instead.
    """
    if order.status == S.CANCELLED:
        return []
    labels = [
        _("Received"),
        _("Confirmed") if order.is_cod else _("Paid"),
        _("Ready to ship"),
        _("Being packed"),
        _("Shipped"),
        _("Delivered"),
        _("Completed"),
    ]
    reached = STEP_REACHED[order.status]
    return [
        Step(
            label=str(label),
            state="done" if i < reached else "current" if i == reached else "todo",
        )
        for i, label in enumerate(labels)
    ]


def phone_masked(raw: str) -> str:
    """Return the phone number with its middle hidden: 138****8000."""
    digits = phone_digits(raw)
    if len(digits) >= 8:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * len(digits)


def shipment_for_scans(pk: int) -> Shipment | None:
    """Return the parcel with its order, carrier, warehouse and scans (newest first)."""
    return (
        Shipment.objects.filter(pk=pk)
        .select_related("order", "carrier", "warehouse")
        .prefetch_related(
            Prefetch(
                "tracking_events",
                queryset=TrackingEvent.objects.order_by("-occurred_at", "-id"),
            )
        )
        .first()
    )


def notification_templates_overview() -> list[dict]:
    """Return every editable event with, per channel and language, staff's row or None."""
    from tracking.models import Notification, NotificationTemplate
    from tracking.notifications import EVENTS

    rows = {
        (t.event, t.channel, t.language): t
        for t in NotificationTemplate.objects.select_related("updated_by")
    }
    return [
        {
            "event": event,
            "label": label,
            "cells": [
                {
                    "channel": channel,
                    "channel_label": channel_label,
                    "language": language,
                    "language_label": language_label,
                    "row": rows.get((event, channel, language)),
                }
                for channel, channel_label in Notification.Channel.choices
                for language, language_label in NotificationTemplate.Language.choices
            ],
        }
        for event, (label, _extra) in EVENTS.items()
    ]


def order_notifications(order) -> list:
    """Return the order's messages to the customer, oldest first, with their delivery state."""
    from tracking.models import Notification

    return list(Notification.objects.filter(order=order).order_by("created_at", "id"))


def shipment_estimated_delivery(shipment):
    """Return when the parcel should arrive: shipping time plus its route's standard, or None."""
    from tracking.models import TransitStandard
    from tracking.parcel_exceptions import StandardBook

    if not shipment.shipped_at or shipment.delivered_at or not shipment.carrier_id:
        return None
    standards = TransitStandard.objects.filter(carrier_id=shipment.carrier_id)
    hours = StandardBook(standards).hours_for(
        shipment.carrier_id,
        shipment.warehouse.province if shipment.warehouse_id else "",
        shipment.order.province,
    )
    return shipment.shipped_at + timedelta(hours=hours)
