"""批量发货 (a CSV of tracking numbers), bulk labels and bulk shipping from the order list,
split parcels from two warehouses, and what the customer is told."""

import io

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from fulfillment.models import Carrier, Shipment
from fulfillment.services import fulfillment_start, shipment_ship
from fulfillment.shipping import orders_ship, tracking_upload
from inventory.services import Demand, stock_receive, stock_reserve
from orders.models import Order
from orders.roles import CUSTOMER_SERVICE, WAREHOUSE
from orders.services import LineInput, OrderInput, order_create, order_process
from tests.factories.fulfillment import CarrierFactory
from tests.factories.inventory import ProductFactory, WarehouseFactory
from tracking.models import Notification

S = Order.Status


def csv_bytes(*rows, encoding="utf-8") -> bytes:
    return "\n".join(",".join(row) for row in rows).encode(encoding)


@pytest.fixture
def zto(db):
    return CarrierFactory(code="zto", name="中通快递", supports_cod=False)


@pytest.fixture
def split_order(channel, warehouse, staff_user):
    """A COD order whose tea is in Hangzhou and cups in Shanghai: two parcels."""
    shanghai = WarehouseFactory(code="sh", name="上海仓", priority=5)
    tea, cup = ProductFactory(sku="TEA-9"), ProductFactory(sku="CUP-9")
    stock_receive(product=tea, warehouse=warehouse, quantity=5, actor="test")
    stock_receive(product=cup, warehouse=shanghai, quantity=5, actor="test")
    order = order_create(
        data=OrderInput(
            channel=channel,
            customer_name="王五",
            customer_phone="13700137000",
            lines=[LineInput(tea, 1), LineInput(cup, 2)],
            payment_method="cod",
            address={
                "province": "上海市",
                "city": "上海市",
                "district": "徐汇区",
                "address_detail": "漕溪北路1号",
            },
        ),
        actor="test",
    )
    stock_reserve(
        demands=[Demand(order, {tea.pk: 1}), Demand(order, {cup.pk: 2})], actor="test"
    )
    return order_process(order=order, actor=staff_user)


def test_an_upload_ships_good_rows_and_reports_every_bad_row_with_its_number(
    place_order, carrier, zto, staff_user
):
    ready = place_order(payment_method="cod")  # not yet picked: started by the upload
    picking = place_order(payment_method="cod", phone="13900139000")
    fulfillment_start(order=picking, actor="test")
    unpaid = place_order(payment_method="prepaid", phone="13700137001")
    data = csv_bytes(
        ("订单号", "快递公司", "运单号"),
        (ready.number, "顺丰", "SF1000000000001"),  # row 2: good, by Chinese name
        (picking.number, "sf", "sf 1000 0000 0000 2"),  # row 3: good, by code, spaced
        ("20990101999999", "sf", "SF1000000000003"),  # row 4: no such order
        (unpaid.number, "顺丰", "SF1000000000004"),  # row 5: nothing to ship
        (picking.number, "顺风快递", "SF1000000000005"),  # row 6: unknown carrier
        (ready.number, "sf", "SF123"),  # row 7: bad format
        (ready.number, "sf", "SF1000000000001"),  # row 8: repeated in the file
        (ready.number, "", ""),  # row 9: columns missing
        ("", "", ""),  # row 10: blank, skipped
        (picking.number, "中通", "731234567890123"),  # row 11: already shipped
    )

    with translation.override("en"):
        result = tracking_upload(data=data, actor=staff_user)

    assert [(e.row, e.message) for e in result.errors] == [
        (4, "No order 20990101999999."),
        (5, f"Order {unpaid.number} has nothing to ship (Awaiting payment)."),
        (6, "Unknown carrier “顺风快递”."),
        (
            7,
            "SF123 is not a 顺丰速运 tracking number (they look like SF1234567890123).",
        ),
        (8, "Tracking number SF1000000000001 is already on row 2."),
        (9, "Fill in the order number, the carrier and the tracking number."),
        (11, f"Order {picking.number} has nothing to ship (Shipped)."),
    ]
    assert [(s.order.number, s.tracking_number) for s in result.shipped] == [
        (ready.number, "SF1000000000001"),
        (picking.number, "SF1000000000002"),
    ]
    for order in (ready, picking):
        order.refresh_from_db()
        assert order.status == S.SHIPPED
    unpaid.refresh_from_db()
    assert unpaid.status == S.AWAITING_PAYMENT


