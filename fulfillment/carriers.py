"""Which carrier takes a parcel, what it costs, and whether a tracking number looks right.

Selection, in order: the carrier staff set on the order page; the customer's choice;
the channel's carrier; else the cheapest carrier for the weight and destination by
its rate table (its ``orders.ShippingRule`` rows; a carrier without a rate for the
destination comes after every carrier with one). A carrier qualifies only when it is
active, serves the destination province and, for a cash-on-delivery order, collects
cash. A choice that does not qualify (the customer's carrier does not take COD) is
passed over and the reason kept, so the order page can say why.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.exceptions import ShipmentError
from fulfillment.models import Carrier, ChannelShipping
from orders.events import Actor, order_event_record
from orders.lifecycle import order_lock
from orders.models import Order, OrderEvent
from orders.pricing import carrier_rate

# Tracking number formats of the big Chinese carriers, by our carrier code. Numbers
# are stored upper-case without spaces. A carrier not listed (or with a format of
# its own in ``Carrier.tracking_number_pattern``) is checked by that instead.
TRACKING_NUMBER_FORMATS = {
    "sf": r"SF\d{13}|\d{12}",  # 顺丰: SF + 13 digits; older numbers 12 digits
    "zto": r"\d{12,15}",  # 中通: 12–15 digits (73…, 75…, 78…)
    "yto": r"YT\d{13,15}",  # 圆通: YT + 13 digits
    "yunda": r"\d{13,15}",  # 韵达: 13 or 15 digits
    "sto": r"\d{12,15}",  # 申通: 12–15 digits (77…, 88…)
    "jd": r"JD[A-Z0-9]{11,18}",  # 京东: JDVA…, JDX…
    "ems": r"\d{13}|[A-Z]{2}\d{9}[A-Z]{2}",  # EMS: 13 digits, or the UPU format
    "jt": r"JT\d{13}",  # 极兔
    "jtexpress": r"JT\d{13}",
    "demo": r"DEMO\d{10}",
}

# A human-readable example per format, for the error message.
TRACKING_NUMBER_EXAMPLES = {
    "sf": "SF1234567890123",
    "zto": "731234567890123",
    "yto": "YT1234567890123",
    "yunda": "4312345678901",
    "sto": "773123456789012",
    "jd": "JDVA12345678901",
    "ems": "1123456789012",
    "jt": "JT1234567890123",
    "jtexpress": "JT1234567890123",
    "demo": "DEMO0123456789",
}


def tracking_number_normalise(number: str) -> str:
    """Return the number as stored: upper-case, without spaces or dashes."""
    return re.sub(r"[\s\-]", "", number or "").upper()


def tracking_number_error(*, carrier: Carrier, number: str) -> str:
    """Return why the number cannot be the carrier's, or "" when it can."""
    number = tracking_number_normalise(number)
    if not number:
        return _("Enter the tracking number.")
    pattern = carrier.tracking_number_pattern or TRACKING_NUMBER_FORMATS.get(
        carrier.code, ""
    )
    if pattern and not re.fullmatch(pattern, number):
        example = TRACKING_NUMBER_EXAMPLES.get(carrier.code)
        if example and not carrier.tracking_number_pattern:
            return _(
                "%(number)s is not a %(carrier)s tracking number (they look like"
                " %(example)s)."
            ) % {"number": number, "carrier": carrier.name, "example": example}
        return _("%(number)s is not a %(carrier)s tracking number.") % {
            "number": number,
            "carrier": carrier.name,
        }
    return ""


def carrier_serves(carrier: Carrier, province: str) -> bool:
    """Return whether the carrier delivers to the province."""
    if not carrier.regions:
        return True
    return any(
        name and province and (province.startswith(name) or name.startswith(province))
        for name in carrier.regions
    )


def order_weight_kg(order: Order) -> Decimal:
    """Return the goods' weight: the parcels' weighed total once packed, else the products'."""
    weighed = (
        order.shipments.exclude(status__in=("cancelled", "replaced")).aggregate(
            w=Sum("weight_kg")
        )["w"]
        or 0
    )
    if weighed:
        return Decimal(weighed)
    return sum(
        (
            line.product.weight_kg * line.quantity
            for line in order.lines.select_related("product")
        ),
        Decimal("0"),
    )


def shipment_weight_kg(shipment) -> Decimal:
    """Return the parcel's weight: as weighed at packing, else its goods' weight."""
    if shipment.weight_kg:
        return Decimal(shipment.weight_kg)
    goods = shipment.lines.aggregate(
        w=Sum(F("quantity") * F("order_line__product__weight_kg"))
    )["w"]
    return Decimal(goods or 0)


@dataclass
class CarrierOption:
    carrier: Carrier
    rate: Decimal | None
    problem: str = ""  # why it cannot take this order; "" when it can


@dataclass
class CarrierChoice:
    """The carrier for an order, why it was chosen, and the others considered."""

    carrier: Carrier | None
    reason: str
    rate: Decimal | None = None
    options: list[CarrierOption] = field(default_factory=list)
    passed_over: list[str] = field(default_factory=list)


def _problem(carrier: Carrier, order: Order) -> str:
    if not carrier.active:
        return _("%(carrier)s is not in use.") % {"carrier": carrier.name}
    if not carrier_serves(carrier, order.province):
        return _("%(carrier)s does not deliver to %(province)s.") % {
            "carrier": carrier.name,
            "province": order.province or "?",
        }
    if order.payment_method == Order.PaymentMethod.COD and not carrier.supports_cod:
        return _("%(carrier)s does not collect cash on delivery.") % {
            "carrier": carrier.name
        }
    return ""


