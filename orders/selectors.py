"""Reads of orders, shaped for the pages that show them."""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Right
from django.db.models.lookups import Exact
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.models import Shipment
from inventory.models import Product, Reservation, Warehouse
from inventory.selectors import products_with_available
from orders.lifecycle import CANCELLABLE, can_transition
from orders.models import (
    Channel,
    ChannelToken,
    Customer,
    Order,
    OrderEvent,
    RoutingRule,
)
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
# The start of one (too short to search by yet).
PHONE_START = re.compile(r"^\+?[\d\s-]+$")
# Orders waiting for a call that the dashboard lists by name.
DASHBOARD_CALL_LIST = 5


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
    # The planner's estimate, not a count (see _settled_estimates).
    estimated: bool = False


@dataclass(frozen=True)
class DashboardSummary:
    statuses: list[StatusCount]
    today: int
    needs_correction: int
    # Held for correction past CORRECTION_CALL_AFTER_HOURS: how many, and the
    # longest-waiting few (each with ``held_since``).
    call_count: int = 0
    to_call: list = field(default_factory=list)


def shop_day_start(day: date) -> datetime:
    """Return the moment the given day begins in the shop's time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


# Statuses an order ends in: a big shop's orders are nearly all here and nobody works
# them, so past ESTIMATE_FROM_ORDERS orders the dashboard shows them estimated.
SETTLED = (S.COMPLETED, S.CANCELLED, S.RETURNED, S.PARTIALLY_RETURNED)
ESTIMATE_FROM_ORDERS = 100_000


def _settled_estimates() -> dict[str, int]:
    """Return the orders per settled status as PostgreSQL's statistics have them.

    Counting them exactly reads every index entry of the table (400 ms at a million
    orders); ANALYZE (autovacuum runs it) keeps the share of each status. Empty for a
    shop under ESTIMATE_FROM_ORDERS orders and on other databases: those count.
    """
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples, s.most_common_vals::text::text[], "
            "s.most_common_freqs FROM pg_class c LEFT JOIN pg_stats s "
            "ON s.tablename = c.relname AND s.attname = 'status' "
            "WHERE c.relname = %s",
            [Order._meta.db_table],
        )
        row = cursor.fetchone()
    if not row or row[0] < ESTIMATE_FROM_ORDERS or row[1] is None:
        return {}
    rows, values, shares = row
    return {
        value: round(share * rows)
        for value, share in zip(values, shares, strict=True)
        if value in SETTLED
    }


def dashboard_summary(*, now: datetime | None = None) -> DashboardSummary:
    """Return the order count of every status, in lifecycle order, today's intake, and
    the orders held for correction so long that someone should call the customer.

    The statuses orders are worked in are counted; in a big shop the settled ones
    are estimated (see _settled_estimates) and today's settled orders counted apart.
    Two queries, one more on PostgreSQL and another in a big shop.
    """
    now = now or timezone.now()
    today = timezone.localdate(now, timezone=timezone.get_default_timezone())
    since = shop_day_start(today)
    estimates = _settled_estimates()
    # Each status a range of the (status, placed_at) index, read without the table.
    rows = {
        row["status"]: row
        for row in Order.objects.filter(
            status__in=[s for s in S.values if s not in estimates]
        )
        .order_by()
        .values("status")
        .annotate(count=Count("id"), today=Count("id", filter=Q(placed_at__gte=since)))
    }
    settled_today = (
        Order.objects.filter(status__in=estimates, placed_at__gte=since).count()
        if estimates
        else 0
    )
    # One query: the window counts every waiting order before the slice.
    to_call = list(
        orders_waiting_for_call(now=now).annotate(waiting_count=Window(Count("id")))[
            :DASHBOARD_CALL_LIST
        ]
    )
    return DashboardSummary(
        statuses=[
            StatusCount(
                s.value,
                s.label,
                estimates[s.value]
                if s.value in estimates
                else rows.get(s.value, {}).get("count", 0),
                estimated=s.value in estimates,
            )
            for s in S
        ],
        today=settled_today + sum(row["today"] for row in rows.values()),
        needs_correction=rows.get(S.NEEDS_CORRECTION, {}).get("count", 0),
        call_count=to_call[0].waiting_count if to_call else 0,
        to_call=to_call,
    )


# --- Orders held for correction too long ----------------------------------------


def call_cutoff(now: datetime | None = None) -> datetime:
    """Return the moment before which a held order should have had a call."""
    hours = settings.CORRECTION_CALL_AFTER_HOURS
    return (now or timezone.now()) - timedelta(hours=hours)


def _held_since():
    """Return the time the order last moved into needs_correction.

    The latest status event says so; an order with no such event (made by hand) is
    taken as held since it was created.
    """
    moved = (
        OrderEvent.objects.filter(order=OuterRef("pk"), to_status=S.NEEDS_CORRECTION)
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    return Coalesce(Subquery(moved), F("created_at"))


def orders_with_correction_wait(
    orders: QuerySet[Order], *, now: datetime | None = None
) -> QuerySet[Order]:
    """Return the orders with ``held_since`` (None unless held for correction now) and
    ``call_due`` (held longer than CORRECTION_CALL_AFTER_HOURS)."""
    return orders.annotate(
        held_since=Case(When(status=S.NEEDS_CORRECTION, then=_held_since())),
    ).annotate(
        call_due=Case(
            When(held_since__lte=call_cutoff(now), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def orders_waiting_for_call(*, now: datetime | None = None) -> QuerySet[Order]:
    """Return the orders held for correction past CORRECTION_CALL_AFTER_HOURS,
    longest waiting first."""
    orders = Order.objects.filter(status=S.NEEDS_CORRECTION).select_related("customer")
    return (
        orders_with_correction_wait(orders, now=now)
        .filter(call_due=True)
        .order_by("held_since", "id")
    )


# Up to this many customers a search names by id (see _search_filter).
SEARCH_CUSTOMERS_LISTED = 1000


def _search_filter(q: str) -> Q:
    """Return the condition matching q as order number, external id, name or phone.

    Parts of the number, external id and names read trigram indexes on PostgreSQL
    (migration 0016); four digits read the last-4 indexes, a longer phone the exact
    one. Customers are looked up first (one query) so that the order
    condition is one OR of indexed columns: across a join PostgreSQL could combine
    no index at all.
    """
    # A trigram index finds a part of 3 characters or more anywhere, a shorter one
    # only at the start (a surname, a two-character name): elsewhere it would read
    # every row.
    part = "icontains" if len(q) >= 3 else "istartswith"
    condition = (
        Q(**{f"number__{part}": q})
        | Q(**{f"external_id__{part}": q})
        | Q(**{f"recipient_name__{part}": q})
    )
    customers = Q(**{f"name__{part}": q})
    digits = phone_digits(q) if PHONE_LIKE.match(q) else ""
    if len(digits) == 4:
        condition |= Q(Exact(Right("recipient_phone", 4), digits))
        customers |= Q(Exact(Right("phone", 4), digits))
    elif len(digits) > 4:
        phone = phone_normalise(q)
        condition |= Q(recipient_phone=phone)
        customers |= Q(phone=phone)
    found = list(
        Customer.objects.filter(customers).values_list("id", flat=True)[
            : SEARCH_CUSTOMERS_LISTED + 1
        ]
    )
    if len(found) > SEARCH_CUSTOMERS_LISTED:
        # A common name (a surname alone): many orders match too, and reading the
        # newest orders until a page is full is quicker than a list of ids.
        return condition | Q(customer__in=Customer.objects.filter(customers))
    return condition | Q(customer_id__in=found) if found else condition


def order_list(
    *,
    status: str = "",
    channel: Channel | None = None,
    payment_status: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    q: str = "",
    waiting: str = "",
    now: datetime | None = None,
) -> QuerySet[Order]:
    """Return the orders matching the console's filters, newest first.

    Dates are days in the shop's time zone; ``date_to`` includes the whole day.
    ``waiting="call"`` keeps the orders held for correction so long that the
    customer should be called. Every order has ``held_since`` and ``call_due``.
    A search costs one query for the customers it matches.
    """
    orders = orders_with_correction_wait(
        Order.objects.select_related("channel", "customer"), now=now
    )
    if waiting == "call":
        # call_due is computed per row; the status lets the index find the rows.
        orders = orders.filter(status=S.NEEDS_CORRECTION, call_due=True)
    if status:
        orders = orders.filter(status=status)
    if channel is not None:
        orders = orders.filter(channel=channel)
    if payment_status:
        orders = orders.filter(payment_status=payment_status)
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


# --- Keyset pages ------------------------------------------------------------

ORDER_PAGE_SIZE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class OrderPage:
    """One page of a list ordered by (placed_at, id), newest first.

    ``after`` and ``before`` are the cursors of the next and previous pages ("" when
    there is none). ``count`` is exact when ``count_exact``, else the planner's
    estimate: counting a million rows on every page view is what made lists slow.
    """

    orders: list
    after: str
    before: str
    count: int
    count_exact: bool


def order_cursor(order: Order) -> str:
    """Return the order's place in the list: microseconds since 1970, a dot, its id."""
    return f"{(order.placed_at - _EPOCH) // timedelta(microseconds=1)}.{order.pk}"


