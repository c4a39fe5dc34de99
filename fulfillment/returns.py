"""Returns (RMA): asked for, approved or rejected, inspected per line, then refunded or exchanged.

The path after shipping (before it, an order is cancelled). Each step is one
transaction, writes an order event and tells the customer. Goods received back
are either restocked (a ``returned`` stock movement) or written off (received and
taken out again by an adjustment, so the ledger shows both); the refund is handed
to ``billing.services.refund_request``; an exchange reserves stock again through
``inventory.services`` and makes a parcel to pick like any other.
"""

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Refund
from billing.selectors import refundable_amount, refunded_quantities
from billing.services import order_line_refund_value, refund_request
from fulfillment.exceptions import ShipmentError
from fulfillment.models import Shipment, ShipmentLine
from fulfillment.return_models import ReturnLine, ReturnRequest
from fulfillment.return_selectors import (
    returnable_quantities,
    returned_quantities,
    shipped_quantities,
)
from inventory.services import Demand, stock_adjust, stock_reserve, stock_return
from orders.events import Actor, actor_fields, order_event_record
from orders.lifecycle import can_transition, order_lock, order_transition
from orders.models import Order, OrderEvent, OrderLine
from tracking.notifications import notification_queue_for_order

S = Order.Status
R = ReturnRequest.Status
# Goods of these orders have left; the customer may send some back.
RETURNABLE_ORDER = (
    S.PARTIALLY_SHIPPED,
    S.SHIPPED,
    S.DELIVERED,
    S.PARTIALLY_RETURNED,
    S.COMPLETED,
)


class ReturnError(ShipmentError):
    """A return cannot do what was asked; ``field`` names the input at fault."""

    def __init__(self, message, *, field=None):
        self.field = field
        super().__init__(message)


def _notify(rma: ReturnRequest, template: str, **extra):
    notification_queue_for_order(
        order=rma.order,
        template=template,
        key=f"return-{rma.pk}",
        extra={"rma": rma.number, **extra},
    )


def _event(rma: ReturnRequest, actor: Actor, message, **data):
    order_event_record(
        order=rma.order,
        kind=OrderEvent.Kind.SHIPMENT,
        actor=actor,
        message=message,
        data={"return": rma.pk, "rma": rma.number, **data},
    )


def _lock(rma: ReturnRequest) -> ReturnRequest:
    order_lock(rma.order)  # the order first, as every order service does
    return (
        ReturnRequest.objects.select_for_update(of=("self",))
        .select_related("order", "warehouse")
        .get(pk=rma.pk)
    )


def _warehouse_for(order, order_line_ids):
    """Return the warehouse of the latest parcel that carried these lines."""
    parcel = (
        Shipment.objects.filter(
            order=order,
            status__in=(Shipment.Status.SHIPPED, Shipment.Status.DELIVERED),
            lines__order_line_id__in=order_line_ids,
        )
        .select_related("warehouse")
        .order_by("-shipped_at", "-id")
        .first()
    )
    return parcel.warehouse if parcel else None