def test_a_number_already_used_in_the_database_is_a_bad_row(
    place_order, carrier, staff_user
):
    first = place_order(payment_method="cod")
    (parcel,) = fulfillment_start(order=first, actor="test")
    parcel = shipment_ship(
        shipment=parcel, carrier=carrier, tracking_number="SF5000000000001", actor="t"
    )
    second = place_order(payment_method="cod", phone="13900139000")
    data = csv_bytes((second.number, "sf", parcel.tracking_number))

    with translation.override("en"):
        result = tracking_upload(data=data, actor=staff_user)

    assert [(e.row, e.message) for e in result.errors] == [
        (
            1,
            f"Tracking number {parcel.tracking_number} is already used on another parcel.",
        )
    ]
    second.refresh_from_db()
    # Nothing half-written: the picking the row started was rolled back with it.
    assert second.status == S.READY_TO_FULFILL
    assert not second.shipments.exists()


def test_an_excel_gbk_file_without_a_header_is_read(place_order, carrier, staff_user):
    order = place_order(payment_method="cod")
    data = csv_bytes((order.number, "顺丰速运", "SF1000000000009"), encoding="gbk")
    result = tracking_upload(data=data, actor=staff_user)
    assert result.errors == []
    assert result.shipped[0].tracking_number == "SF1000000000009"


def test_split_parcels_from_two_warehouses_take_one_row_each(
    split_order, carrier, zto, staff_user, sms_outbox
):
    order = split_order
    first = tracking_upload(
        data=csv_bytes((order.number, "sf", "SF2000000000001")), actor=staff_user
    )
    order.refresh_from_db()
    assert order.status == S.PARTIALLY_SHIPPED
    assert first.waiting == [order.number]

    second = tracking_upload(
        data=csv_bytes((order.number, "sf", "SF2000000000002")), actor=staff_user
    )
    order.refresh_from_db()
    assert order.status == S.SHIPPED and second.waiting == []
    parcels = order.shipments.order_by("warehouse__code")
    assert [(p.warehouse.code, p.tracking_number) for p in parcels] == [
        ("hz", "SF2000000000001"),
        ("sh", "SF2000000000002"),
    ] or [(p.warehouse.code, p.tracking_number) for p in parcels] == [
        ("hz", "SF2000000000002"),
        ("sh", "SF2000000000001"),
    ]
    assert sorted(
        (p.warehouse.code, [li.order_line.sku for li in p.lines.all()]) for p in parcels
    ) == [("hz", ["TEA-9"]), ("sh", ["CUP-9"])]


def test_each_parcel_tells_the_customer_its_carrier_number_and_status_link(
    split_order, carrier, staff_user, sms_outbox, django_capture_on_commit_callbacks
):
    order = split_order
    with django_capture_on_commit_callbacks(execute=True):
        result = orders_ship(orders=[order], actor=staff_user)  # SF: numbers needed
    assert len(result.errors) == 1
    assert not Shipment.objects.filter(order=order, status="shipped").exists()

    with django_capture_on_commit_callbacks(execute=True):
        tracking_upload(
            data=csv_bytes(
                (order.number, "sf", "SF3000000000001"),
                (order.number, "sf", "SF3000000000002"),
            ),
            actor=staff_user,
        )

    notes = Notification.objects.filter(order=order, template="shipped", channel="sms")
    assert notes.count() == 2
    texts = [m["text"] for m in sms_outbox]
    assert len(texts) == 2
    for number in ("SF3000000000001", "SF3000000000002"):
        assert any(number in text and "顺丰速运" in text for text in texts)
    assert all(order.status_url in text for text in texts)