def carrier_options(
    order: Order, *, weight_kg: Decimal | None = None
) -> list[CarrierOption]:
    """Return every active carrier with its rate for the order and why it cannot take it."""
    weight = order_weight_kg(order) if weight_kg is None else weight_kg
    options = [
        CarrierOption(
            carrier=carrier,
            rate=carrier_rate(
                carrier_id=carrier.pk, province=order.province, weight_kg=weight
            ),
            problem=_problem(carrier, order),
        )
        for carrier in Carrier.objects.filter(active=True).order_by("name")
    ]
    return options


def carrier_choose(order: Order, *, weight_kg: Decimal | None = None) -> CarrierChoice:
    """Return the carrier the rules pick for the order (see the module docstring)."""
    options = carrier_options(order, weight_kg=weight_kg)
    by_id = {o.carrier.pk: o for o in options}
    passed_over = []
    chosen_by = {
        Order.CarrierChoice.STAFF: _("set by staff"),
        Order.CarrierChoice.CUSTOMER: _("the customer's choice"),
    }
    policy = ChannelShipping.objects.filter(channel_id=order.channel_id).first()
    wishes = []
    if order.carrier_id:
        wishes.append(
            (order.carrier, chosen_by.get(order.carrier_chosen_by, _("chosen")))
        )
    if policy is not None and policy.carrier_id:
        wishes.append((policy.carrier, _("the channel's carrier")))
    for carrier, reason in wishes:
        option = by_id.get(carrier.pk)
        problem = _problem(carrier, order) if option is None else option.problem
        if (
            problem
            and order.carrier_chosen_by == Order.CarrierChoice.STAFF
            and carrier.pk == order.carrier_id
            and carrier.active
        ):
            problem = ""  # staff override the rules on purpose
        if not problem:
            return CarrierChoice(
                carrier=carrier,
                reason=reason,
                rate=option.rate if option else None,
                options=options,
                passed_over=passed_over,
            )
        passed_over.append(problem)
    usable = [o for o in options if not o.problem]
    if not usable:
        return CarrierChoice(
            carrier=None,
            reason=_("No carrier can take this order."),
            options=options,
            passed_over=passed_over,
        )
    # A carrier without a rate table for the destination costs an unknown amount:
    # it is taken only when no carrier with a rate can go.
    best = min(
        usable, key=lambda o: (o.rate is None, o.rate or Decimal("0"), o.carrier.name)
    )
    return CarrierChoice(
        carrier=best.carrier,
        reason=(
            _("cheapest for %(weight)s kg to %(province)s")
            if best.rate is not None
            else _("no carrier has a rate for %(weight)s kg to %(province)s")
        )
        % {
            "weight": (order_weight_kg(order) if weight_kg is None else weight_kg),
            "province": order.province or "?",
        },
        rate=best.rate,
        options=options,
        passed_over=passed_over,
    )


@transaction.atomic
def order_carrier_set(
    *,
    order: Order,
    carrier: Carrier | None,
    actor: Actor,
    chosen_by: str = Order.CarrierChoice.STAFF,
) -> Order:
    """Set (or with None, clear) the order's carrier, overriding the selection rules."""
    order = order_lock(order)
    if order.status in (
        Order.Status.SHIPPED,
        Order.Status.DELIVERED,
        Order.Status.COMPLETED,
        Order.Status.CANCELLED,
        Order.Status.RETURNED,
        Order.Status.PARTIALLY_RETURNED,
    ):
        raise ShipmentError(_("The carrier can no longer be changed for this order."))
    if carrier is not None and not carrier.active:
        raise ShipmentError(_("%(carrier)s is not in use.") % {"carrier": carrier.name})
    before = order.carrier
    order.carrier = carrier
    order.carrier_chosen_by = chosen_by if carrier is not None else ""
    order.save(update_fields=["carrier", "carrier_chosen_by", "updated_at"])
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.SHIPMENT,
        actor=actor,
        message=(
            _("Carrier set to %(carrier)s.") % {"carrier": carrier.name}
            if carrier is not None
            else _("Carrier left to the rules.")
        ),
        data={
            "carrier_from": before.code if before else "",
            "carrier_to": carrier.code if carrier else "",
            "chosen_by": order.carrier_chosen_by,
        },
    )
    return order


# Used when a channel has no shipping policy of its own.
DEFAULT_SHIP_WITHIN_HOURS = 48


def ship_within_hours_by_channel() -> dict[int, int]:
    """Return each channel's shipping deadline in hours (channels with a policy)."""
    return dict(ChannelShipping.objects.values_list("channel_id", "ship_within_hours"))


def ship_by_for(order: Order, *, accepted_at=None, hours_by_channel=None):
    """Return when the order must ship: its channel's hours after it was accepted."""
    if hours_by_channel is None:
        hours_by_channel = dict(
            ChannelShipping.objects.filter(channel_id=order.channel_id).values_list(
                "channel_id", "ship_within_hours"
            )
        )
    hours = hours_by_channel.get(order.channel_id, DEFAULT_SHIP_WITHIN_HOURS)
    return (accepted_at or timezone.now()) + timedelta(hours=hours)


def order_ship_by_set(*, order: Order, accepted_at=None) -> Order:
    """Give an accepted order its ship-by deadline, once (call with the order locked)."""
    if order.ship_by is not None:
        return order
    order.ship_by = ship_by_for(order, accepted_at=accepted_at)
    order.save(update_fields=["ship_by", "updated_at"])
    return order
