"""Staff recording a carrier's scan of a shipped parcel on the console."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.services import fulfillment_start, shipment_ship
from orders.models import Order, OrderEvent
from orders.roles import WAREHOUSE
from tests.factories.orders import UserFactory
from tracking.models import TrackingEvent

S = Order.Status


@pytest.fixture
def warehouse_staff(client, member):
    """The test client, signed in as warehouse staff, reading English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))
    return client


@pytest.fixture
def parcel(place_order, carrier):
    """The one parcel of a cash-on-delivery order, handed to SF."""
    order = place_order(payment_method="cod")
    (parcel,) = fulfillment_start(order=order, actor="test")
    return shipment_ship(
        shipment=parcel, carrier=carrier, tracking_number="SF77", actor="test"
    )


def said(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def scan_url(shipment):
    return reverse("tracking:scan_add", args=[shipment.pk])


def a_scan(**changes):
    when = timezone.localtime() - timedelta(hours=1)
    return {
        "status": "in_transit",
        "description": "Arrived at Shenzhen hub",
        "location": "深圳",
        "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
        **changes,
    }


def test_the_page_shows_the_parcel_its_order_and_a_form(warehouse_staff, parcel):
    response = warehouse_staff.get(scan_url(parcel))
    assert response.status_code == 200
    page = response.text
    assert "SF77" in page
    assert f'href="/console/orders/{parcel.order.number}/"' in page
    assert 'name="occurred_at"' in page


def test_recording_a_scan_stores_it_and_goes_back(warehouse_staff, parcel):
    response = warehouse_staff.post(scan_url(parcel), a_scan())
    assert response.status_code == 302
    assert response["Location"] == scan_url(parcel)
    assert said(response) == ["Scan recorded: In transit."]
    scan = TrackingEvent.objects.get(shipment=parcel)
    assert (scan.description, scan.location, scan.source) == (
        "Arrived at Shenzhen hub",
        "深圳",
        "manual",
    )
    parcel.refresh_from_db()
    assert (parcel.tracking_status, parcel.last_location) == ("in_transit", "深圳")
    event = parcel.order.events.get(kind=OrderEvent.Kind.TRACKING)
    assert event.actor.username == f"user-{WAREHOUSE}"


def test_the_same_scan_twice_is_stored_once(warehouse_staff, parcel):
    warehouse_staff.post(scan_url(parcel), a_scan(), follow=True)
    response = warehouse_staff.post(scan_url(parcel), a_scan())
    assert TrackingEvent.objects.filter(shipment=parcel).count() == 1
    assert said(response) == ["This scan was already recorded."]


def test_a_delivered_scan_delivers_the_parcel_and_the_order(warehouse_staff, parcel):
    warehouse_staff.post(
        scan_url(parcel), a_scan(status="delivered", description="Signed for")
    )
    parcel.refresh_from_db()
    order = Order.objects.get(pk=parcel.order_id)
    assert parcel.status == Shipment.Status.DELIVERED
    assert order.status == S.DELIVERED


def test_a_parcel_still_in_the_warehouse_takes_no_scans(warehouse_staff, place_order):
    order = place_order(payment_method="cod")
    (picking,) = fulfillment_start(order=order, actor="test")
    page = warehouse_staff.get(scan_url(picking)).text
    assert 'name="occurred_at"' not in page
    response = warehouse_staff.post(scan_url(picking), a_scan())
    assert said(response) == [
        "Scans can only be recorded for a parcel that has shipped."
    ]
    assert not TrackingEvent.objects.exists()


def test_a_scan_in_the_future_is_refused(warehouse_staff, parcel):
    later = timezone.localtime() + timedelta(days=1)
    response = warehouse_staff.post(
        scan_url(parcel), a_scan(occurred_at=later.strftime("%Y-%m-%dT%H:%M"))
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "occurred_at": ["The time cannot be in the future."]
    }
    assert not TrackingEvent.objects.exists()


def test_staff_without_the_permission_get_403(client, parcel):
    client.force_login(UserFactory(username="nobody", is_staff=False))
    assert client.get(scan_url(parcel)).status_code == 403
    assert client.post(scan_url(parcel), a_scan()).status_code == 403
    assert not TrackingEvent.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, parcel):
    response = client.get(scan_url(parcel))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))


def test_an_unknown_parcel_is_404(warehouse_staff, db):
    assert (
        warehouse_staff.get(reverse("tracking:scan_add", args=[999])).status_code == 404
    )
