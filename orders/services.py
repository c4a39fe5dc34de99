"""Order verbs: create, process, correct, cancel, complete. One transaction each.

Every consequence of a transition is called from here, so a reader finds them in one
place: cancelling releases stock and stops picking; processing reserves stock;
telling the customer is queued in the same transaction (the outbox).
"""

import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.services import shipments_cancel_open
from inventory.services import stock_release_for_order, stock_reserve_for_order
from orders.events import Actor, actor_fields, order_event_record
from orders.exceptions import OrderError
from orders.lifecycle import order_lock, order_transition
from orders.models import (
    Channel,
    ChannelToken,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    WebhookReceipt,
)
from orders.phones import phone_is_valid, phone_normalise
from orders.selectors import token_digest
from orders.validation import order_problems, problem_message
from tracking.notifications import notification_queue_for_order

S = Order.Status
PS = Order.PaymentStatus

ADDRESS_FIELDS = ("province", "city", "district", "address_detail", "postal_code")
CORRECTABLE_FIELDS = ("recipient_name", "recipient_phone", *ADDRESS_FIELDS)


@dataclass
class LineInput:
    product: object  # inventory.Product
    quantity: int
    unit_price: Decimal | None = None  # None: the product's current price


@dataclass
class OrderInput:
    channel: Channel
    customer_name: str
    customer_phone: str
    lines: list[LineInput]
    payment_method: str
    address: dict = field(default_factory=dict)
    customer_email: str = ""
    recipient_name: str = ""
    recipient_phone: str = ""
    external_id: str = ""
    buyer_note: str = ""
    shipping_fee: Decimal = Decimal("0")
    placed_at: object = None
    coupon_code: str = ""
    fingerprint: str = ""  # see Order.intake_fingerprint
    discount_total: Decimal = Decimal(
        "0"
    )  # only for channels that price orders themselves


def customer_match_or_create(*, name: str, phone: str, email: str = "") -> Customer:
    """Return the customer with this phone number, creating them on first contact."""
    # Only a real number identifies a person: "12345" typed by two strangers must not merge them.
    if phone_is_valid(phone):
        normalised = phone_normalise(phone)
        customer, created = Customer.objects.get_or_create(
            phone=normalised, defaults={"name": name, "email": email}
        )
        if not created and email and not customer.email:
            customer.email = email
            customer.save(update_fields=["email"])
        return customer
    return Customer.objects.create(name=name, phone="", email=email)


def new_order_number(placed_at) -> str:
    local = timezone.localtime(placed_at)
    return f"{local:%y%m%d}{secrets.randbelow(10**6):06d}"


def _merged_lines(lines: list[LineInput]) -> list[LineInput]:
    """Return the lines with repeated products added together."""
    merged: dict[int, LineInput] = {}
    for line in lines:
        if line.quantity <= 0:
            raise OrderError(_("Quantity must be a positive whole number."))
        if line.product.pk in merged:
            merged[line.product.pk].quantity += line.quantity
        else:
            merged[line.product.pk] = LineInput(
                line.product, line.quantity, line.unit_price
            )
    return list(merged.values())


def order_build(
    *, data: OrderInput, customer: Customer
) -> tuple[Order, list[OrderLine]]:
    """Return the unsaved order and its lines, priced, with totals that add up.

    Lines without a price take the product's current price; a channel that priced the
    order itself (a marketplace) passes its own prices and discount.
    """
    lines = _merged_lines(data.lines)
    if not lines:
        raise OrderError(_("An order needs at least one line."))
    inactive = [line.product.sku for line in lines if not line.product.active]
    if inactive:
        raise OrderError(_("Not for sale: %(skus)s") % {"skus": ", ".join(inactive)})
    order_lines = []
    for line in lines:
        price = line.product.price if line.unit_price is None else line.unit_price
        order_lines.append(
            OrderLine(
                product=line.product,
                sku=line.product.sku,
                name=line.product.name,
                unit_price=price,
                quantity=line.quantity,
                line_total=price * line.quantity,
            )
        )
    subtotal = sum((line.line_total for line in order_lines), Decimal("0"))
    if not Decimal("0") <= data.discount_total <= subtotal + data.shipping_fee:
        raise OrderError(_("The discount is larger than the order."))
    order = Order(
        channel=data.channel,
        external_id=data.external_id,
        customer=customer,
        payment_method=data.payment_method,
        payment_status=PS.COD_PENDING if data.payment_method == "cod" else PS.UNPAID,
        recipient_name=data.recipient_name or data.customer_name,
        recipient_phone=phone_normalise(data.recipient_phone or data.customer_phone),
        buyer_note=data.buyer_note,
        coupon_code=data.coupon_code,
        intake_fingerprint=data.fingerprint,
        subtotal=subtotal,
        discount_total=data.discount_total,
        shipping_fee=data.shipping_fee,
        total=subtotal - data.discount_total + data.shipping_fee,
        placed_at=data.placed_at or timezone.now(),
        **{f: (data.address.get(f) or "").strip() for f in ADDRESS_FIELDS},
    )
    return order, order_lines


