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

from fulfillment.carriers import order_ship_by_set
from fulfillment.services import shipments_cancel_open
from inventory.allocation import reservation_move
from inventory.services import (
    Demand,
    demand_for_order,
    stock_release_for_order,
    stock_reserve,
    stock_reserve_for_order,
)
from orders.events import Actor, actor_fields, order_event_record, order_events_announce
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
from orders.pricing import (
    PriceLine,
    coupon_redeem,
    coupon_release,
    order_price,
    order_shipping_reprice,
    order_totals_recompute,
)
from orders.selectors import routing_rule_for_order, token_digest
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
    carrier: object = None  # fulfillment.Carrier the customer chose at checkout


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


def new_order_number(placed_at, lane: tuple[int, int] = (0, 1)) -> str:
    """Return a random order number: the day it was placed, then six digits.

    ``lane`` (index, lanes): draw only six digits that leave ``index`` divided by
    ``lanes``. Processes inserting many orders in parallel each draw in their own
    lane, so none waits on the unique index for a number another one has drawn.
    """
    index, lanes = lane
    local = timezone.localtime(placed_at)
    return f"{local:%y%m%d}{secrets.randbelow(10**6 // lanes) * lanes + index:06d}"


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
    *, data: OrderInput, customer: Customer, rules=None
) -> tuple[Order, list[OrderLine]]:
    """Return the unsaved order and its lines, priced, with totals that add up.

    Prices, promotions, coupon, shipping and tax come from ``orders.pricing``; a
    channel that priced the order itself (a marketplace) passes its own prices and
    discount, which are kept. ``rules``: the pricing rules a batch of orders shares
    (default: the current ones).
    """
    lines = _merged_lines(data.lines)
    if not lines:
        raise OrderError(_("An order needs at least one line."))
    inactive = [line.product.sku for line in lines if not line.product.active]
    if inactive:
        raise OrderError(_("Not for sale: %(skus)s") % {"skus": ", ".join(inactive)})
    placed_at = data.placed_at or timezone.now()
    quote = order_price(
        channel=data.channel,
        customer=customer,
        lines=[
            PriceLine(line.product, line.quantity, line.unit_price) for line in lines
        ],
        province=(data.address.get("province") or "").strip(),
        placed_at=placed_at,
        coupon_code=data.coupon_code.strip(),
        shipping_fee=data.shipping_fee,
        platform_discount=data.discount_total,
        rules=rules,
    )
    order_lines = [
        OrderLine(
            product=line.product,
            sku=line.product.sku,
            name=line.product.name,
            list_price=line.list_price,
            unit_price=line.unit_price,
            quantity=line.quantity,
            discount=line.discount,
            line_total=line.line_total,
            order_discount_share=line.share,
        )
        for line in quote.lines
    ]
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
        carrier=data.carrier,
        carrier_chosen_by=Order.CarrierChoice.CUSTOMER if data.carrier else "",
        intake_fingerprint=data.fingerprint,
        subtotal=quote.subtotal,
        discount_total=quote.discount_total,
        shipping_fee=quote.shipping_fee,
        tax_total=quote.tax_total,
        total=quote.total,
        prices_include_tax=quote.prices_include_tax,
        price_explanation=quote.explanation,
        placed_at=placed_at,
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
    coupon_redeem(order=order)
    event = order_created_event(order=order, actor=actor)
    event.save()
    order_events_announce([event])
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
        # Accepted (paid, or cash on delivery): the channel's shipping clock starts.
        order = order_ship_by_set(order=order)
        if order.status != S.BACKORDERED:
            rule = routing_rule_for_order(order)
            if rule is not None:
                return _hold_for_review(order=order, rule=rule, actor=actor)
        return _reserve_stock(order=order, actor=actor)
    return order


def review_hold_report(rule) -> tuple[str, dict]:
    """Return the timeline message and data of an order a routing rule holds."""
    message = _("Held for review by %(team)s: %(rule)s") % {
        "team": rule.get_team_display(),
        "rule": rule.name,
    }
    return message, {"routing_rule": rule.pk, "team": rule.team}