@transaction.atomic
def return_request_create(
    *,
    order: Order,
    lines: Sequence[tuple],
    reason: str,
    actor: Actor,
    resolution: str = ReturnRequest.Resolution.REFUND,
    description: str = "",
    warehouse=None,
) -> ReturnRequest:
    """Open a return for shipped units of the order; never more than shipped less already returned.

    ``lines`` are ``(order_line, quantity)``, or ``(order_line, quantity,
    replacement_product)`` for an exchange into another SKU. Lines with quantity 0
    are left out. Raises ``ReturnError`` naming the field at fault.
    """
    order = order_lock(order)
    if order.status not in RETURNABLE_ORDER:
        raise ReturnError(
            _("Only goods that have been shipped can be returned."), field="lines"
        )
    if reason not in ReturnRequest.Reason.values:
        raise ReturnError(_("Choose a reason for the return."), field="reason")
    if resolution not in ReturnRequest.Resolution.values:
        raise ReturnError(_("Choose refund or exchange."), field="resolution")
    returnable = returnable_quantities(order)
    wanted = []
    for item in lines:
        order_line, quantity = item[0], int(item[1])
        replacement = item[2] if len(item) > 2 else None
        if quantity == 0:
            continue
        if order_line.order_id != order.pk:
            raise ReturnError(_("A line is not on this order."), field="lines")
        most = returnable.get(order_line.pk, 0)
        if quantity < 0 or quantity > most:
            raise ReturnError(
                _(
                    "%(sku)s: at most %(most)d can be returned (shipped and not"
                    " already returned)."
                )
                % {"sku": order_line.sku, "most": most},
                field="lines",
            )
        wanted.append((order_line, quantity, replacement))
    if not wanted:
        raise ReturnError(_("Choose at least one item to return."), field="lines")
    warehouse = warehouse or _warehouse_for(order, [ol.pk for ol, _q, _r in wanted])
    count = ReturnRequest.objects.filter(order=order).count()
    who = actor_fields(actor)
    rma = ReturnRequest.objects.create(
        number=f"R{order.number}-{count + 1}",
        order=order,
        reason=reason,
        resolution=resolution,
        description=description[:500],
        warehouse=warehouse,
        requested_by=who["actor"],
        requested_by_label=who["actor_label"],
    )
    ReturnLine.objects.bulk_create(
        ReturnLine(
            return_request=rma,
            order_line=order_line,
            quantity=quantity,
            replacement_product=replacement,
        )
        for order_line, quantity, replacement in wanted
    )
    _event(
        rma,
        actor,
        _("Return %(rma)s requested (%(resolution)s, %(reason)s): %(items)s")
        % {
            "rma": rma.number,
            "resolution": rma.get_resolution_display(),
            "reason": rma.get_reason_display(),
            "items": ", ".join(f"{ol.sku} × {q}" for ol, q, _r in wanted),
        },
    )
    _notify(rma, "return_requested")
    return rma


@transaction.atomic
def return_approve(*, return_request: ReturnRequest, actor: Actor) -> ReturnRequest:
    """Agree to take the goods back; the customer is told to send them."""
    rma = _lock(return_request)
    if rma.status != R.REQUESTED:
        raise ReturnError(_("Only a requested return can be approved."))
    rma.status = R.APPROVED
    rma.decided_at = timezone.now()
    rma.decided_by = actor_fields(actor)["actor"]
    rma.save(update_fields=["status", "decided_at", "decided_by"])
    _event(rma, actor, _("Return %(rma)s approved") % {"rma": rma.number})
    _notify(rma, "return_approved")
    return rma


@transaction.atomic
def return_reject(
    *, return_request: ReturnRequest, actor: Actor, note: str
) -> ReturnRequest:
    """Refuse the return, saying why; its units can be asked for again."""
    rma = _lock(return_request)
    note = (note or "").strip()
    if not note:
        raise ReturnError(_("Say why the return is rejected."), field="note")
    if rma.status not in (R.REQUESTED, R.APPROVED):
        raise ReturnError(
            _("A return whose goods arrived cannot be rejected; inspect them instead.")
        )
    rma.status = R.REJECTED
    rma.staff_note = note[:300]
    rma.decided_at = timezone.now()
    rma.decided_by = actor_fields(actor)["actor"]
    rma.save(update_fields=["status", "staff_note", "decided_at", "decided_by"])
    _event(
        rma,
        actor,
        _("Return %(rma)s rejected: %(note)s") % {"rma": rma.number, "note": note},
    )
    _notify(rma, "return_rejected", note=note)
    return rma