def _cursor_parse(cursor: str) -> tuple[datetime, int] | None:
    micros, _dot, pk = (cursor or "").partition(".")
    if not (micros.lstrip("-").isdigit() and pk.isdigit()):
        return None
    return _EPOCH + timedelta(microseconds=int(micros)), int(pk)


def orders_count_about(orders: QuerySet[Order]) -> int:
    """Return how many orders there are, as PostgreSQL's planner estimates it.

    Elsewhere (the embedded SQLite shop is small) the exact count.
    """
    if connection.vendor != "postgresql":
        return orders.count()
    plan = json.loads(orders.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def order_page(
    orders: QuerySet[Order],
    *,
    after: str = "",
    before: str = "",
    size: int = ORDER_PAGE_SIZE,
) -> OrderPage:
    """Return the page of ``orders`` (newest first) after or before a cursor.

    Each page is read as "the next ``size`` rows past (placed_at, id)", so a deep
    page costs what the first does and orders sharing a timestamp are neither
    skipped nor repeated. Two queries: the page and the count.
    """
    backwards = _cursor_parse(before) if before else None
    forwards = None if backwards else _cursor_parse(after)
    # The list shows neither; the price explanation can be long.
    orders = orders.defer("price_explanation", "problems")
    if backwards:
        placed_at, pk = backwards
        rows = list(
            orders.filter(placed_at__gte=placed_at)
            .filter(Q(placed_at__gt=placed_at) | Q(placed_at=placed_at, pk__gt=pk))
            .order_by("placed_at", "id")[: size + 1]
        )
        more_before, more_after = len(rows) > size, True
        rows = rows[:size][::-1]
    else:
        page = orders
        if forwards:
            placed_at, pk = forwards
            # The first condition alone bounds the index range; the second is exact.
            page = orders.filter(placed_at__lte=placed_at).filter(
                Q(placed_at__lt=placed_at) | Q(placed_at=placed_at, pk__lt=pk)
            )
        rows = list(page.order_by("-placed_at", "-id")[: size + 1])
        more_before, more_after = forwards is not None, len(rows) > size
        rows = rows[:size]
    if not (more_before or more_after):
        count, exact = len(rows), True
    else:
        count, exact = max(orders_count_about(orders), len(rows)), False
    return OrderPage(
        orders=rows,
        after=order_cursor(rows[-1]) if rows and more_after else "",
        before=order_cursor(rows[0]) if rows and more_before else "",
        count=count,
        count_exact=exact,
    )


def order_for_console(number: str) -> Order | None:
    """Return the order with everything its console page shows, or None."""
    return (
        Order.objects.filter(number=number)
        .select_related("channel", "customer", "carrier")
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


def order_problems_by_field(order: Order) -> dict[str, list[str]]:
    """Return the readable reasons the order is held, by the field each is about."""
    if order.status != S.NEEDS_CORRECTION:
        return {}
    found: dict[str, list[str]] = {}
    for problem in order.problems:
        found.setdefault(problem.get("field", ""), []).append(problem_message(problem))
    return found


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


def _owed_actions(order: Order, user, shipments) -> list[OrderAction]:
    """Return the steps for the owed rest of a split backorder, once its first part left."""
    picking = any(s.status in SHIPMENT_OPEN for s in shipments)
    if order.reservations.all() and not picking:
        action = OrderAction(
            "start_picking",
            _("Start picking the owed items"),
            reverse("fulfillment:start", args=[order.number]),
            style="primary",
        )
        perm = "fulfillment.add_shipment"
    elif not order.reservations.all() and any(
        line.backordered_quantity for line in order.lines.all()
    ):
        action = OrderAction(
            "backorder_fill",
            _("Reserve the owed items"),
            reverse("console:backorder_fill", args=[order.number]),
            style="primary",
        )
        perm = "orders.change_order"
    else:
        return []
    return [action] if _may(user, perm) else []


def routing_rules_active() -> list[RoutingRule]:
    """Return the active routing rules in the order they are checked."""
    return list(RoutingRule.objects.filter(active=True).order_by("position", "id"))


def routing_rule_for_order(order: Order, rules=None) -> RoutingRule | None:
    """Return the first active routing rule the order matches, or None."""
    for rule in routing_rules_active() if rules is None else rules:
        if rule.matches(order):
            return rule
    return None


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
    if order.status == S.REVIEW and _may(user, "orders.change_order"):
        actions.append(
            OrderAction(
                "approve",
                _("Approve"),
                reverse("console:order_approve", args=[number]),
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
    if order.status == S.BACKORDERED and _may(user, "orders.change_order"):
        actions += [
            OrderAction(name, label, reverse(f"console:{name}", args=[number]), style)
            for name, label, style in (
                ("backorder_wait", _("Backorder: wait for stock"), ""),
                ("backorder_split", _("Backorder: ship what is in stock now"), ""),
                ("backorder_substitute", _("Backorder: substitute a product"), ""),
                (
                    "backorder_cancel_lines",
                    _("Backorder: cancel the short lines"),
                    "danger",
                ),
            )
        ]
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
    # Moving stock only means something with another warehouse to move it to.
    if (
        order.status == S.READY_TO_FULFILL
        and _may(user, "inventory.change_stocklevel")
        and Warehouse.objects.filter(active=True).count() > 1
    ):
        actions.append(
            OrderAction(
                "reallocate",
                _("Move to another warehouse"),
                reverse("console:order_reallocate", args=[number]),
            )
        )
    # Staff may override the carrier the rules pick from acceptance until the goods
    # have left (before that the order's details are still being settled).
    if order.status in (
        S.REVIEW,
        S.BACKORDERED,
        S.READY_TO_FULFILL,
        S.IN_FULFILLMENT,
        S.PARTIALLY_SHIPPED,
    ) and _may(user, "orders.change_order"):
        actions.append(
            OrderAction(
                "carrier",
                _("Carrier"),
                reverse("fulfillment:order_carrier", args=[number]),
            )
        )
    # A shipped order has open parcels only when a lost one is being replaced.
    if order.status in (S.IN_FULFILLMENT, S.PARTIALLY_SHIPPED, S.SHIPPED) and _may(
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
    if order.status == S.PARTIALLY_SHIPPED:
        actions += _owed_actions(order, user, shipments)
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
        and order.payment_status in (PS.PAID, PS.COD_COLLECTED, PS.COD_REMITTED)
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
    return products_with_available().order_by("sku")


def customers_for_phone_order(
    q: str, *, limit: int = 10, orders_each: int = 3
) -> list[Customer]:
    """Return up to ``limit`` customers matching a name or phone being typed in.

    Four digits match the end of the phone, more digits any part of it, anything
    else the name. Customers who ordered last come first; each has
    ``recent_orders``, newest first (the first one's address is the last used).
    Two queries.
    """
    q = (q or "").strip()
    if not q:
        return []
    if PHONE_START.match(q):
        digits = phone_digits(q)
        if len(digits) < 4:
            return []
        if len(digits) == 4:
            condition = Q(phone__endswith=digits)
        else:
            condition = Q(phone__contains=digits)
    else:
        condition = Q(name__icontains=q)
    recent = Order.objects.only(
        "customer_id",
        "number",
        "placed_at",
        "status",
        "total",
        "recipient_name",
        "recipient_phone",
        *("province", "city", "district", "address_detail", "postal_code"),
    ).order_by("-placed_at", "-id")
    return list(
        Customer.objects.filter(condition)
        .annotate(last_order_at=Max("orders__placed_at"))
        .order_by(F("last_order_at").desc(nulls_last=True), "-id")
        .prefetch_related(
            Prefetch("orders", queryset=recent[:orders_each], to_attr="recent_orders")
        )[:limit]
    )


# --- Marketplace imports -------------------------------------------------------


def import_batches_recent(*, limit: int = 30):
    """The latest imports, newest first, with their store and uploader."""
    from orders.models import ImportBatch

    return ImportBatch.objects.select_related("channel", "created_by").order_by(
        "-created_at"
    )[:limit]


def import_batch_for_console(batch_id: int):
    from orders.models import ImportBatch

    return (
        ImportBatch.objects.select_related("channel", "created_by")
        .filter(pk=batch_id)
        .first()
    )


def import_progress(batch) -> dict:
    """What the progress bar shows: rows read of about how many, and the counts."""
    total = max(batch.rows_total, batch.rows_done)
    finished = batch.status in (batch.Status.DONE, batch.Status.FAILED)
    return {
        "status": batch.status,
        "status_label": batch.get_status_display(),
        "finished": finished,
        "rows_done": batch.rows_done,
        "rows_total": total,
        "percent": 100
        if finished
        else (100 * batch.rows_done // total if total else 0),
        "created": batch.created_count,
        "updated": batch.updated_count,
        "unchanged": batch.unchanged_count,
        "rejected": batch.rejected_count,
        "error": batch.error,
    }