def _hold_for_review(*, order, rule, actor) -> Order:
    message, data = review_hold_report(rule)
    return order_transition(
        order=order, to_status=S.REVIEW, actor=actor, message=message, data=data
    )


@transaction.atomic
def order_review_approve(*, order: Order, actor: Actor) -> Order:
    """Let an order held by a routing rule go on: reserve its stock."""
    order = order_lock(order)
    if order.status != S.REVIEW:
        raise OrderError(
            _("Order %(number)s is not waiting for review.") % {"number": order.number}
        )
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.NOTE,
        actor=actor,
        message=_("Review approved."),
        data={"review": "approved"},
    )
    return _reserve_stock(order=order, actor=actor)


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
    if "province" in changed:
        # Shipping is priced by province: same transaction, same lock.
        order_shipping_reprice(
            order=order, province_from=changed["province"]["from"], actor=actor
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
    """Cancel an order that has not left the warehouse: release its stock, stop picking, refund."""
    order = order_transition(
        order=order,
        to_status=S.CANCELLED,
        actor=actor,
        message=reason or _("Order cancelled."),
    )
    shipments_cancel_open(order=order, actor=actor)
    # Coupon before stock, the order intake takes these locks in.
    coupon_release(order=order)
    stock_release_for_order(order=order, actor=actor)
    # Money already received goes back: finance gets the refund to approve and pay.
    # (billing builds on orders, hence the import here.)
    from billing.selectors import refundable_amount
    from billing.services import refund_request

    left = refundable_amount(order)
    if left > 0:
        refund_request(
            order=order,
            amount=left,
            reason=reason or _("Order cancelled."),
            source="cancellation",
            source_ref=f"order:{order.pk}",
            actor=actor,
        )
    notification_queue_for_order(order=order, template="order_cancelled")
    return order


@transaction.atomic
def order_complete(*, order: Order, actor: Actor) -> Order:
    """Close a delivered order once its money is in (settled)."""
    order = order_lock(order)
    if order.payment_status not in (PS.PAID, PS.COD_COLLECTED, PS.COD_REMITTED):
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


# --- Allocation by hand and backorder choices ---------------------------------


@transaction.atomic
def order_reallocate(
    *, order: Order, warehouse, actor: Actor, product_ids=None
) -> Order:
    """Move the order's reservation (or some lines of it) to another warehouse before picking."""
    order = order_lock(order)
    if order.status != S.READY_TO_FULFILL:
        raise OrderError(
            _(
                "Only an order ready to fulfil, before picking starts, can change warehouse."
            )
        )
    moved = reservation_move(
        order=order, warehouse=warehouse, actor=actor, product_ids=product_ids
    )
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.STOCK,
        actor=actor,
        message=_("%(units)d unit(s) re-allocated to %(warehouse)s.")
        % {"units": moved, "warehouse": warehouse.name},
        data={
            "warehouse": warehouse.code,
            "products": sorted(product_ids) if product_ids is not None else None,
            "units": moved,
        },
    )
    return order


def backorder_shortages(order: Order) -> list[dict]:
    """Return the short lines of the latest backorder report: sku, wanted, available."""
    event = (
        order.events.filter(data__has_key="shortages")
        .order_by("-created_at", "-id")
        .first()
    )
    return list(event.data["shortages"]) if event else []


def _backordered(order: Order) -> Order:
    order = order_lock(order)
    if order.status != S.BACKORDERED:
        raise OrderError(
            _("Order %(number)s is not waiting for stock.") % {"number": order.number}
        )
    return order


def _backorder_told(*, order, template, message, actor, data=None, key=""):
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.STOCK,
        actor=actor,
        message=message,
        data={"backorder_choice": template.removeprefix("backorder_"), **(data or {})},
    )
    notification_queue_for_order(
        order=order,
        template=template,
        key=key or str(order.events.count()),
        extra={"detail": message},
    )


@transaction.atomic
def order_backorder_wait(*, order: Order, actor: Actor) -> Order:
    """Keep a backordered order waiting for stock, and tell the customer."""
    order = _backordered(order)
    _backorder_told(
        order=order,
        template="backorder_wait",
        message=_("The customer waits for the missing items."),
        actor=actor,
    )
    return order


