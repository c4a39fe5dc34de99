"""Reads of returns: what can still come back, and the console's lists."""

from collections import defaultdict

from django.db.models import Prefetch, Q, QuerySet, Sum

from fulfillment.models import Shipment, ShipmentLine
from fulfillment.return_models import ReturnLine, ReturnRequest

R = ReturnRequest.Status
# Parcels whose goods reached (or are on their way to) the customer. A cancelled
# parcel never left; a replaced one is counted by its replacement.
LEFT = (Shipment.Status.SHIPPED, Shipment.Status.DELIVERED)


def shipped_quantities(order) -> dict[int, int]:
    """Return units shipped per order line id, over every parcel that left."""
    rows = (
        ShipmentLine.objects.filter(shipment__order=order, shipment__status__in=LEFT)
        .values("order_line_id")
        .annotate(n=Sum("quantity"))
    )
    return {row["order_line_id"]: row["n"] for row in rows}


def returned_quantities(order, *, exclude=None, refunds_only=False) -> dict[int, int]:
    """Return units per order line id that are coming or came back.

    An open return counts what it asked for; a completed one what was actually
    received (restocked or written off); a rejected one nothing.
    """
    lines = ReturnLine.objects.filter(return_request__order=order).exclude(
        return_request__status=R.REJECTED
    )
    if exclude is not None:
        lines = lines.exclude(return_request=exclude)
    if refunds_only:
        lines = lines.filter(return_request__resolution=ReturnRequest.Resolution.REFUND)
    counted: dict[int, int] = defaultdict(int)
    for line in lines.select_related("return_request").only(
        "order_line_id",
        "quantity",
        "restocked_quantity",
        "written_off_quantity",
        "return_request__status",
    ):
        if line.return_request.status == R.COMPLETED:
            counted[line.order_line_id] += line.inspected_quantity
        else:
            counted[line.order_line_id] += line.quantity
    return dict(counted)


def returnable_quantities(order, *, exclude=None) -> dict[int, int]:
    """Return, per order line id, the units shipped and not already (being) returned."""
    returned = returned_quantities(order, exclude=exclude)
    return {
        line_id: shipped - returned.get(line_id, 0)
        for line_id, shipped in shipped_quantities(order).items()
        if shipped - returned.get(line_id, 0) > 0
    }


def returns_list(
    *, status: str = "", reason: str = "", warehouse=None, query: str = ""
) -> QuerySet[ReturnRequest]:
    """Return returns for the console list, newest first, filtered."""
    qs = ReturnRequest.objects.select_related("order", "warehouse").annotate(
        units=Sum("lines__quantity")
    )
    if status == "open":
        qs = qs.exclude(status__in=(R.REJECTED, R.COMPLETED))
    elif status:
        qs = qs.filter(status=status)
    if reason:
        qs = qs.filter(reason=reason)
    if warehouse:
        qs = qs.filter(warehouse=warehouse)
    if query:
        qs = qs.filter(
            Q(number__icontains=query)
            | Q(order__number__icontains=query)
            | Q(order__recipient_phone__contains=query)
        )
    return qs.order_by("-requested_at", "-id")


def return_for_console(number: str) -> ReturnRequest | None:
    """Return one return with its order, lines, parcels and refund, or None."""
    return (
        ReturnRequest.objects.select_related(
            "order", "order__customer", "warehouse", "refund", "requested_by"
        )
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ReturnLine.objects.select_related(
                    "order_line", "replacement_product", "inspected_by"
                ),
            ),
            "replacements",
        )
        .filter(number=number)
        .first()
    )


def returns_for_order(order) -> QuerySet[ReturnRequest]:
    """Return the order's returns with their lines, oldest first."""
    return (
        ReturnRequest.objects.filter(order=order)
        .prefetch_related(
            Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line"))
        )
        .order_by("requested_at", "id")
    )
