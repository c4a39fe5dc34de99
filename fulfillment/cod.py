"""Each parcel's share of a cash-on-delivery order's cash, as its label prints it."""

from decimal import ROUND_HALF_UP, Decimal

from fulfillment.models import Shipment, ShipmentLine

CENT = Decimal("0.01")
NOT_COUNTED = (Shipment.Status.CANCELLED, Shipment.Status.REPLACED)


def cod_parcel_amounts(order) -> dict[int, Decimal]:
    """Return the cash each live parcel of the order collects, by shipment id.

    The order's total is split over its parcels by the value of their lines (net of
    discounts), cumulatively in the order the parcels were made: parcel i gets
    round(total × value up to i ÷ order value) − round(total × value up to i−1 ÷
    order value). So the shares of the parcels sum exactly to the total once every
    unit is in a parcel, and a parcel added later never changes an earlier parcel's
    printed amount.
    """
    parcels = list(
        order.shipments.exclude(status__in=NOT_COUNTED).order_by("created_at", "id")
    )
    if not parcels:
        return {}
    total = order.total
    order_lines = list(order.lines.all())
    order_value = sum(
        (line.line_total - line.order_discount_share for line in order_lines),
        Decimal("0"),
    )
    ordered_units = {line.pk: line.quantity for line in order_lines}
    by_line = {line.pk: line for line in order_lines}
    parcel_lines: dict[int, list[ShipmentLine]] = {p.pk: [] for p in parcels}
    for sl in ShipmentLine.objects.filter(shipment__in=parcels):
        parcel_lines[sl.shipment_id].append(sl)
    if order_value <= 0:
        return {
            p.pk: (total if i == 0 else Decimal("0.00")) for i, p in enumerate(parcels)
        }

    def upto(value):
        return (total * value / order_value).quantize(CENT, rounding=ROUND_HALF_UP)

    amounts: dict[int, Decimal] = {}
    covered = Decimal("0")
    units = dict.fromkeys(ordered_units, 0)
    for parcel in parcels:
        before = upto(covered)
        for sl in parcel_lines[parcel.pk]:
            line = by_line[sl.order_line_id]
            net = line.line_total - line.order_discount_share
            covered += net * sl.quantity / line.quantity
            units[line.pk] += sl.quantity
        amounts[parcel.pk] = upto(covered) - before
    if all(units[pk] >= n for pk, n in ordered_units.items()):
        # Every unit is in a parcel: the last takes what rounding left over.
        last = parcels[-1].pk
        amounts[last] = total - sum(v for pk, v in amounts.items() if pk != last)
    return amounts