@transaction.atomic
def order_backorder_split(*, order: Order, actor: Actor) -> Order:
    """Reserve and ship what is in stock now; the missing units stay owed on their lines."""
    order = _backordered(order)
    if order.reservations.exists():
        raise OrderError(_("Part of this order is already reserved."))
    demand = demand_for_order(order)
    demand.partial = True
    shortages = stock_reserve(demands=[demand], actor=actor)[order.pk]
    if not order.reservations.exists():
        raise OrderError(
            _("Nothing of this order is in stock yet; it cannot be split.")
        )
    missing = {s.sku: s.missing for s in shortages}
    owed = []
    for line in order.lines.order_by("-id"):
        # Lines of one SKU share the shortfall, the newest lines owing first.
        take = min(missing.get(line.sku, 0), line.quantity)
        if take:
            missing[line.sku] -= take
            line.backordered_quantity = take
            line.save(update_fields=["backordered_quantity"])
            owed.append({"sku": line.sku, "quantity": take})
    message = _("Split: what is in stock ships now; %(detail)s follow later.") % {
        "detail": ", ".join(f"{o['sku']} × {o['quantity']}" for o in owed)
    }
    order = order_transition(
        order=order,
        to_status=S.READY_TO_FULFILL,
        actor=actor,
        message=message,
        data={"backorder_choice": "split", "owed": owed},
    )
    notification_queue_for_order(
        order=order, template="backorder_split", extra={"detail": message}
    )
    return order


@transaction.atomic
def order_backorder_remainder_fill(*, order: Order, actor: Actor) -> int:
    """Reserve what is now in stock of the units a split order still owes; return units reserved.

    Runs once the shipped part has left (the order is partially shipped and holds no
    reservation), so the owed units are reserved and picked as the next parcel.
    """
    order = order_lock(order)
    lines = [line for line in order.lines.all() if line.backordered_quantity]
    if not lines:
        return 0
    if order.status != S.PARTIALLY_SHIPPED or order.reservations.exists():
        raise OrderError(
            _("The owed items can be reserved once the first parcel has shipped.")
        )
    units: dict[int, int] = {}
    for line in lines:
        units[line.product_id] = (
            units.get(line.product_id, 0) + line.backordered_quantity
        )
    stock_reserve(demands=[Demand(order=order, units=units, partial=True)], actor=actor)
    got = {r.product_id: r.quantity for r in order.reservations.all()}
    filled = []
    for line in lines:
        take = min(got.get(line.product_id, 0), line.backordered_quantity)
        if take:
            got[line.product_id] -= take
            line.backordered_quantity -= take
            line.save(update_fields=["backordered_quantity"])
            filled.append({"sku": line.sku, "quantity": take})
    if filled:
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.STOCK,
            actor=actor,
            message=_("Owed items reserved: %(detail)s")
            % {"detail": ", ".join(f"{f['sku']} × {f['quantity']}" for f in filled)},
            data={"backorder_filled": filled},
        )
    return sum(f["quantity"] for f in filled)


def _totals_recompute(order: Order) -> Decimal:
    """Recompute the order's totals from its lines; return the old total."""
    return order_totals_recompute(order=order)


@transaction.atomic
def order_backorder_substitute(
    *, order: Order, line: OrderLine, product, actor: Actor, unit_price=None
) -> Order:
    """Replace the product on a short line; the price stays unless staff give a new one."""
    order = _backordered(order)
    line = order.lines.filter(pk=line.pk).first()
    if line is None:
        raise OrderError(_("That line is not on this order."))
    if not product.active:
        raise OrderError(_("Not for sale: %(skus)s") % {"skus": product.sku})
    if product.pk == line.product_id:
        raise OrderError(_("Choose a different product to substitute."))
    old_sku = line.sku
    line.product, line.sku, line.name = product, product.sku, product.name
    if unit_price is not None:
        if unit_price < 0:
            raise OrderError(_("A price cannot be negative."))
        line.unit_price = unit_price
        line.discount = min(line.discount, unit_price * line.quantity)
        line.line_total = unit_price * line.quantity - line.discount
    line.save()
    old_total = _totals_recompute(order)
    message = _("%(old)s replaced by %(new)s.") % {"old": old_sku, "new": product.sku}
    _backorder_told(
        order=order,
        template="backorder_substitute",
        message=message,
        actor=actor,
        data={
            "line": line.pk,
            "from": old_sku,
            "to": product.sku,
            "old_total": str(old_total),
            "total": str(order.total),
        },
        key=f"line-{line.pk}-{product.sku}",
    )
    return order_process(order=order, actor=actor)