def order_created_event(*, order: Order, actor: Actor) -> OrderEvent:
    """Return the (unsaved) first event of an order's timeline."""
    return OrderEvent(
        order=order,
        kind=OrderEvent.Kind.CREATED,
        to_status=Order.Status.RECEIVED,
        message=_("Order received from %(channel)s") % {"channel": order.channel.name},
        **actor_fields(actor),
    )


@transaction.atomic
def order_create(*, data: OrderInput, actor: Actor) -> Order:
    """Create the order with its lines, record it, and run it through processing."""
    customer = customer_match_or_create(
        name=data.customer_name, phone=data.customer_phone, email=data.customer_email
    )
    order, order_lines = order_build(data=data, customer=customer)
    _save_with_unique_number(order)
    for line in order_lines:
        line.order = order
    OrderLine.objects.bulk_create(order_lines)
    order_created_event(order=order, actor=actor).save()
    notification_queue_for_order(order=order, template="order_received")
    return order_process(order=order, actor=actor, email=data.customer_email)


def _save_with_unique_number(order: Order):
    for _attempt in range(5):
        order.number = new_order_number(order.placed_at)
        try:
            with transaction.atomic():
                order.save()
            return
        except IntegrityError:
            if Order.objects.filter(number=order.number).exists():
                continue
            raise
    raise OrderError(_("Could not allot an order number; please try again."))


@transaction.atomic
def order_process(*, order: Order, actor: Actor, email: str = "") -> Order:
    """Take the order as far as it can go on its own: validate, wait for payment, reserve stock.

    Called on a new order, after a correction, after payment, and when stock arrives
    for a backorder. Returns the order in its new status.
    """
    order = order_lock(order)
    if order.status in (S.RECEIVED, S.NEEDS_CORRECTION):
        problems = order_problems(order, email=email or order.customer.email)
        if problems:
            return _hold_for_correction(order=order, problems=problems, actor=actor)
        if order.problems:
            order.problems = []
            order.save(update_fields=["problems", "updated_at"])
    if (
        order.status in (S.RECEIVED, S.NEEDS_CORRECTION)
        and order.payment_status == PS.UNPAID
    ):
        return order_transition(
            order=order,
            to_status=S.AWAITING_PAYMENT,
            actor=actor,
            message=_("Waiting for the customer's payment."),
        )
    if order.status in (
        S.RECEIVED,
        S.NEEDS_CORRECTION,
        S.AWAITING_PAYMENT,
        S.BACKORDERED,
    ):
        if order.payment_status == PS.UNPAID:
            return order
        return _reserve_stock(order=order, actor=actor)
    return order


def _hold_for_correction(*, order, problems, actor) -> Order:
    order.problems = problems
    order.save(update_fields=["problems", "updated_at"])
    if order.status == S.NEEDS_CORRECTION:
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.CORRECTION,
            actor=actor,
            message=_("Still needs correcting."),
            data={"problems": problems},
        )
        return order
    order = order_transition(
        order=order,
        to_status=S.NEEDS_CORRECTION,
        actor=actor,
        message=_("Held: the contact or address details need correcting."),
        data={"problems": problems},
    )
    notification_queue_for_order(order=order, template="needs_correction")
    return order


def shortage_report(shortages) -> tuple[str, dict]:
    """Return the timeline message and data that list every short line."""
    detail = "; ".join(
        _("%(sku)s short by %(missing)d") % {"sku": s.sku, "missing": s.missing}
        for s in shortages
    )
    data = {
        "shortages": [
            {"sku": s.sku, "wanted": s.wanted, "available": s.available}
            for s in shortages
        ]
    }
    return _("Not enough stock: %(detail)s") % {"detail": detail}, data


