"""Creating many orders in one transaction, for imports where one-at-a-time is too slow.

The rules are the ones single orders follow (``orders.services``): the same build and
validation, the same lifecycle table, the same stock reservation; only the writes are
batched. Customers of marketplace orders are told of the order by the platform, so
the only message queued here asks them to correct unusable details.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.bulk import bulk_insert
from fulfillment.carriers import ship_by_for, ship_within_hours_by_channel
from inventory.services import Demand, stock_reserve
from orders.events import Actor, order_events_announce
from orders.exceptions import OrderError
from orders.lifecycle import order_transition_unsaved, orders_unsaved_save
from orders.models import Customer, Order, OrderEvent, OrderLine
from orders.phones import phone_is_valid, phone_normalise
from orders.pricing import rules_current
from orders.selectors import routing_rule_for_order, routing_rules_active
from orders.services import (
    OrderInput,
    new_order_number,
    order_build,
    order_created_event,
    review_hold_report,
    shortage_report,
)
from orders.validation import order_problems
from tracking.notifications import notification_queue_for_order

S = Order.Status


@dataclass
class BulkItem:
    data: OrderInput
    paid: bool = False  # already paid on the channel


@dataclass
class BulkResult:
    orders: list[Order]
    errors: dict[int, str]  # item index → why it was not created


def _customer_phone(item: BulkItem) -> str:
    """The customer's normalised phone; "" when not a valid number (see customer_match_or_create)."""
    phone = item.data.customer_phone
    return phone_normalise(phone) if phone_is_valid(phone) else ""


def _customers(items: list[BulkItem]) -> dict[str, Customer]:
    phones = {_customer_phone(i) for i in items} - {""}
    # "phone <> ''" repeats the unique index's condition so PostgreSQL can use it.
    known = {
        c.phone: c for c in Customer.objects.filter(phone__in=phones).exclude(phone="")
    }
    new = {}
    for item in items:
        phone = _customer_phone(item)
        if phone and phone not in known and phone not in new:
            new[phone] = Customer(
                name=item.data.customer_name,
                phone=phone,
                email=item.data.customer_email,
            )
    try:
        with transaction.atomic():
            bulk_insert(Customer, new.values(), set_ids=True)
        known.update(new)
    except IntegrityError:
        # A concurrent writer added some of these customers: keep theirs.
        for customer in new.values():
            customer.pk = None
            customer._state.adding = True
        Customer.objects.bulk_create(new.values(), ignore_conflicts=True)
        known.update(
            (c.phone, c) for c in Customer.objects.filter(phone__in=new.keys())
        )
    return known


def _allot_numbers(orders: list[Order], lane: tuple[int, int] = (0, 1)):
    """Give each order a number no other order has, in the database or in this batch."""
    pending = orders
    taken: set[str] = set()
    while pending:
        for order in pending:
            order.number = new_order_number(order.placed_at, lane=lane)
        wanted = {o.number for o in pending}
        taken |= set(
            Order.objects.filter(number__in=wanted).values_list("number", flat=True)
        )
        retry = []
        for order in pending:
            if order.number in taken:
                retry.append(order)
            else:
                taken.add(order.number)
        pending = retry


NUMBER_ATTEMPTS = 5


def _number(order: Order) -> str:
    return order.number


def _insert_with_unique_numbers(orders: list[Order], lane: tuple[int, int]):
    """Insert the orders; draw new numbers when a concurrent writer took one meanwhile."""
    for attempt in range(NUMBER_ATTEMPTS):
        _allot_numbers(orders, lane=lane)
        try:
            with transaction.atomic():
                # Rows in number order: concurrent writers wait for each other
                # on the unique index instead of deadlocking.
                bulk_insert(Order, sorted(orders, key=_number), set_ids=True)
            return
        except IntegrityError as exc:
            clash = "orders_order_number" in str(exc) or "orders_order.number" in str(
                exc
            )
            if not clash or attempt == NUMBER_ATTEMPTS - 1:
                raise
            for order in orders:  # drawn ids were not used; draw again
                order.pk = None
                order._state.adding = True