@transaction.atomic
def return_line_inspect(
    *, line: ReturnLine, restock: int, write_off: int, actor: Actor, note: str = ""
) -> ReturnLine:
    """Record units of a line that came back: restocked, or written off (received, then out).

    May be called several times as parcels arrive, never for more than the line.
    """
    rma = _lock(line.return_request)
    line = (
        ReturnLine.objects.select_for_update()
        .select_related("order_line__product")
        .get(pk=line.pk, return_request=rma)
    )
    if rma.status not in (R.APPROVED, R.RECEIVED):
        raise ReturnError(_("Approve the return before inspecting its goods."))
    if restock < 0 or write_off < 0 or restock + write_off == 0:
        raise ReturnError(
            _("Enter how many units are restocked or written off."), field="restock"
        )
    if restock + write_off > line.uninspected_quantity:
        raise ReturnError(
            _("%(sku)s: only %(left)d unit(s) of this return are left to inspect.")
            % {"sku": line.order_line.sku, "left": line.uninspected_quantity},
            field="restock",
        )
    product, order = line.order_line.product, rma.order
    if restock:
        stock_return(
            product=product,
            warehouse=rma.warehouse,
            quantity=restock,
            actor=actor,
            order=order,
            reason=_("Return %(rma)s: back in stock") % {"rma": rma.number},
            reference=rma.number,
        )
    if write_off:
        # Received first, then taken out: the ledger shows the goods came back.
        stock_return(
            product=product,
            warehouse=rma.warehouse,
            quantity=write_off,
            actor=actor,
            order=order,
            reason=_("Return %(rma)s: received for write-off") % {"rma": rma.number},
            reference=rma.number,
        )
        stock_adjust(
            product=product,
            warehouse=rma.warehouse,
            delta=-write_off,
            actor=actor,
            reason=_("Return %(rma)s: written off (%(note)s)")
            % {"rma": rma.number, "note": note or rma.get_reason_display()},
            reference=rma.number,
        )
    line.restocked_quantity += restock
    line.written_off_quantity += write_off
    line.inspection_note = (note or line.inspection_note)[:300]
    line.inspected_at = timezone.now()
    line.inspected_by = actor_fields(actor)["actor"]
    line.save()
    if rma.status != R.RECEIVED:
        rma.status = R.RECEIVED
        rma.save(update_fields=["status"])
    _event(
        rma,
        actor,
        _(
            "Return %(rma)s: %(sku)s inspected, %(restock)d restocked, %(off)d written off"
        )
        % {
            "rma": rma.number,
            "sku": line.order_line.sku,
            "restock": restock,
            "off": write_off,
        },
        line=line.pk,
    )
    return line


@transaction.atomic
def return_complete(
    *,
    return_request: ReturnRequest,
    actor: Actor,
    shipping_refund: Decimal = Decimal("0"),
) -> ReturnRequest:
    """Close the return on what was received: request the refund, or send the exchange.

    The refund is the inspected units' share of their lines (net of the discounts
    spread over the lines when priced), plus ``shipping_refund``, within what is
    left to refund. An exchange reserves the replacement units; nothing changes
    when stock is short.
    """
    rma = _lock(return_request)
    if rma.status != R.RECEIVED:
        raise ReturnError(_("Inspect the goods that came back before completing."))
    lines = list(rma.lines.select_related("order_line", "replacement_product"))
    received = [line for line in lines if line.inspected_quantity]
    order = rma.order
    if rma.resolution == ReturnRequest.Resolution.EXCHANGE:
        outcome = _exchange_send(rma, received, actor)
    else:
        outcome = _refund_hand_over(rma, received, actor, shipping_refund)
    rma.status = R.COMPLETED
    rma.completed_at = timezone.now()
    rma.completed_by = actor_fields(actor)["actor"]
    rma.save(update_fields=["status", "completed_at", "completed_by", "refund"])
    _event(
        rma,
        actor,
        _("Return %(rma)s completed: %(outcome)s")
        % {"rma": rma.number, "outcome": outcome},
    )
    if rma.resolution == ReturnRequest.Resolution.REFUND:
        _order_returned_status(order, actor, rma)
    _notify(rma, "return_completed", outcome=outcome)
    return rma


