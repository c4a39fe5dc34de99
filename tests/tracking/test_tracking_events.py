from datetime import timedelta

import pytest
from django.utils import timezone, translation

from fulfillment.models import Shipment
from fulfillment.services import fulfillment_start
from orders.exceptions import OrderError
from orders.models import Order, OrderEvent
from tracking.models import Notification, TrackingEvent
from tracking.services import tracking_event_record

S = Order.Status


@pytest.fixture
def shipped(place_order, ship):
    """Return a COD order that has shipped in one parcel, and the parcel."""
    order = place_order(payment_method="cod")
    [parcel] = ship(order)
    return order, parcel


def test_a_delivered_scan_delivers_the_parcel_and_the_order(shipped):
    order, parcel = shipped
    when = timezone.now() - timedelta(hours=1)

    event = tracking_event_record(
        shipment=parcel,
        status="delivered",
        description="已签收，签收人：本人",
        location="深圳市南山区",
        occurred_at=when,
        actor="carrier:sf",
    )

    parcel.refresh_from_db()
    assert (parcel.status, parcel.delivered_at) == (Shipment.Status.DELIVERED, when)
    assert (parcel.tracking_status, parcel.last_location) == (
        "delivered",
        "深圳市南山区",
    )
    order.refresh_from_db()
    assert order.status == S.DELIVERED
    delivered = order.events.get(to_status=S.DELIVERED)
    assert (delivered.from_status, delivered.actor_label) == (S.SHIPPED, "carrier:sf")
    scan = order.events.get(kind=OrderEvent.Kind.TRACKING)
    assert scan.message == f"{parcel.tracking_number}: 已签收，签收人：本人"
    assert scan.data == {
        "shipment": parcel.pk,
        "status": "delivered",
        "location": "深圳市南山区",
    }
    assert event.source == TrackingEvent.Source.MANUAL
    assert set(
        Notification.objects.filter(order=order, template="delivered").values_list(
            "channel", flat=True
        )
    ) == {"sms", "email"}


def test_the_same_scan_arriving_twice_is_stored_once(shipped):
    order, parcel = shipped
    when = timezone.now()
    scan = {
        "shipment": parcel,
        "status": "in_transit",
        "description": "快件已到达【深圳转运中心】",
        "occurred_at": when,
        "actor": "carrier:sf",
    }

    assert tracking_event_record(**scan) is not None
    assert tracking_event_record(**scan) is None

    assert TrackingEvent.objects.count() == 1
    assert order.events.filter(kind=OrderEvent.Kind.TRACKING).count() == 1


def test_an_older_scan_does_not_overwrite_the_latest_state(shipped):
    _order, parcel = shipped
    now = timezone.now()
    tracking_event_record(
        shipment=parcel,
        status="out_for_delivery",
        description="派送中",
        location="南山营业部",
        occurred_at=now,
        actor="sf",
    )

    tracking_event_record(
        shipment=parcel,
        status="in_transit",
        description="运输中",
        location="深圳转运中心",
        occurred_at=now - timedelta(hours=5),
        actor="sf",
    )

    parcel.refresh_from_db()
    assert (parcel.tracking_status, parcel.last_location) == (
        "out_for_delivery",
        "南山营业部",
    )


def test_out_for_delivery_tells_the_customer_once_per_parcel(shipped):
    order, parcel = shipped
    for minutes in (30, 10):
        tracking_event_record(
            shipment=parcel,
            status="out_for_delivery",
            description="派送中",
            occurred_at=timezone.now() - timedelta(minutes=minutes),
            actor="sf",
        )

    told = Notification.objects.filter(order=order, template="out_for_delivery")
    assert sorted(told.values_list("channel", flat=True)) == ["email", "sms"]
    order.refresh_from_db()
    assert order.status == S.SHIPPED


def test_a_scan_before_the_parcel_left_is_refused(place_order, staff_user):
    order = place_order(payment_method="cod")
    [parcel] = fulfillment_start(order=order, actor=staff_user)

    with translation.override("en"), pytest.raises(OrderError) as caught:
        tracking_event_record(
            shipment=parcel, status="in_transit", description="x", actor=staff_user
        )

    assert str(caught.value) == (
        "Scans can only be recorded for a parcel that has shipped."
    )
    assert not TrackingEvent.objects.exists()


def test_an_unknown_tracking_status_is_refused(shipped):
    _order, parcel = shipped

    with translation.override("en"), pytest.raises(OrderError) as caught:
        tracking_event_record(
            shipment=parcel, status="teleported", description="x", actor="sf"
        )

    assert str(caught.value) == "Unknown tracking status: teleported"
