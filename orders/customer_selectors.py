"""Reads for the customer pages (客户关系): the list, one customer's page, the export."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Right
from django.db.models.lookups import Exact
from django.utils.translation import gettext as _

from fulfillment.return_models import ReturnRequest
from orders.models import Customer, CustomerNote, Order
from orders.phones import phone_digits, phone_normalise
from orders.selectors import PHONE_LIKE
from tracking.models import Notification

CENT = Decimal("0.01")
CUSTOMERS_PER_PAGE = 50
# The customer page lists this many of each (newest first); the order list has the rest.
ORDERS_SHOWN = 100
NOTIFICATIONS_SHOWN = 50


def customer_search(q: str = "") -> QuerySet[Customer]:
    """Return the customers whose name, email or phone (whole, or its last 4 digits) match q.

    As the order search (orders.selectors._search_filter): a name part of 3
    characters or more reads the trigram index, a shorter one matches the start;
    four digits read the last-4 index, a longer phone the unique one. Newest first,
    by id: the keyset pages of customer_page follow it.
    """
    q = (q or "").strip()
    customers = Customer.objects.order_by("-id")
    if not q:
        return customers
    part = "icontains" if len(q) >= 3 else "istartswith"
    condition = Q(**{f"name__{part}": q})
    if "@" in q:
        condition |= Q(email__iexact=q)
    if PHONE_LIKE.match(q):
        digits = phone_digits(q)
        if len(digits) == 4:
            condition |= Q(Exact(Right("phone", 4), digits))
        elif len(digits) > 4:
            condition |= Q(phone=phone_normalise(q))
    return customers.filter(condition)


@dataclass
class CustomerPage:
    customers: list
    next_after: int | None


def customer_page(customers: QuerySet[Customer], *, after: str = "") -> CustomerPage:
    """Return one page of the customers after the id ``after`` (no count of the whole table)."""
    if after.isdigit():
        customers = customers.filter(id__lt=int(after))
    rows = list(customers[: CUSTOMERS_PER_PAGE + 1])
    more = len(rows) > CUSTOMERS_PER_PAGE
    rows = rows[:CUSTOMERS_PER_PAGE]
    return CustomerPage(customers=rows, next_after=rows[-1].id if more else None)


@dataclass
class CustomerTotals:
    orders: int
    spent: Decimal
    average: Decimal | None
    first_order_at: object
    last_order_at: object
    returns: int


def customer_totals(customer: Customer) -> CustomerTotals:
    """Return what the customer ordered and spent (cancelled orders not counted as spent).

    Two queries, both aggregates in the database.
    """
    paid = ~Q(status=Order.Status.CANCELLED)
    figures = Order.objects.filter(customer=customer).aggregate(
        orders=Count("id"),
        kept=Count("id", filter=paid),
        spent=Sum("total", filter=paid),
        first=Min("placed_at"),
        last=Max("placed_at"),
    )
    spent = (figures["spent"] or Decimal(0)).quantize(CENT)
    average = (spent / figures["kept"]).quantize(CENT) if figures["kept"] else None
    return CustomerTotals(
        orders=figures["orders"],
        spent=spent,
        average=average,
        first_order_at=figures["first"],
        last_order_at=figures["last"],
        returns=ReturnRequest.objects.filter(order__customer=customer).count(),
    )


def customer_orders(customer: Customer) -> list[Order]:
    """Return the customer's newest orders on every channel."""
    return list(
        Order.objects.filter(customer=customer)
        .select_related("channel")
        .order_by("-placed_at", "-id")[:ORDERS_SHOWN]
    )


def customer_returns(customer: Customer) -> list[ReturnRequest]:
    return list(
        ReturnRequest.objects.filter(order__customer=customer)
        .select_related("order")
        .order_by("-requested_at", "-id")
    )


def customer_notifications(customer: Customer) -> list[Notification]:
    """Return the newest messages to the customer (sent, waiting, failed or skipped)."""
    return list(
        Notification.objects.filter(customer=customer)
        .select_related("order")
        .order_by("-created_at", "-id")[:NOTIFICATIONS_SHOWN]
    )


def customer_notes(customer: Customer) -> list[CustomerNote]:
    return list(customer.notes.select_related("author"))


def customer_export_table(customers: QuerySet[Customer]):
    """Return the header and rows (one per customer, with their order figures) to export."""
    header = [
        _("Name"),
        _("Phone"),
        _("Email"),
        _("Orders"),
        _("Spent"),
        _("Last order"),
        _("Customer since"),
    ]
    paid = ~Q(orders__status=Order.Status.CANCELLED)
    annotated = customers.annotate(
        order_count=Count("orders"),
        spent=Sum("orders__total", filter=paid),
        last_order_at=Max("orders__placed_at"),
    )
    rows = (
        [
            c.name,
            c.phone,
            c.email,
            c.order_count,
            (c.spent or Decimal(0)).quantize(CENT),
            c.last_order_at.isoformat() if c.last_order_at else "",
            c.created_at.isoformat(),
        ]
        for c in annotated.iterator(chunk_size=1000)
    )
    return header, rows