def test_mark_shipped_ships_dozens_of_demo_carrier_orders_at_once(
    client, member, place_order, stocked_product
):
    demo = CarrierFactory(code="demo", name="演示快递", supports_cod=True)
    stock_receive(
        product=stocked_product,
        warehouse=stocked_product.stock_levels.get().warehouse,
        quantity=30,
        actor="t",
    )
    orders = [
        place_order(payment_method="cod", phone=f"139001{i:05d}") for i in range(24)
    ]
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))

    response = client.post(
        reverse("fulfillment:ship_bulk"), {"orders": [o.number for o in orders]}
    )

    assert response.url == reverse("console:order_list")
    assert Order.objects.filter(status=S.SHIPPED).count() == 24
    parcels = Shipment.objects.filter(carrier=demo, status="shipped")
    assert parcels.count() == 24
    assert all(p.tracking_number.startswith("DEMO") for p in parcels)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["24 order(s) shipped in 24 parcel(s)."]


def test_mark_shipped_reports_orders_it_cannot_ship_and_ships_the_rest(
    client, member, place_order, carrier
):
    CarrierFactory(code="demo", name="演示快递", supports_cod=True)
    good = place_order(payment_method="cod")
    good.carrier, good.carrier_chosen_by = Carrier.objects.get(code="demo"), "staff"
    good.save()
    needs_number = place_order(payment_method="cod", phone="13900139000")
    needs_number.carrier, needs_number.carrier_chosen_by = carrier, "staff"
    needs_number.save()
    unpaid = place_order(payment_method="prepaid", phone="13700137001")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))

    response = client.post(
        reverse("fulfillment:ship_bulk"),
        {"orders": [good.number, needs_number.number, unpaid.number]},
    )

    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [
        "1 order(s) shipped in 1 parcel(s).",
        f"{needs_number.number}: Enter the 顺丰速运 tracking number first.",
        f"{unpaid.number}: It has no parcel left to ship.",
    ]
    good.refresh_from_db()
    assert good.status == S.SHIPPED
    assert not needs_number.shipments.exists()  # its picking was undone with it


def test_print_labels_gives_one_pdf_for_the_ticked_orders(client, member, place_order):
    CarrierFactory(code="demo", name="演示快递", supports_cod=True)
    orders = [
        place_order(payment_method="cod", phone=f"1390013900{i}", name=f"客户{i}")
        for i in range(3)
    ]
    client.force_login(member(WAREHOUSE))

    response = client.post(
        reverse("fulfillment:labels_bulk"), {"orders": [o.number for o in orders]}
    )

    assert response["Content-Type"] == "application/pdf"
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages]
    assert len(pages) == 3
    for order, text in zip(orders, pages, strict=True):
        assert order.number in text and order.recipient_name in text
        assert order.shipments.get().tracking_number in text
        order.refresh_from_db()
        assert order.status == S.IN_FULFILLMENT  # labels printed, not yet shipped


def test_the_order_list_offers_the_bulk_shipping_buttons_to_the_warehouse(
    client, member, place_order
):
    place_order(payment_method="cod")
    client.force_login(member(WAREHOUSE))
    html = client.get(reverse("console:order_list")).content.decode()
    assert reverse("fulfillment:labels_bulk") in html
    assert reverse("fulfillment:ship_bulk") in html
    assert reverse("fulfillment:pick_list_bulk") in html


def test_customer_service_cannot_ship_in_bulk(client, member, place_order):
    order = place_order(payment_method="cod")
    client.force_login(member(CUSTOMER_SERVICE))
    response = client.post(reverse("fulfillment:ship_bulk"), {"orders": [order.number]})
    assert response.status_code == 403


def test_the_upload_page_lists_bad_rows(client, member, place_order, carrier):
    order = place_order(payment_method="cod")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))
    upload = io.BytesIO(
        csv_bytes(
            ("order", "carrier", "tracking"),
            (order.number, "sf", "SF4000000000001"),
            ("nope", "sf", "SF4000000000002"),
        )
    )
    upload.name = "发货.csv"

    response = client.post(reverse("fulfillment:tracking_upload"), {"file": upload})

    html = response.content.decode()
    assert 'data-shipped="1"' in html
    assert 'data-row="3"' in html and "No order nope." in html
    order.refresh_from_db()
    assert order.status == S.SHIPPED


def test_the_upload_refuses_a_file_that_is_not_csv(client, member):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))
    upload = io.BytesIO(b"x")
    upload.name = "orders.xlsx"
    response = client.post(reverse("fulfillment:tracking_upload"), {"file": upload})
    assert response.status_code == 400
    assert "Upload a .csv file." in response.content.decode()
