"""Reads of parcels, shaped for the console pages that show them."""

from django.db.models import Prefetch, QuerySet

from fulfillment.models import Carrier, Shipment, ShipmentLine


def shipments_for_order(order) -> QuerySet[Shipment]:
    """Return the order's parcels with carrier, warehouse, lines and scans."""
    return (
        Shipment.objects.filter(order=order)
        .select_related("carrier", "warehouse")
        .prefetch_related(
            Prefetch(
                "lines", queryset=ShipmentLine.objects.select_related("order_line")
            ),
            "tracking_events",
        )
        .order_by("created_at", "id")
    )


def shipment_get(pk: int) -> Shipment | None:
    """Return the parcel with its order, or None."""
    return Shipment.objects.select_related("order").filter(pk=pk).first()


def carriers_active() -> QuerySet[Carrier]:
    """Return the carriers parcels can be handed to."""
    return Carrier.objects.filter(active=True).order_by("name")
