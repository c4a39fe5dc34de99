"""The 4×6 shipping label: what it prints, who draws it, and many labels in one PDF."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from fulfillment.labels import (
    PAGE,
    LabelSource,
    OwnLabelSource,
    label_source_for,
    labels_pdf,
    phone_masked,
)
from fulfillment.models import CarrierAccount
from fulfillment.services import fulfillment_start
from fulfillment.shipping import shipment_tracking_assign
from orders.roles import CUSTOMER_SERVICE, WAREHOUSE
from tests.factories.fulfillment import CarrierFactory


def pdf_pages(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text() for page in reader.pages]


@pytest.fixture
def labelled(place_order, carrier):
    """A cash-on-delivery order being picked, its parcel given an SF number."""
    order = place_order(payment_method="cod", quantity=2, name="王小明")
    (parcel,) = fulfillment_start(order=order, actor="test")
    parcel = shipment_tracking_assign(
        shipment=parcel, carrier=carrier, tracking_number="SF1234567890123", actor="t"
    )
    order.refresh_from_db()
    return order, parcel


def test_the_label_prints_receiver_tracking_number_and_cod_amount(labelled):
    order, parcel = labelled

    (text,) = pdf_pages(labels_pdf([parcel]))

    assert "王小明" in text
    assert "SF1234567890123" in text
    assert f"¥{order.total:.2f}" in text and order.total == Decimal("256.00")
    assert "代收货款" in text
    assert order.number in text
    assert "顺丰速运" in text
    assert "广东省深圳市南山区科技园路1号" in text
    assert "杭州仓" in text  # the sender: the warehouse it leaves from


def test_the_receivers_phone_is_masked_as_on_privacy_labels(labelled):
    order, parcel = labelled
    (text,) = pdf_pages(labels_pdf([parcel]))
    assert "138****8000" in text
    assert "13800138000" not in text
    assert phone_masked("13800138000") == "138****8000"


def test_a_prepaid_parcel_has_no_cod_box(place_order, carrier):
    order = place_order(payment_method="cod")
    (parcel,) = fulfillment_start(order=order, actor="test")
    order.payment_method = "prepaid"
    order.save(update_fields=["payment_method"])
    parcel.refresh_from_db()
    shipment_tracking_assign(
        shipment=parcel, carrier=carrier, tracking_number="SF1000000000007", actor="t"
    )
    (text,) = pdf_pages(labels_pdf([parcel]))
    assert "代收货款" not in text


def test_the_label_is_four_by_six_inches(labelled):
    _order, parcel = labelled
    page = PdfReader(io.BytesIO(labels_pdf([parcel]))).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (288, 432)
    assert PAGE == (288, 432)


def test_the_label_view_returns_a_pdf_for_warehouse_staff(client, member, labelled):
    _order, parcel = labelled
    client.force_login(member(WAREHOUSE))
    response = client.get(reverse("fulfillment:shipment_label", args=[parcel.pk]))
    assert response["Content-Type"] == "application/pdf"
    (text,) = pdf_pages(response.content)
    assert "SF1234567890123" in text


def test_customer_service_cannot_print_labels(client, member, labelled):
    _order, parcel = labelled
    client.force_login(member(CUSTOMER_SERVICE))
    response = client.get(reverse("fulfillment:shipment_label", args=[parcel.pk]))
    assert response.status_code == 403


def test_the_demo_carrier_issues_a_number_when_the_label_is_asked_for(
    client, member, place_order
):
    CarrierFactory(code="demo", name="演示快递", supports_cod=True)
    order = place_order(payment_method="cod", name="赵六")
    (parcel,) = fulfillment_start(order=order, actor="test")
    client.force_login(member(WAREHOUSE))

    response = client.get(reverse("fulfillment:shipment_label", args=[parcel.pk]))

    parcel.refresh_from_db()
    assert parcel.carrier.code == "demo" and parcel.tracking_number.startswith("DEMO")
    (text,) = pdf_pages(response.content)
    assert parcel.tracking_number in text and "赵六" in text
    # Asking again prints the same number.
    client.get(reverse("fulfillment:shipment_label", args=[parcel.pk]))
    number = parcel.tracking_number
    parcel.refresh_from_db()
    assert parcel.tracking_number == number


def test_a_parcel_without_a_number_is_sent_back_to_the_order_with_the_reason(
    client, member, place_order, carrier
):
    order = place_order(payment_method="cod")
    (parcel,) = fulfillment_start(order=order, actor="test")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))

    response = client.get(reverse("fulfillment:shipment_label", args=[parcel.pk]))

    assert response.status_code == 302 and response.url == order.get_absolute_url()
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Enter the 顺丰速运 tracking number first."]


def test_an_account_can_name_another_label_source(labelled, monkeypatch):
    """An e-waybill source registered for an account draws that carrier's labels."""
    _order, parcel = labelled

    class Waybill(LabelSource):
        def draw(self, canvas, label):
            canvas.drawString(20, 200, f"WAYBILL {label.tracking_number}")

    from fulfillment import labels

    monkeypatch.setitem(labels.LABEL_SOURCES, "waybill", Waybill)
    CarrierAccount.objects.create(
        carrier=parcel.carrier,
        name="月结",
        account_number="0210001",
        label_source="own",
    )
    assert isinstance(label_source_for(parcel), OwnLabelSource)
    CarrierAccount.objects.create(
        carrier=parcel.carrier,
        name="杭州仓",
        account_number="0210002",
        warehouse=parcel.warehouse,
        label_source="waybill",
    )
    assert isinstance(label_source_for(parcel), Waybill)
    (text,) = pdf_pages(labels_pdf([parcel]))
    assert "WAYBILL SF1234567890123" in text


def test_labels_of_many_parcels_merge_into_one_pdf(place_order, carrier):
    parcels = []
    for i in range(3):
        order = place_order(payment_method="cod", phone=f"1390013900{i}")
        (parcel,) = fulfillment_start(order=order, actor="test")
        parcels.append(
            shipment_tracking_assign(
                shipment=parcel,
                carrier=carrier,
                tracking_number=f"SF100000000000{i}",
                actor="t",
            )
        )
    pages = pdf_pages(labels_pdf(parcels))
    assert len(pages) == 3
    assert [f"SF100000000000{i}" in page for i, page in enumerate(pages)] == [True] * 3


def test_the_pack_station_saves_a_scanned_number_for_the_rules_carrier(
    client, member, place_order, carrier
):
    order = place_order(payment_method="cod")
    (parcel,) = fulfillment_start(order=order, actor="test")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))
    url = reverse("fulfillment:pack_tracking", args=[parcel.pk])

    bad = client.post(url, {"tracking_number": "12"})
    good = client.post(url, {"tracking_number": " sf1234567890123 "})

    assert bad.status_code == 400
    assert bad.json()["message"] == (
        "12 is not a 顺丰速运 tracking number (they look like SF1234567890123)."
    )
    assert good.json()["label_url"] == reverse(
        "fulfillment:shipment_label", args=[parcel.pk]
    )
    parcel.refresh_from_db()
    assert (parcel.carrier, parcel.tracking_number) == (carrier, "SF1234567890123")
    assert parcel.status == "picking"  # a number is not yet shipping
