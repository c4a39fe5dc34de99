"""Starting to pick and shipping parcels from the order page."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from fulfillment.models import Shipment
from fulfillment.services import fulfillment_start, shipment_ship
from orders.models import Order
from orders.roles import CUSTOMER_SERVICE, WAREHOUSE
from tests.factories.fulfillment import CarrierFactory

S = Order.Status


@pytest.fixture
def warehouse_staff(client, member):
    """The test client, signed in as warehouse staff, reading English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))
    return client


def said(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def picking(place_order):
    """An order being picked, and its one parcel."""
    order = place_order(payment_method="cod")
    (parcel,) = fulfillment_start(order=order, actor="test")
    order.refresh_from_db()
    return order, parcel


def test_starting_to_pick_makes_a_parcel(warehouse_staff, place_order):
    order = place_order(payment_method="cod")
    response = warehouse_staff.post(reverse("fulfillment:start", args=[order.number]))
    order.refresh_from_db()
    assert order.status == S.IN_FULFILLMENT
    assert Shipment.objects.get(order=order).status == Shipment.Status.PICKING
    assert said(response) == ["Picking started: 1 parcel(s)."]


def test_each_open_parcel_gets_a_ship_form(warehouse_staff, picking, carrier):
    order, parcel = picking
    response = warehouse_staff.get(order.get_absolute_url())
    (panel,) = response.context["actions"]
    assert panel["action"].name == "ship"
    assert panel["action"].url == reverse("fulfillment:ship", args=[parcel.pk])
    assert f'id="ship{parcel.pk}_carrier"' in response.content.decode()


def test_shipping_with_a_tracking_number_ships_the_order(
    warehouse_staff, picking, carrier
):
    order, parcel = picking
    response = warehouse_staff.post(
        reverse("fulfillment:ship", args=[parcel.pk]),
        {
            "carrier": carrier.pk,
            "tracking_number": " sf1234567890123 ",
            "weight_kg": "1.2",
        },
    )
    parcel.refresh_from_db()
    order.refresh_from_db()
    assert (parcel.status, parcel.tracking_number) == ("shipped", "SF1234567890123")
    assert str(parcel.weight_kg) == "1.200"
    assert parcel.shipped_by.username == f"user-{WAREHOUSE}"
    assert order.status == S.SHIPPED
    assert said(response) == [
        "Parcel shipped with 顺丰速运, tracking number SF1234567890123."
    ]


def test_a_real_carrier_needs_a_tracking_number(warehouse_staff, picking, carrier):
    order, parcel = picking
    response = warehouse_staff.post(
        reverse("fulfillment:ship", args=[parcel.pk]),
        {"carrier": carrier.pk, "tracking_number": ""},
    )
    assert said(response) == ["Tracking number: Enter the tracking number."]
    parcel.refresh_from_db()
    assert parcel.status == Shipment.Status.PICKING


def test_the_demo_carrier_makes_up_a_tracking_number(warehouse_staff, picking):
    order, parcel = picking
    demo = CarrierFactory(code="demo", name="演示快递")
    warehouse_staff.post(
        reverse("fulfillment:ship", args=[parcel.pk]),
        {"carrier": demo.pk, "tracking_number": ""},
    )
    parcel.refresh_from_db()
    assert parcel.tracking_number.startswith("DEMO")


def test_a_used_tracking_number_shows_the_domain_error(
    warehouse_staff, picking, place_order, carrier
):
    order, parcel = picking
    other = place_order(payment_method="cod", phone="13900139000")
    (other_parcel,) = fulfillment_start(order=other, actor="test")
    shipment_ship(
        shipment=other_parcel,
        carrier=carrier,
        tracking_number="SF1000000000001",
        actor="test",
    )
    response = warehouse_staff.post(
        reverse("fulfillment:ship", args=[parcel.pk]),
        {"carrier": carrier.pk, "tracking_number": "SF1000000000001"},
    )
    assert said(response) == [
        "Tracking number SF1000000000001 is already used on another parcel."
    ]
    order.refresh_from_db()
    assert order.status == S.IN_FULFILLMENT


def test_shipped_parcels_show_their_tracking_link(warehouse_staff, picking, carrier):
    order, parcel = picking
    shipment_ship(shipment=parcel, carrier=carrier, tracking_number="SF9", actor="t")
    html = warehouse_staff.get(order.get_absolute_url()).content.decode()
    assert 'href="https://www.sf-express.com/chn/sc/waybill/waybill-detail/SF9"' in html


def test_customer_service_cannot_ship(client, member, picking, carrier):
    order, parcel = picking
    client.force_login(member(CUSTOMER_SERVICE))
    response = client.post(
        reverse("fulfillment:ship", args=[parcel.pk]),
        {"carrier": carrier.pk, "tracking_number": "SF2"},
    )
    assert response.status_code == 403
    parcel.refresh_from_db()
    assert parcel.status == Shipment.Status.PICKING


def test_an_unknown_parcel_is_404(warehouse_staff, db):
    response = warehouse_staff.post(
        reverse("fulfillment:ship", args=[999]), {"tracking_number": "x"}
    )
    assert response.status_code == 404