@transaction.atomic
def orders_create_bulk(
    *,
    items: list[BulkItem],
    actor: Actor,
    import_batch=None,
    notify_received: bool = False,
    number_lane: tuple[int, int] = (0, 1),
) -> BulkResult:
    """Create, validate and reserve stock for many orders; return them and the refused ones.

    ``import_batch``: the marketplace import creating them, kept on each order.
    ``notify_received``: tell each customer the order was received, as a single order
    does (a marketplace tells its buyers itself).
    ``number_lane``: where this process draws order numbers (see ``new_order_number``).
    """
    customers = _customers(items)
    rules = rules_current()  # one snapshot of the pricing rules for the batch
    built, errors = [], {}
    for index, item in enumerate(items):
        customer = customers.get(_customer_phone(item)) or Customer(
            name=item.data.customer_name, email=item.data.customer_email
        )
        try:
            order, lines = order_build(data=item.data, customer=customer, rules=rules)
        except OrderError as exc:
            errors[index] = str(exc)
            continue
        if item.paid:
            order.payment_status = Order.PaymentStatus.PAID
        order.import_batch = import_batch
        built.append((order, lines))
    bulk_insert(
        Customer,
        [o.customer for o, _lines in built if o.customer.pk is None],
        set_ids=True,
    )
    for order, _lines in built:
        order.customer = order.customer  # takes the new pk; keeps the cached row
    orders = [order for order, _lines in built]
    _insert_with_unique_numbers(orders, number_lane)
    for order, lines in built:
        for line in lines:
            line.order = order
    bulk_insert(OrderLine, (line for _order, lines in built for line in lines))
    events = [order_created_event(order=order, actor=actor) for order in orders]
    events += _process(built, actor)
    for order in orders:
        if order.problems:
            order.ship_by = None  # held for correction: not accepted yet
    orders_unsaved_save(orders)
    bulk_insert(OrderEvent, events)
    order_events_announce(events)
    for order in orders:
        if notify_received:
            notification_queue_for_order(order=order, template="order_received")
        if order.status == S.NEEDS_CORRECTION:
            # As for a single order: the customer is asked to check the details.
            notification_queue_for_order(order=order, template="needs_correction")
    return BulkResult(orders=orders, errors=errors)


def _process(built, actor) -> list[OrderEvent]:
    """Take each new order as far as ``order_process`` would, writing nothing yet."""
    events, demands = [], []
    rules = routing_rules_active()
    accepted_at, ship_within = timezone.now(), ship_within_hours_by_channel()
    for order, lines in built:
        if order.payment_status != Order.PaymentStatus.UNPAID:
            # Accepted (paid, or cash on delivery): the channel's shipping clock starts.
            order.ship_by = ship_by_for(
                order, accepted_at=accepted_at, hours_by_channel=ship_within
            )
        problems = order_problems(order, email=order.customer.email)
        if problems:
            order.problems = problems
            events.append(
                order_transition_unsaved(
                    order=order,
                    to_status=S.NEEDS_CORRECTION,
                    actor=actor,
                    message=_("Held: the contact or address details need correcting."),
                    data={"problems": problems},
                )
            )
        elif order.payment_status == Order.PaymentStatus.UNPAID:
            events.append(
                order_transition_unsaved(
                    order=order,
                    to_status=S.AWAITING_PAYMENT,
                    actor=actor,
                    message=_("Waiting for the customer's payment."),
                )
            )
        elif (rule := routing_rule_for_order(order, rules)) is not None:
            message, data = review_hold_report(rule)
            events.append(
                order_transition_unsaved(
                    order=order,
                    to_status=S.REVIEW,
                    actor=actor,
                    message=message,
                    data=data,
                )
            )
        else:
            units = {}
            for line in lines:
                units[line.product_id] = units.get(line.product_id, 0) + line.quantity
            demands.append(Demand(order=order, units=units))
    demands.sort(key=lambda d: (d.order.placed_at, d.order.pk))
    shortages = stock_reserve(demands=demands, actor=actor) if demands else {}
    for demand in demands:
        short = shortages[demand.order.pk]
        if short:
            message, data = shortage_report(short)
            to_status = S.BACKORDERED
        else:
            message, data = _("Stock reserved; ready to fulfil."), None
            to_status = S.READY_TO_FULFILL
        events.append(
            order_transition_unsaved(
                order=demand.order,
                to_status=to_status,
                actor=actor,
                message=message,
                data=data,
            )
        )
    return events
