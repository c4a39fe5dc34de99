"""The order list's downloads: orders, lines, shipments or payments of the orders the
list's filters select, as CSV (UTF-8 with a BOM) or XLSX.

Rows are read and written in chunks, so an export of 100,000 orders never holds them
all: CSV is streamed to the browser as it is written, XLSX is written row by row
(openpyxl's write-only mode, inline strings) into a temporary file, by the shared
writers in ``orders.exports``, which pass every cell through ``safe_cell``.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Payment
from fulfillment.models import Shipment
from orders.models import Order

# Orders read per query (with their lines, parcels or payments in one more query).
CHUNK_SIZE = 1000


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _labels() -> dict[str, dict[str, str]]:
    """Return the choices' labels in the active language, translated once per export.

    ``get_FOO_display`` translates on every call: two thirds of the export's time.
    """
    choices = {
        "status": Order.Status,
        "payment_status": Order.PaymentStatus,
        "payment_method": Order.PaymentMethod,
        "shipment_status": Shipment.Status,
        "payment_row_method": Payment.Method,
        "payment_row_status": Payment.Status,
    }
    return {
        name: {value: str(label) for value, label in kind.choices}
        for name, kind in choices.items()
    }


def _order_rows(order: Order, labels) -> Iterable[list]:
    yield [
        order.number,
        order.channel.name,
        order.external_id,
        _when(order.placed_at),
        labels["status"][order.status],
        labels["payment_status"][order.payment_status],
        labels["payment_method"][order.payment_method],
        order.customer.name,
        order.customer.phone,
        order.recipient_name,
        order.recipient_phone,
        order.province,
        order.city,
        order.district,
        order.address_detail,
        order.postal_code,
        order.subtotal,
        order.discount_total,
        order.shipping_fee,
        order.tax_total,
        order.total,
        order.buyer_note,
    ]


def _line_rows(order: Order, labels) -> Iterable[list]:
    for line in order.lines.all():
        yield [
            order.number,
            _when(order.placed_at),
            labels["status"][order.status],
            line.sku,
            line.name,
            line.quantity,
            line.unit_price,
            line.discount,
            line.line_total,
            line.backordered_quantity,
        ]


def _shipment_rows(order: Order, labels) -> Iterable[list]:
    for parcel in order.shipments.all():
        yield [
            order.number,
            parcel.pk,
            parcel.warehouse.name,
            parcel.carrier.name if parcel.carrier else "",
            parcel.tracking_number,
            labels["shipment_status"][parcel.status],
            parcel.tracking_status,
            _when(parcel.shipped_at),
            _when(parcel.delivered_at),
        ]


def _payment_rows(order: Order, labels) -> Iterable[list]:
    for payment in order.payments.all():
        yield [
            order.number,
            labels["payment_row_method"][payment.method],
            payment.amount,
            labels["payment_row_status"][payment.status],
            payment.provider_reference,
            _when(payment.confirmed_at),
        ]


@dataclass(frozen=True)
class OrderExport:
    header: Callable[[], list[str]]
    rows: Callable[[Order, dict], Iterable[list]]
    prefetch: tuple[str, ...] = ()


EXPORTS = {
    "orders": OrderExport(
        header=lambda: [
            _("Order number"),
            _("Channel"),
            _("External id"),
            _("Placed at"),
            _("Status"),
            _("Payment status"),
            _("Payment method"),
            _("Customer"),
            _("Customer phone"),
            _("Recipient"),
            _("Recipient phone"),
            _("Province"),
            _("City"),
            _("District"),
            _("Street address"),
            _("Postal code"),
            _("Subtotal"),
            _("Discount"),
            _("Shipping fee"),
            _("Tax"),
            _("Total"),
            _("Buyer note"),
        ],
        rows=_order_rows,
    ),
    "lines": OrderExport(
        header=lambda: [
            _("Order number"),
            _("Placed at"),
            _("Status"),
            _("SKU"),
            _("Name"),
            _("Quantity"),
            _("Unit price"),
            _("Discount"),
            _("Line total"),
            _("Backordered"),
        ],
        rows=_line_rows,
        prefetch=("lines",),
    ),
    "shipments": OrderExport(
        header=lambda: [
            _("Order number"),
            _("Parcel"),
            _("Warehouse"),
            _("Carrier"),
            _("Tracking number"),
            _("Status"),
            _("Tracking status"),
            _("Shipped at"),
            _("Delivered at"),
        ],
        rows=_shipment_rows,
        prefetch=("shipments__warehouse", "shipments__carrier"),
    ),
    "payments": OrderExport(
        header=lambda: [
            _("Order number"),
            _("Method"),
            _("Amount"),
            _("Status"),
            _("Reference"),
            _("Confirmed at"),
        ],
        rows=_payment_rows,
        prefetch=("payments",),
    ),
}


def export_table(*, kind: str, orders: QuerySet[Order]) -> tuple[list, Iterator[list]]:
    """Return the header and an iterator over the rows of one export of these orders."""
    export = EXPORTS[kind]
    labels = _labels()
    chunks = orders.prefetch_related(*export.prefetch).iterator(chunk_size=CHUNK_SIZE)
    return export.header(), (
        row for order in chunks for row in export.rows(order, labels)
    )