def _reserve_stock(*, order, actor) -> Order:
    shortages = stock_reserve_for_order(order=order, actor=actor)
    if not shortages:
        return order_transition(
            order=order,
            to_status=S.READY_TO_FULFILL,
            actor=actor,
            message=_("Stock reserved; ready to fulfil."),
        )
    message, data = shortage_report(shortages)
    if order.status == S.BACKORDERED:
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.STOCK,
            actor=actor,
            message=message,
            data=data,
        )
        return order
    return order_transition(
        order=order, to_status=S.BACKORDERED, actor=actor, message=message, data=data
    )


@transaction.atomic
def order_correct(*, order: Order, changes: dict, actor: Actor) -> Order:
    """Apply corrected contact or address details and validate the order again."""
    order = order_lock(order)
    if order.status not in (S.RECEIVED, S.NEEDS_CORRECTION, S.AWAITING_PAYMENT):
        raise OrderError(
            _("The address can no longer be changed: the order is being fulfilled.")
        )
    changed = {}
    for name in CORRECTABLE_FIELDS:
        if name not in changes:
            continue
        value = (changes[name] or "").strip()
        if name == "recipient_phone":
            value = phone_normalise(value)
        if getattr(order, name) != value:
            changed[name] = {"from": getattr(order, name), "to": value}
            setattr(order, name, value)
    if changed and order.status == S.AWAITING_PAYMENT:
        # Not held for correction while waiting for money: refuse bad details outright.
        problems = order_problems(order, email=order.customer.email)
        if problems:
            raise OrderError(" ".join(problem_message(p) for p in problems))
    if changed:
        order.save(update_fields=[*changed.keys(), "updated_at"])
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.CORRECTION,
            actor=actor,
            message=_("Details corrected: %(fields)s")
            % {
                "fields": ", ".join(
                    str(Order._meta.get_field(n).verbose_name) for n in changed
                )
            },
            data={"changes": changed},
        )
    return order_process(order=order, actor=actor)


@transaction.atomic
def order_payment_received(*, order: Order, paid_in_full: bool, actor: Actor) -> Order:
    """Note that billing has confirmed payment, and move the order on if it was waiting."""
    order = order_lock(order)
    new_status = PS.PAID if paid_in_full else order.payment_status
    if order.payment_status == PS.COD_PENDING and paid_in_full:
        new_status = PS.COD_COLLECTED
    if new_status != order.payment_status:
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=actor,
            message=_("Payment status: %(status)s") % {"status": PS(new_status).label},
            data={"from": order.payment_status, "to": new_status},
        )
        order.payment_status = new_status
        order.save(update_fields=["payment_status", "updated_at"])
    if order.status == S.AWAITING_PAYMENT and new_status == PS.PAID:
        notification_queue_for_order(order=order, template="payment_received")
        return order_process(order=order, actor=actor)
    return order


@transaction.atomic
def order_cancel(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Cancel an order that has not left the warehouse: release its stock, stop picking."""
    order = order_transition(
        order=order,
        to_status=S.CANCELLED,
        actor=actor,
        message=reason or _("Order cancelled."),
    )
    shipments_cancel_open(order=order, actor=actor)
    stock_release_for_order(order=order, actor=actor)
    notification_queue_for_order(order=order, template="order_cancelled")
    return order


@transaction.atomic
def order_complete(*, order: Order, actor: Actor) -> Order:
    """Close a delivered order once its money is in (settled)."""
    order = order_lock(order)
    if order.payment_status not in (PS.PAID, PS.COD_COLLECTED):
        raise OrderError(
            _("Order %(number)s cannot be completed before its payment is settled.")
            % {"number": order.number}
        )
    return order_transition(
        order=order,
        to_status=S.COMPLETED,
        actor=actor,
        message=_("Order settled and closed."),
    )


@transaction.atomic
def order_note_add(*, order: Order, text: str, actor: Actor) -> OrderEvent:
    """Add a staff note to the order's timeline."""
    if not text.strip():
        raise OrderError(_("A note cannot be empty."))
    return order_event_record(
        order=order, kind=OrderEvent.Kind.NOTE, actor=actor, message=text
    )


@transaction.atomic
def channel_token_issue(*, channel: Channel, revoke_others: bool = False) -> str:
    """Create an API key for the channel and return it; only its digest is kept."""
    raw = secrets.token_urlsafe(32)
    if revoke_others:
        channel.tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    ChannelToken.objects.create(
        channel=channel, digest=token_digest(raw), prefix=raw[:8]
    )
    return raw


def webhook_receipt_record(*, channel: Channel, signature: str) -> bool:
    """Remember an accepted push; return False when this signature was seen before (a replay)."""
    try:
        with transaction.atomic():
            WebhookReceipt.objects.create(channel=channel, signature=signature)
    except IntegrityError:
        return False
    return True