def _refund_hand_over(rma, received, actor, shipping_refund) -> str:
    order = rma.order
    already = refunded_quantities(order)
    refund_lines, goods = [], Decimal("0")
    for line in received:
        value = order_line_refund_value(
            order_line=line.order_line,
            quantity=line.inspected_quantity,
            before=already.get(line.order_line_id, 0),
        )
        refund_lines.append((line.order_line, line.inspected_quantity, value))
        goods += value
    shipping_refund = Decimal(shipping_refund or 0)
    if shipping_refund < 0:
        raise ReturnError(
            _("The shipping refund cannot be negative."), field="shipping_refund"
        )
    amount = min(goods + shipping_refund, refundable_amount(order))
    if amount <= 0:
        return _("nothing was paid that could be refunded")
    rma.refund = refund_request(
        order=order,
        amount=amount,
        lines=refund_lines,
        shipping_amount=min(shipping_refund, amount),
        reason=_("Return %(rma)s (%(reason)s)")
        % {"rma": rma.number, "reason": rma.get_reason_display()},
        source=Refund.Source.RETURN,
        source_ref=f"return:{rma.pk}",
        actor=actor,
    )
    return _("refund of ¥%(amount)s requested") % {"amount": amount}


def _order_returned_status(order, actor, rma):
    """Move the order to (partially) returned when refunded goods came back."""
    shipped = sum(shipped_quantities(order).values())
    back = sum(returned_quantities(order, refunds_only=True).values())
    if back <= 0:
        return
    target = S.RETURNED if back >= shipped else S.PARTIALLY_RETURNED
    order = order_lock(order)
    if order.status != target and can_transition(order, target):
        order_transition(
            order=order,
            to_status=target,
            actor=actor,
            message=_("Goods came back with return %(rma)s") % {"rma": rma.number},
        )


def _exchange_send(rma, received, actor) -> str:
    order = rma.order
    if order.reservations.exists():
        raise ReturnError(
            _(
                "The order still holds reserved stock; ship or release it before"
                " sending an exchange."
            )
        )
    units: dict[int, int] = defaultdict(int)
    for line in received:
        product = line.replacement_product or line.order_line.product
        units[product.pk] += line.inspected_quantity
    if not units:
        raise ReturnError(_("Nothing came back to exchange."))
    shortages = stock_reserve(
        demands=[Demand(order=order, units=dict(units))], actor=actor
    )[order.pk]
    if shortages:
        raise ReturnError(
            _("Not enough stock to send the exchange: %(items)s")
            % {
                "items": ", ".join(
                    _("%(sku)s short by %(missing)d")
                    % {"sku": s.sku, "missing": s.missing}
                    for s in shortages
                )
            }
        )
    # Each replacement unit ships against an order line: the returned line for the
    # same SKU, a new line at no charge for another SKU.
    target_lines: dict[int, list[list]] = defaultdict(list)
    for line in received:
        product = line.replacement_product
        order_line = line.order_line
        if product is not None and product.pk != order_line.product_id:
            order_line = OrderLine.objects.create(
                order=order,
                product=product,
                sku=product.sku,
                name=_("Exchange for %(sku)s: %(name)s")
                % {"sku": line.order_line.sku, "name": product.name},
                list_price=Decimal("0"),
                unit_price=Decimal("0"),
                quantity=line.inspected_quantity,
                line_total=Decimal("0"),
            )
        target_lines[order_line.product_id].append(
            [order_line, line.inspected_quantity]
        )
    parcels = []
    per_warehouse: dict[int, dict[int, int]] = defaultdict(dict)
    warehouses = {}
    for reservation in order.reservations.select_related("warehouse"):
        per_warehouse[reservation.warehouse_id][reservation.product_id] = (
            reservation.quantity
        )
        warehouses[reservation.warehouse_id] = reservation.warehouse
    for warehouse_id, quantities in per_warehouse.items():
        parcel = Shipment.objects.create(
            order=order, warehouse=warehouses[warehouse_id]
        )
        new_lines = []
        for product_id, quantity in quantities.items():
            for target in target_lines[product_id]:
                step = min(target[1], quantity)
                if step > 0:
                    new_lines.append(
                        ShipmentLine(
                            shipment=parcel, order_line=target[0], quantity=step
                        )
                    )
                    target[1] -= step
                    quantity -= step
        ShipmentLine.objects.bulk_create(new_lines)
        parcels.append(parcel)
    rma.replacements.add(*parcels)
    return _("exchange parcel(s) %(parcels)s to pick and ship") % {
        "parcels": ", ".join(f"#{p.pk}" for p in parcels)
    }
