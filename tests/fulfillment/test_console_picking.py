"""Picking and packing pages: waves, pick lists (page, print, PDF), short picks, the pack station."""

import io
from datetime import datetime, time, timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from fulfillment.models import BoxPreset, PickList, Shipment
from inventory.services import bin_location_set
from orders.models import Order
from orders.roles import CUSTOMER_SERVICE, WAREHOUSE

S = Order.Status


@pytest.fixture
def warehouse_staff(client, member):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))
    return client


def said(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_wave_is_previewed_by_filters_then_made(
    warehouse_staff, place_order, warehouse
):
    orders = [place_order(payment_method="cod") for _ in range(2)]
    query = {"warehouse": warehouse.pk, "single_first": "on", "limit": 10}

    preview = warehouse_staff.get(reverse("fulfillment:wave"), query)
    response = warehouse_staff.post(reverse("fulfillment:wave"), query)

    assert [o.number for o in preview.context["candidates"]] == [
        o.number for o in orders
    ]
    pick_list = PickList.objects.get()
    assert response.url == pick_list.get_absolute_url()
    assert said(response) == [f"Pick list {pick_list.number} made."]
    assert pick_list.filters == {
        "carrier": "",
        "ship_by": "",
        "single_first": True,
        "limit": 10,
    }
    listing = warehouse_staff.get(reverse("fulfillment:pick_lists"))
    assert pick_list.number in listing.content.decode()


def test_a_wave_by_ship_by_date_takes_the_orders_due_that_day_soonest_first(
    warehouse_staff, place_order, warehouse
):
    today = timezone.localdate()
    tonight = timezone.make_aware(datetime.combine(today, time(23, 0)))
    later, due, overdue, undated = (place_order(payment_method="cod") for _ in range(4))
    Order.objects.filter(pk=later.pk).update(ship_by=tonight + timedelta(days=2))
    Order.objects.filter(pk=due.pk).update(ship_by=tonight)
    Order.objects.filter(pk=overdue.pk).update(ship_by=tonight - timedelta(days=1))
    Order.objects.filter(pk=undated.pk).update(ship_by=None)
    query = {"warehouse": warehouse.pk, "limit": 10}

    everything = warehouse_staff.get(reverse("fulfillment:wave"), query)
    due_today = warehouse_staff.get(
        reverse("fulfillment:wave"), {**query, "ship_by": today.isoformat()}
    )

    assert [o.number for o in everything.context["candidates"]] == [
        overdue.number,
        due.number,
        later.number,
        undated.number,
    ]
    assert [o.number for o in due_today.context["candidates"]] == [
        overdue.number,
        due.number,
    ]


def test_the_pick_list_page_print_view_and_pdf_show_the_skus_by_bin(
    warehouse_staff, place_order, warehouse, stocked_product
):
    bin_location_set(
        product=stocked_product, warehouse=warehouse, code="C-07-1", actor="test"
    )
    order = place_order(payment_method="cod", quantity=2)
    warehouse_staff.post(
        reverse("fulfillment:pick_list_bulk"), {"orders": [order.number]}
    )
    pick_list = PickList.objects.get()

    page = warehouse_staff.get(pick_list.get_absolute_url())
    printed = warehouse_staff.get(
        reverse("fulfillment:pick_list_print", args=[pick_list.number])
    )
    pdf = warehouse_staff.get(
        reverse("fulfillment:pick_list_pdf", args=[pick_list.number])
    )

    assert page.status_code == printed.status_code == 200
    assert "C-07-1" in page.content.decode() and "<svg" in printed.content.decode()
    assert pdf["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert pick_list.number in text and "C-07-1" in text
    assert stocked_product.sku in text and order.number in text


def test_print_pick_lists_from_the_order_list_opens_the_print_view(
    warehouse_staff, place_order
):
    order = place_order(payment_method="cod")

    listing = warehouse_staff.get(reverse("console:order_list"))
    response = warehouse_staff.post(
        reverse("fulfillment:pick_list_bulk"), {"orders": [order.number]}
    )

    assert (
        'formaction="/console/shipments/pick-lists/bulk/"' in listing.content.decode()
    )
    pick_list = PickList.objects.get()
    assert response.url == reverse(
        "fulfillment:pick_list_print", args=[pick_list.number]
    )


def test_a_short_pick_with_an_unknown_code_is_a_field_error(
    warehouse_staff, place_order
):
    order = place_order(payment_method="cod")
    warehouse_staff.post(
        reverse("fulfillment:pick_list_bulk"), {"orders": [order.number]}
    )
    pick_list = PickList.objects.get()

    response = warehouse_staff.post(
        reverse("fulfillment:short_pick", args=[pick_list.number]),
        {"code": "NOPE", "quantity": 1, "reason": "missing"},
    )

    assert response.status_code == 400
    assert response.context["short_form"].errors == {
        "code": ["No product has this SKU or barcode."]
    }


def test_the_pack_station_scans_over_json_and_packs(
    warehouse_staff, place_order, stocked_product
):
    order = place_order(payment_method="cod", quantity=1)
    warehouse_staff.post(
        reverse("fulfillment:pick_list_bulk"), {"orders": [order.number]}
    )
    pick_list = PickList.objects.get()
    box = BoxPreset.objects.create(name="S", length_cm=20, width_cm=10, height_cm=5)
    scan = reverse("fulfillment:pack_scan")

    opened = warehouse_staff.post(scan, {"code": pick_list.number}).json()
    wrong = warehouse_staff.post(scan, {"code": "??", "parcel": opened["parcel"]})
    right = warehouse_staff.post(
        scan, {"code": stocked_product.barcode, "parcel": opened["parcel"]}
    ).json()
    packed = warehouse_staff.post(
        reverse("fulfillment:pack_complete", args=[opened["parcel"]]),
        {"box_preset": box.pk},
    ).json()
    station = warehouse_staff.get(
        reverse("fulfillment:pack"), {"parcel": opened["parcel"]}
    )
    slip = warehouse_staff.get(packed["slip_url"])

    assert (opened["order"], opened["left"]) == (order.number, 1)
    assert wrong.status_code == 409 and wrong.json()["message"] == "Unknown code “??”."
    assert (right["ok"], right["complete"]) == (True, True)
    assert (packed["ok"], packed["status"]) == (True, Shipment.Status.PACKED)
    assert station.context["state"]["packed"] is True
    text = PdfReader(io.BytesIO(slip.content)).pages[0].extract_text()
    assert order.number in text and stocked_product.sku in text


def test_customer_service_cannot_use_the_pack_station_or_make_waves(
    client, member, place_order
):
    client.force_login(member(CUSTOMER_SERVICE))

    assert client.get(reverse("fulfillment:pack")).status_code == 403
    assert (
        client.post(reverse("fulfillment:pack_scan"), {"code": "x"}).status_code == 403
    )
    assert client.get(reverse("fulfillment:pick_lists")).status_code == 403