@transaction.atomic
def order_backorder_cancel_lines(*, order: Order, actor: Actor) -> Order:
    """Remove the short lines, recompute the totals, note any refund, and go on with the rest."""
    order = _backordered(order)
    short_skus = {
        s["sku"] for s in backorder_shortages(order) if s["wanted"] > s["available"]
    }
    lines = list(order.lines.all())
    removing = [line for line in lines if line.sku in short_skus]
    if not removing:
        raise OrderError(_("No line of this order is short."))
    if len(removing) == len(lines):
        raise OrderError(
            _("Every line is short: cancel the order instead of its lines.")
        )
    removed = [
        {"sku": line.sku, "quantity": line.quantity, "line_total": str(line.line_total)}
        for line in removing
    ]
    OrderLine.objects.filter(pk__in=[line.pk for line in removing]).delete()
    old_total = _totals_recompute(order)
    refund = old_total - order.total
    message = _("Short lines cancelled: %(skus)s. New total %(total)s.") % {
        "skus": ", ".join(r["sku"] for r in removed),
        "total": order.total,
    }
    if order.payment_status == PS.PAID and refund > 0:
        message += " " + _("Refund due: %(amount)s.") % {"amount": refund}
    _backorder_told(
        order=order,
        template="backorder_lines_cancelled",
        message=message,
        actor=actor,
        data={
            "removed": removed,
            "old_total": str(old_total),
            "total": str(order.total),
            "refund_due": str(refund) if order.payment_status == PS.PAID else "0",
        },
        key="cancel-lines",
    )
    return order_process(order=order, actor=actor)


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


def backorders_fill(*, product_ids, actor: Actor = "system") -> list[Order]:
    """Process again, oldest first, the backordered orders needing these products; return those filled.

    Each order moves in its own transaction, so one that fails leaves the others
    filled. Orders no longer backordered are not touched, so running this twice
    does nothing more. An older order that cannot be filled yet does not hold back
    a newer one that can (the 缺货 list shows who still waits); orders no single
    warehouse could serve are skipped without a lock or a timeline entry. Split
    orders whose first parcel has left then get their owed units reserved
    (``order_backorder_remainder_fill``).
    """
    from inventory.selectors import demand_fits_somewhere, warehouses_free

    waiting = list(
        Order.objects.filter(status=S.BACKORDERED, lines__product_id__in=product_ids)
        .distinct()
        .order_by("placed_at", "pk")
        .prefetch_related("lines")
    )
    filled = []
    for order in waiting:
        units: dict[int, int] = {}
        for line in order.lines.all():
            units[line.product_id] = units.get(line.product_id, 0) + line.quantity
        if not demand_fits_somewhere(units, warehouses_free(units)):
            continue
        with transaction.atomic():
            order = order_process(order=order, actor=actor)
            if order.status == S.READY_TO_FULFILL:
                latest = order.events.order_by("-pk").values_list("pk", flat=True)[0]
                notification_queue_for_order(
                    order=order, template="backorder_filled", key=str(latest)
                )
                filled.append(order)
    remainders = (
        Order.objects.filter(
            status=S.PARTIALLY_SHIPPED,
            lines__product_id__in=product_ids,
            lines__backordered_quantity__gt=0,
            reservations__isnull=True,
        )
        .distinct()
        .order_by("placed_at", "pk")
    )
    for order in remainders:
        try:
            if order_backorder_remainder_fill(order=order, actor=actor):
                filled.append(order)
        except OrderError:
            continue  # changed meanwhile; the next fill or a clerk picks it up
    return filled
