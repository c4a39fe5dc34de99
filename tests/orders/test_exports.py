"""The order list's exports: the list's filters, CSV and XLSX, formulas neutralised."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from billing.services import payment_confirm
from orders.exports import safe_cell
from orders.models import Order
from orders.roles import CUSTOMER_SERVICE, FINANCE, OWNER

S = Order.Status


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def console(client, member):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(FINANCE))
    return client


def export_url(kind, **params):
    return reverse("console:order_export", args=[kind]), params


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def get(console, kind, **params):
    url, query = export_url(kind, **params)
    return console.get(url, query)


def test_orders_export_follows_the_lists_filters(console, place_order):
    kept = place_order(payment_method="cod")
    cancelled = place_order()
    cancelled.status = S.CANCELLED
    cancelled.save()

    rows = csv_rows(get(console, "orders", status=kept.status))

    assert rows[0][:5] == [
        "Order number",
        "Channel",
        "External id",
        "Placed at",
        "Status",
    ]
    assert [row[0] for row in rows[1:]] == [kept.number]
    assert rows[1][4] == kept.get_status_display()
    assert rows[1][20] == str(kept.total)


def test_lines_shipments_and_payments_are_one_row_each(console, place_order, ship):
    order = place_order(quantity=2)
    payment_confirm(order=order, method="alipay", amount=order.total, actor="t")
    (parcel,) = ship(order)

    lines = csv_rows(get(console, "lines"))
    shipments = csv_rows(get(console, "shipments"))
    payments = csv_rows(get(console, "payments"))

    sku = order.lines.get().sku
    assert lines[1][:6] == [
        order.number,
        lines[1][1],
        "Shipped",
        sku,
        order.lines.get().name,
        "2",
    ]
    assert shipments[1][0] == order.number
    assert shipments[1][4] == parcel.tracking_number
    assert payments[1][:3] == [order.number, "Alipay", str(order.total)]
    assert len(lines) == len(shipments) == len(payments) == 2


@pytest.mark.parametrize("text", ["=1+1", "+86 138", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_starts_a_formula_is_neutralised(console, place_order, text):
    order = place_order(buyer_note=text)

    rows = csv_rows(get(console, "orders"))

    assert rows[1][21] == "'" + text
    assert safe_cell(order.buyer_note) == "'" + text


def test_the_xlsx_export_opens_in_openpyxl_with_the_same_rows(console, place_order):
    place_order(buyer_note='=HYPERLINK("http://evil")')
    place_order(name="张三\x07")  # a control character is not allowed in XLSX

    response = console.get(*export_url("orders", format="xlsx"))

    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Order number"
    assert len(rows) == 3
    notes = {row[21] for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil")' in notes
    assert [row[7] for row in rows[1:]].count("张三") == 2


def test_exporting_needs_the_export_permission(client, member):
    client.force_login(member(CUSTOMER_SERVICE))

    response = client.get(reverse("console:order_export", args=["orders"]))

    assert response.status_code == 403


def test_an_unknown_export_is_404(console):
    assert get(console, "customers").status_code == 404


@pytest.mark.parametrize(("role", "shown"), [(OWNER, True), (CUSTOMER_SERVICE, False)])
def test_the_order_list_offers_the_exports_to_who_may_export(
    client, member, role, shown
):
    client.force_login(member(role))

    page = client.get(reverse("console:order_list"), {"status": "shipped"}).text

    link = (
        reverse("console:order_export", args=["lines"])
        + "?status=shipped&amp;format=xlsx"
    )
    assert (link in page) is shown


def test_orders_read_in_chunks_each_come_once(console, place_order, monkeypatch):
    monkeypatch.setattr("orders.order_exports.CHUNK_SIZE", 2)
    orders = [place_order() for _ in range(5)]

    response = get(console, "lines")

    assert response.streaming
    numbers = [row[0] for row in csv_rows(response)[1:]]
    assert sorted(numbers) == sorted(o.number for o in orders)
