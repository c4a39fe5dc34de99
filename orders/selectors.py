"""Reads of orders, shaped for the pages that show them."""

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.models import Shipment
from inventory.models import Product, Reservation
from orders.lifecycle import CANCELLABLE, can_transition
from orders.models import Channel, ChannelToken, Order, OrderEvent
from orders.phones import phone_digits, phone_normalise
from orders.validation import problem_message

S = Order.Status
PS = Order.PaymentStatus
# Statuses in which the recipient and address may still be corrected (see order_correct).
CORRECTABLE = (S.RECEIVED, S.NEEDS_CORRECTION, S.AWAITING_PAYMENT)
# Parcels still in the warehouse (as fulfillment.services.OPEN).
SHIPMENT_OPEN = (Shipment.Status.PICKING, Shipment.Status.PACKED)
# A search that looks like a phone number: digits with an optional +, spaces, dashes.
PHONE_LIKE = re.compile(r"^\+?[\d\s-]{4,}$")


def order_matches_phone(order: Order, phone: str) -> bool:
    """Return whether the phone (full number or its last 4 digits) belongs to the order."""
    given = phone_digits(phone)
    if len(given) < 4:
        return False
    known = {
        phone_digits(order.recipient_phone),
        phone_digits(order.customer.phone),
    } - {""}
    if len(given) == 4:
        return any(number.endswith(given) for number in known)
    return given in known


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def channel_for_token(raw: str) -> Channel | None:
    """Return the active channel whose live API key this is."""
    token = (
        ChannelToken.objects.select_related("channel")
        .filter(digest=token_digest(raw), revoked_at__isnull=True, channel__active=True)
        .first()
    )
    return token.channel if token else None


def order_for_channel(*, channel: Channel, number: str) -> Order | None:
    """Return the channel's order with its lines, parcels and scans, or None for any other."""
    return (
        Order.objects.filter(channel=channel, number=number)
        .select_related("channel", "customer")
        .prefetch_related("lines", "shipments__carrier", "shipments__tracking_events")
        .first()
    )


# --- Staff console ----------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class DashboardSummary:
    statuses: list[StatusCount]
    today: int
    needs_correction: int


def shop_day_start(day: date) -> datetime:
    """Return the moment the given day begins in the shop's time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def dashboard_summary() -> DashboardSummary:
    """Return the order count of every status, in lifecycle order, and today's intake."""
    rows = {
        row["status"]: row["count"]
        for row in Order.objects.order_by().values("status").annotate(count=Count("id"))
    }
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    return DashboardSummary(
        statuses=[StatusCount(s.value, s.label, rows.get(s.value, 0)) for s in S],
        today=Order.objects.filter(placed_at__gte=shop_day_start(today)).count(),
        needs_correction=rows.get(S.NEEDS_CORRECTION, 0),
    )


def _search_filter(q: str) -> Q:
    """Return the condition matching q as order number, external id, name or phone."""
    condition = (
        Q(number__icontains=q)
        | Q(external_id__icontains=q)
        | Q(customer__name__icontains=q)
        | Q(recipient_name__icontains=q)
    )
    if not PHONE_LIKE.match(q):
        return condition
    digits = phone_digits(q)
    if len(digits) == 4:
        return (
            condition
            | Q(recipient_phone__endswith=digits)
            | Q(customer__phone__endswith=digits)
        )
    if len(digits) > 4:
        phone = phone_normalise(q)
        return condition | Q(recipient_phone=phone) | Q(customer__phone=phone)
    return condition


def order_list(
    *,
    status: str = "",
    channel: Channel | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: str = "",
) -> QuerySet[Order]:
    """Return the orders matching the console's filters, newest first.

    Dates are days in the shop's time zone; ``date_to`` includes the whole day.
    """
    orders = Order.objects.select_related("channel", "customer")
    if status:
        orders = orders.filter(status=status)
    if channel is not None:
        orders = orders.filter(channel=channel)
    if date_from:
        orders = orders.filter(placed_at__gte=shop_day_start(date_from))
    if date_to:
        orders = orders.filter(
            placed_at__lt=shop_day_start(date_to + timedelta(days=1))
        )
    q = (q or "").strip()
    if q:
        orders = orders.filter(_search_filter(q))
    return orders.order_by("-placed_at", "-id")


def order_for_console(number: str) -> Order | None:
    """Return the order with everything its console page shows, or None."""
    return (
        Order.objects.filter(number=number)
        .select_related("channel", "customer")
        .prefetch_related(
            "lines",
            Prefetch(
                "events",
                queryset=OrderEvent.objects.select_related("actor").order_by(
                    "-created_at", "-id"
                ),
            ),
            Prefetch(
                "reservations",
                queryset=Reservation.objects.select_related("product", "warehouse"),
            ),
        )
        .first()
    )


def order_problem_messages(order: Order) -> list[str]:
    """Return the readable reasons the order is held for correction."""
    if order.status != S.NEEDS_CORRECTION:
        return []
    return [problem_message(problem) for problem in order.problems]


@dataclass(frozen=True)
class OrderAction:
    """A next step the user may take on the order, posted to ``url``."""

    name: str
    label: str
    url: str
    style: str = ""  # "primary", "danger" or "" (plain)
    shipment: object = None


def _may(user, perm: str) -> bool:
    return user.has_perm(perm)


def _reverse_or_empty(name: str, *args) -> str:
    # The tracking pages are another app's; until their URL exists, the link is left out.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def order_actions(order: Order, user, *, shipments=()) -> list[OrderAction]:
    """Return the steps the lifecycle allows next on this order that the user may take.

    ``shipments`` are the order's parcels (the page has them already); parcels still
    in the warehouse get a "Ship" step, parcels on their way a "Record scan" link.
    """
    actions = []
    number = order.number
    if (
        order.status == S.AWAITING_PAYMENT
        and order.payment_status == PS.UNPAID
        and can_transition(order, S.READY_TO_FULFILL)
        and _may(user, "billing.confirm_payment")
    ):
        actions.append(
            OrderAction(
                "confirm_payment",
                _("Confirm payment"),
                reverse("billing:confirm", args=[number]),
                style="primary",
            )
        )
    if (
        order.status == S.BACKORDERED
        and can_transition(order, S.READY_TO_FULFILL)
        and _may(user, "orders.change_order")
    ):
        actions.append(
            OrderAction(
                "process",
                _("Check stock again"),
                reverse("console:order_process", args=[number]),
                style="primary",
            )
        )
    if (
        order.status == S.READY_TO_FULFILL
        and can_transition(order, S.IN_FULFILLMENT)
        and _may(user, "fulfillment.add_shipment")
    ):
        actions.append(
            OrderAction(
                "start_picking",
                _("Start picking"),
                reverse("fulfillment:start", args=[number]),
                style="primary",
            )
        )
    if order.status in (S.IN_FULFILLMENT, S.PARTIALLY_SHIPPED) and _may(
        user, "fulfillment.change_shipment"
    ):
        actions += [
            OrderAction(
                "ship",
                _("Ship parcel %(parcel)s") % {"parcel": shipment},
                reverse("fulfillment:ship", args=[shipment.pk]),
                style="primary",
                shipment=shipment,
            )
            for shipment in shipments
            if shipment.status in SHIPMENT_OPEN
        ]
    if order.status in (S.PARTIALLY_SHIPPED, S.SHIPPED) and _may(
        user, "tracking.add_trackingevent"
    ):
        for shipment in shipments:
            url = _reverse_or_empty("tracking:scan_add", shipment.pk)
            if shipment.status == Shipment.Status.SHIPPED and url:
                actions.append(
                    OrderAction(
                        "scan",
                        _("Record a scan for %(parcel)s") % {"parcel": shipment},
                        url,
                        shipment=shipment,
                    )
                )
    if (
        order.status == S.DELIVERED
        and order.is_cod
        and order.payment_status == PS.COD_PENDING
        and _may(user, "billing.confirm_payment")
    ):
        actions.append(
            OrderAction(
                "cod",
                _("Record cash collected"),
                reverse("billing:cod", args=[number]),
                style="primary",
            )
        )
    # Completing needs the money in; the button waits until it is.
    if (
        can_transition(order, S.COMPLETED)
        and order.payment_status in (PS.PAID, PS.COD_COLLECTED)
        and _may(user, "orders.complete_order")
    ):
        actions.append(
            OrderAction(
                "complete",
                _("Complete (settled)"),
                reverse("console:order_complete", args=[number]),
                style="primary",
            )
        )
    if order.status in CORRECTABLE and _may(user, "orders.change_order"):
        actions.append(
            OrderAction(
                "correct",
                _("Correct details"),
                reverse("console:order_correct", args=[number]),
                style="primary" if order.status == S.NEEDS_CORRECTION else "",
            )
        )
    if _may(user, "orders.change_order"):
        actions.append(
            OrderAction(
                "note", _("Add note"), reverse("console:order_note", args=[number])
            )
        )
    if order.status in CANCELLABLE and _may(user, "orders.cancel_order"):
        actions.append(
            OrderAction(
                "cancel",
                _("Cancel order"),
                reverse("console:order_cancel", args=[number]),
                style="danger",
            )
        )
    return actions


def phone_channel() -> Channel | None:
    """Return the active channel that phone orders are booked on."""
    return (
        Channel.objects.filter(kind=Channel.Kind.PHONE, active=True)
        .order_by("pk")
        .first()
    )


def product_for_code(code: str) -> Product | None:
    """Return the product on sale with this SKU or barcode."""
    code = (code or "").strip()
    if not code:
        return None
    products = Product.objects.filter(active=True)
    return (
        products.filter(sku__iexact=code).first()
        or products.filter(barcode=code).first()
    )


def products_for_sale() -> QuerySet[Product]:
    """Return the active products with ``available``: units free in active warehouses."""
    in_stock = Q(stock_levels__warehouse__active=True)
    return (
        Product.objects.filter(active=True)
        .annotate(
            available=Coalesce(
                Sum(
                    F("stock_levels__on_hand") - F("stock_levels__reserved"),
                    filter=in_stock,
                ),
                0,
            )
        )
        .order_by("sku")
    )
