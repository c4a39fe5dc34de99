"""Delays and lost parcels (异常处理): transit-time standards, detection, and the queue's actions.

Detection is a pure function of a parcel's facts and the time (``parcel_flag``), so
tests move the clock with ``now=``; the periodic task and each new scan apply its
answer with ``parcel_exception_sync``. Every action staff take on an exception is
written on the order's timeline.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.models import Carrier, Shipment
from fulfillment.services import shipment_replace
from orders.events import Actor, actor_fields, order_event_record
from orders.exceptions import OrderError
from orders.models import OrderEvent
from tracking.models import (
    CarrierClaim,
    ParcelException,
    TrackingEvent,
    TrackingStatus,
    TransitStandard,
)

K = ParcelException.Kind
T = TrackingStatus

# How bad each kind is: detection escalates an open exception, never downgrades a
# closed one without a new scan.
SEVERITY = {K.DELAYED: 1, K.FAILED_ATTEMPT: 2, K.REFUSED: 3, K.RETURNED: 3, K.LOST: 4}
# Words carriers use in an exception scan when the recipient refused the parcel.
REFUSAL_WORDS = ("拒收", "拒签", "refus")


class ExceptionError(OrderError):
    """A queue action was refused; the message says why."""


# --- Transit-time standards ------------------------------------------------------


@transaction.atomic
def transit_standard_set(
    *,
    carrier: Carrier,
    origin_province: str,
    destination_province: str,
    hours: int,
    actor: Actor,
) -> TransitStandard:
    """Set staff's standard for a carrier and route (a blank province means any)."""
    if hours is None or hours <= 0:
        raise ExceptionError(_("Enter the hours in transit, more than 0."))
    standard, _created = TransitStandard.objects.update_or_create(
        carrier=carrier,
        origin_province=origin_province.strip(),
        destination_province=destination_province.strip(),
        source=TransitStandard.Source.STAFF,
        defaults={"hours": hours, "updated_at": timezone.now()},
    )
    return standard


@transaction.atomic
def transit_standard_delete(*, standard: TransitStandard, actor: Actor) -> None:
    """Remove a standard; the route falls back to a learned one or the default."""
    standard.delete()


def percentile_hours(hours: list[float], percentile: int) -> int:
    """Return the nearest-rank percentile of the transit times, in whole hours (≥ 1)."""
    ordered = sorted(hours)
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    return max(1, math.ceil(ordered[rank - 1]))


@transaction.atomic
def transit_standards_learn(*, now: datetime | None = None) -> int:
    """Learn each route's standard from the shop's delivered parcels; return how many were set.

    A route (carrier, warehouse province → customer province) needs
    ``TRANSIT_LEARN_MIN_PARCELS`` deliveries within ``TRANSIT_LEARN_DAYS``; its
    standard is the ``TRANSIT_LEARN_PERCENTILE`` of their hours from shipping to delivery.
    """
    now = now or timezone.now()
    rows = Shipment.objects.filter(
        status=Shipment.Status.DELIVERED,
        carrier__isnull=False,
        shipped_at__isnull=False,
        delivered_at__gte=now - timedelta(days=settings.TRANSIT_LEARN_DAYS),
    ).values_list(
        "carrier_id",
        "warehouse__province",
        "order__province",
        "shipped_at",
        "delivered_at",
    )
    routes: dict[tuple, list[float]] = defaultdict(list)
    for carrier_id, origin, destination, shipped_at, delivered_at in rows.iterator(
        chunk_size=5000
    ):
        if origin and destination and delivered_at > shipped_at:
            hours = (delivered_at - shipped_at).total_seconds() / 3600
            routes[(carrier_id, origin, destination)].append(hours)
    learned = 0
    for (carrier_id, origin, destination), hours in routes.items():
        if len(hours) < settings.TRANSIT_LEARN_MIN_PARCELS:
            continue
        TransitStandard.objects.update_or_create(
            carrier_id=carrier_id,
            origin_province=origin,
            destination_province=destination,
            source=TransitStandard.Source.LEARNED,
            defaults={
                "hours": percentile_hours(hours, settings.TRANSIT_LEARN_PERCENTILE),
                "sample_size": len(hours),
                "updated_at": now,
            },
        )
        learned += 1
    return learned


class StandardBook:
    """Every standard in memory, for looking up many parcels at once.

    Staff standards win over learned ones; an exact route wins over one with a blank
    (any) province; without any, ``TRANSIT_STANDARD_DEFAULT_HOURS``.
    """

    def __init__(self, standards=None):
        self.hours: dict[tuple, int] = {}
        rank = {TransitStandard.Source.LEARNED: 0, TransitStandard.Source.STAFF: 1}
        chosen: dict[tuple, int] = {}
        if standards is None:
            standards = TransitStandard.objects.all()
        for s in standards:
            key = (s.carrier_id, s.origin_province, s.destination_province)
            if rank[s.source] >= chosen.get(key, -1):
                chosen[key] = rank[s.source]
                self.hours[key] = s.hours

    def hours_for(self, carrier_id, origin: str, destination: str) -> int:
        for key in (
            (carrier_id, origin, destination),
            (carrier_id, "", destination),
            (carrier_id, origin, ""),
            (carrier_id, "", ""),
        ):
            if key in self.hours:
                return self.hours[key]
        return settings.TRANSIT_STANDARD_DEFAULT_HOURS


# --- Detection -------------------------------------------------------------------


@dataclass(frozen=True)
class ParcelFacts:
    """What detection needs to know about one parcel in transit."""

    shipped_at: datetime
    standard_hours: int
    last_scan_at: datetime | None = None
    last_status: str = ""
    last_description: str = ""


@dataclass(frozen=True)
class Flag:
    kind: str
    reason: str
    since: datetime
    expected_by: datetime
    # The parcel's last scan (or its shipping): a closed exception stays closed
    # until something newer than this happens.
    last_scan: datetime


def parcel_flag(facts: ParcelFacts, *, now: datetime) -> Flag | None:
    """Return what is wrong with a parcel in transit at ``now``, or None when nothing is."""
    expected_by = facts.shipped_at + timedelta(hours=facts.standard_hours)
    last = facts.last_scan_at or facts.shipped_at
    quiet = now - last
    said = facts.last_description

    def flag(kind, reason, since):
        return Flag(
            kind=kind,
            reason=str(reason)[:300],
            since=since,
            expected_by=expected_by,
            last_scan=last,
        )

    if facts.last_status == T.RETURNED:
        return flag(
            K.RETURNED,
            _("The carrier is returning it: %(said)s") % {"said": said},
            last,
        )
    if facts.last_status == T.EXPIRED:
        return flag(
            K.LOST, _("The carrier reports it lost: %(said)s") % {"said": said}, last
        )
    if facts.last_status == T.EXCEPTION and any(
        w in said.lower() for w in REFUSAL_WORDS
    ):
        return flag(K.REFUSED, _("Refused: %(said)s") % {"said": said}, last)
    if quiet >= timedelta(days=settings.PARCEL_LOST_NO_SCAN_DAYS):
        return flag(
            K.LOST,
            _("No scan for %(days)d days.") % {"days": quiet.days},
            last,
        )
    late = now - expected_by
    if late >= timedelta(hours=settings.PARCEL_LOST_PAST_ESTIMATE_HOURS):
        return flag(
            K.LOST,
            _("%(hours)d hours past its expected delivery.")
            % {"hours": late.total_seconds() // 3600},
            expected_by,
        )
    if facts.last_status == T.FAILED_ATTEMPT:
        return flag(K.FAILED_ATTEMPT, said or _("Delivery attempt failed"), last)
    if facts.last_status == T.EXCEPTION:
        return flag(
            K.DELAYED, _("The carrier reports: %(said)s") % {"said": said}, last
        )
    if late > timedelta(0):
        return flag(
            K.DELAYED,
            _("Past its transit-time standard of %(hours)d hours.")
            % {"hours": facts.standard_hours},
            expected_by,
        )
    if quiet >= timedelta(hours=settings.PARCEL_DELAY_NO_SCAN_HOURS):
        return flag(
            K.DELAYED,
            _("No scan for %(hours)d hours.")
            % {"hours": quiet.total_seconds() // 3600},
            last,
        )
    return None


def _parcel_label(shipment) -> str:
    return shipment.tracking_number or f"#{shipment.pk}"


def _record(exception: ParcelException, *, actor: Actor, message, kind=None, **data):
    """Write an action on the exception's order timeline."""
    shipment = exception.shipment
    order_event_record(
        order=shipment.order,
        kind=kind or OrderEvent.Kind.TRACKING,
        actor=actor,
        message=_("Parcel %(parcel)s: %(message)s")
        % {"parcel": _parcel_label(shipment), "message": message},
        data={"shipment": shipment.pk, "exception": exception.pk, **data},
    )


@transaction.atomic
def parcel_exception_sync(
    *, shipment: Shipment, flag: Flag | None, now: datetime, actor: Actor = "system"
) -> ParcelException | None:
    """Open, escalate or clear the parcel's exception to match ``flag``; return the open one."""
    current = (
        ParcelException.objects.select_for_update()
        .filter(shipment=shipment, status=ParcelException.Status.OPEN)
        .first()
    )
    if flag is None:
        if current is not None:
            current.status = ParcelException.Status.CLEARED
            current.ended_at = now
            current.save(update_fields=["status", "ended_at"])
            current.shipment = shipment
            _record(
                current, actor=actor, message=_("moving again; the flag is cleared.")
            )
        return None
    if current is not None:
        if current.kind == flag.kind:
            return current
        was = current.get_kind_display()
        current.kind, current.reason = flag.kind, flag.reason
        current.since, current.expected_by = flag.since, flag.expected_by
        current.save(update_fields=["kind", "reason", "since", "expected_by"])
        current.shipment = shipment
        _record(
            current,
            actor=actor,
            message=_("%(was)s → %(now)s: %(reason)s")
            % {"was": was, "now": current.get_kind_display(), "reason": flag.reason},
            flag=flag.kind,
        )
        return current
    closed = (
        ParcelException.objects.filter(
            shipment=shipment, status=ParcelException.Status.CLOSED
        )
        .order_by("-ended_at")
        .first()
    )
    if (
        closed is not None
        and closed.ended_at >= flag.last_scan
        and SEVERITY[closed.kind] >= SEVERITY[flag.kind]
    ):
        return None  # staff closed this very problem and nothing new has happened
    try:
        with transaction.atomic():
            exception = ParcelException.objects.create(
                shipment=shipment,
                kind=flag.kind,
                reason=flag.reason,
                since=flag.since,
                expected_by=flag.expected_by,
                created_at=now,
            )
    except IntegrityError:  # flagged at the same moment by a scan
        return ParcelException.objects.filter(
            shipment=shipment, status=ParcelException.Status.OPEN
        ).first()
    exception.shipment = shipment
    _record(
        exception,
        actor=actor,
        message=_("%(kind)s: %(reason)s")
        % {"kind": exception.get_kind_display(), "reason": flag.reason},
        flag=flag.kind,
    )
    return exception


def _in_transit():
    latest = TrackingEvent.objects.filter(shipment=OuterRef("pk")).order_by(
        "-occurred_at", "-id"
    )
    return (
        Shipment.objects.filter(
            status=Shipment.Status.SHIPPED, shipped_at__isnull=False
        )
        .select_related("order", "warehouse")
        .annotate(
            last_scan_at=Max("tracking_events__occurred_at"),
            last_description=Subquery(latest.values("description")[:1]),
        )
    )


def parcel_facts(shipment, book: StandardBook) -> ParcelFacts:
    """Return the detection facts of a shipment from ``_in_transit()``."""
    return ParcelFacts(
        shipped_at=shipment.shipped_at,
        standard_hours=book.hours_for(
            shipment.carrier_id, shipment.warehouse.province, shipment.order.province
        ),
        last_scan_at=shipment.last_scan_at,
        last_status=shipment.tracking_status,
        last_description=shipment.last_description or "",
    )


@dataclass
class DetectResult:
    checked: int = 0
    flagged: int = 0
    changed: int = 0
    cleared: int = 0


def parcel_exceptions_detect(*, now: datetime | None = None) -> DetectResult:
    """Check every parcel in transit and every open exception; flag, escalate or clear them.

    One short transaction per parcel whose state changes, so a long run holds no locks.
    """
    now = now or timezone.now()
    book = StandardBook()
    result = DetectResult()
    open_kinds = dict(
        ParcelException.objects.filter(status=ParcelException.Status.OPEN).values_list(
            "shipment_id", "kind"
        )
    )
    for shipment in _in_transit().iterator(chunk_size=2000):
        result.checked += 1
        flag = parcel_flag(parcel_facts(shipment, book), now=now)
        had = open_kinds.pop(shipment.pk, None)
        if (flag.kind if flag else None) == had:
            continue
        after = parcel_exception_sync(shipment=shipment, flag=flag, now=now)
        if flag is None:
            result.cleared += 1
        elif had is None:
            result.flagged += after is not None
        else:
            result.changed += 1
    # Open exceptions of parcels no longer in transit: delivered ones are cleared;
    # replaced ones stay for staff to close once the claim or refund is done.
    delivered = Shipment.objects.filter(
        pk__in=list(open_kinds), status=Shipment.Status.DELIVERED
    ).select_related("order")
    for shipment in delivered:
        parcel_exception_sync(shipment=shipment, flag=None, now=now)
        result.cleared += 1
    return result


def parcel_exception_refresh(*, shipment: Shipment, now: datetime | None = None):
    """Re-check one parcel after a new scan: a scan may flag it or move it on."""
    now = now or timezone.now()
    shipment.refresh_from_db(fields=["status", "tracking_status"])
    has_open = ParcelException.objects.filter(
        shipment=shipment, status=ParcelException.Status.OPEN
    ).exists()
    if not has_open and shipment.tracking_status not in (
        T.FAILED_ATTEMPT,
        T.EXCEPTION,
        T.RETURNED,
        T.EXPIRED,
    ):
        return None
    fresh = _in_transit().filter(pk=shipment.pk).first()
    if fresh is None:  # delivered (or replaced): only a delivery clears
        if shipment.status == Shipment.Status.DELIVERED:
            return parcel_exception_sync(shipment=shipment, flag=None, now=now)
        return None
    flag = parcel_flag(
        parcel_facts(fresh, StandardBook(_standards_for(fresh))), now=now
    )
    return parcel_exception_sync(shipment=fresh, flag=flag, now=now)


def _standards_for(shipment):
    return TransitStandard.objects.filter(carrier_id=shipment.carrier_id)


# --- The queue's actions ---------------------------------------------------------


def _locked(exception: ParcelException, *, open_only=True) -> ParcelException:
    exception = (
        ParcelException.objects.select_for_update(of=("self",))
        .select_related("shipment__order__customer", "shipment__carrier")
        .get(pk=exception.pk)
    )
    if open_only and exception.status != ParcelException.Status.OPEN:
        raise ExceptionError(_("This exception is no longer open."))
    return exception


def _touch(exception, now=None):
    exception.last_action_at = now or timezone.now()
    exception.save(update_fields=["last_action_at"])


CONTACT_CHANNELS = {
    "": _("Note"),
    "phone": _("Phone call"),
    "sms": _("SMS"),
    "wechat": _("WeChat"),
    "email": _("Email"),
    "carrier": _("Carrier contacted"),
}


@transaction.atomic
def exception_note_add(
    *, exception: ParcelException, text: str, actor: Actor, contact: str = ""
) -> ParcelException:
    """Add a note or a contact record (who was called or written to, and what was said)."""
    text = (text or "").strip()
    if not text:
        raise ExceptionError(_("Write the note."))
    if contact not in CONTACT_CHANNELS:
        raise ExceptionError(_("Choose how the contact was made."))
    exception = _locked(exception, open_only=False)
    _record(
        exception,
        actor=actor,
        kind=OrderEvent.Kind.NOTE,
        message=f"{CONTACT_CHANNELS[contact]}: {text}",
        action="note",
        contact=contact,
    )
    _touch(exception)
    return exception


@transaction.atomic
def exception_customer_notify(*, exception: ParcelException, actor: Actor) -> int:
    """Tell the customer their parcel is late or in trouble; return how many messages were queued."""
    from tracking import notifications

    exception = _locked(exception)
    shipment = exception.shipment
    if exception.kind == K.DELAYED:
        sent = notifications.notify_delayed(shipment=shipment, exception=exception)
    else:
        sent = notifications.notify_exception(shipment=shipment, exception=exception)
    if not sent:
        raise ExceptionError(
            _("The customer was already told about this, or has no phone or email.")
        )
    exception.customer_notified_at = timezone.now()
    exception.save(update_fields=["customer_notified_at"])
    _record(
        exception,
        actor=actor,
        kind=OrderEvent.Kind.NOTIFICATION,
        message=_("customer told (%(kind)s).") % {"kind": exception.get_kind_display()},
        action="notify",
    )
    _touch(exception)
    return len(sent)


@transaction.atomic
def exception_reship(*, exception: ParcelException, actor: Actor) -> list[Shipment]:
    """Send the parcel's goods again: stock is reserved anew and a replacement parcel is picked."""
    exception = _locked(exception)
    if exception.replacement_id:
        raise ExceptionError(_("A replacement was already sent for this parcel."))
    replacements = shipment_replace(
        shipment=exception.shipment,
        actor=actor,
        reason=exception.get_kind_display(),
    )
    exception.replacement = replacements[0]
    exception.save(update_fields=["replacement"])
    _record(
        exception,
        actor=actor,
        kind=OrderEvent.Kind.SHIPMENT,
        message=_("replacement parcel created; stock reserved again."),
        action="reship",
        replacements=[r.pk for r in replacements],
    )
    _touch(exception)
    return replacements


def _money(value, *, field_label) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except Exception as exc:
        raise ExceptionError(
            _("%(field)s: enter an amount.") % {"field": field_label}
        ) from exc
    return amount


@transaction.atomic
def carrier_claim_file(
    *,
    exception: ParcelException,
    amount,
    evidence: str,
    actor: Actor,
    reference: str = "",
) -> CarrierClaim:
    """File a claim with the carrier for the parcel (amount and evidence required)."""
    exception = _locked(exception, open_only=False)
    shipment = exception.shipment
    if shipment.carrier_id is None:
        raise ExceptionError(_("The parcel has no carrier to claim from."))
    amount = _money(amount, field_label=_("Amount claimed"))
    if amount <= 0:
        raise ExceptionError(_("Amount claimed: enter more than 0."))
    if amount > shipment.order.total:
        raise ExceptionError(
            _("Amount claimed: at most the order total, %(total)s.")
            % {"total": shipment.order.total}
        )
    if not (evidence or "").strip():
        raise ExceptionError(_("Evidence: describe what was sent and what is missing."))
    claim = CarrierClaim(
        exception=exception,
        carrier=shipment.carrier,
        amount=amount,
        evidence=evidence.strip(),
        reference=(reference or "").strip()[:60],
        filed_by=actor_fields(actor)["actor"],
    )
    claim.full_clean()
    claim.save()
    _record(
        exception,
        actor=actor,
        message=_("claim of ¥%(amount)s filed with %(carrier)s.")
        % {"amount": amount, "carrier": shipment.carrier.name},
        action="claim",
        claim=claim.pk,
    )
    _touch(exception)
    return claim


@transaction.atomic
def carrier_claim_update(
    *,
    claim: CarrierClaim,
    status: str,
    actor: Actor,
    settlement_amount=None,
    reference=None,
) -> CarrierClaim:
    """Record the carrier's answer to a claim: accepted, settled (with the amount) or rejected."""
    claim = CarrierClaim.objects.select_for_update().get(pk=claim.pk)
    if status not in CarrierClaim.Status.values:
        raise ExceptionError(_("Choose the claim's status."))
    if claim.status in (CarrierClaim.Status.SETTLED, CarrierClaim.Status.REJECTED):
        raise ExceptionError(_("This claim is already settled or rejected."))
    if status == CarrierClaim.Status.SETTLED:
        if settlement_amount in (None, ""):
            raise ExceptionError(_("Settlement amount: enter what the carrier paid."))
        settlement = _money(settlement_amount, field_label=_("Settlement amount"))
        if settlement < 0 or settlement > claim.amount:
            raise ExceptionError(
                _("Settlement amount: between 0 and the amount claimed, %(amount)s.")
                % {"amount": claim.amount}
            )
        claim.settlement_amount = settlement
        claim.settled_at = timezone.now()
    claim.status = status
    if reference:
        claim.reference = reference.strip()[:60]
    claim.save()
    exception = _locked(claim.exception, open_only=False)
    message = _("claim %(ref)s is now %(status)s.") % {
        "ref": claim.reference or f"#{claim.pk}",
        "status": claim.get_status_display(),
    }
    if claim.settlement_amount is not None:
        message += " " + _("Carrier pays ¥%(amount)s.") % {
            "amount": claim.settlement_amount
        }
    _record(
        exception, actor=actor, message=message, action="claim_update", claim=claim.pk
    )
    _touch(exception)
    return claim


@transaction.atomic
def exception_refund(
    *, exception: ParcelException, amount, actor: Actor, reason: str = ""
):
    """Hand a refund for the lost parcel to billing (``source="lost_parcel"``)."""
    from billing import services as billing  # billing sits beside; imported when used

    exception = _locked(exception, open_only=False)
    shipment = exception.shipment
    order = shipment.order
    amount = _money(amount, field_label=_("Refund amount"))
    if amount <= 0:
        raise ExceptionError(_("Refund amount: enter more than 0."))
    lines = [
        (line.order_line, line.quantity)
        for line in shipment.lines.select_related("order_line")
    ]
    refund = billing.refund_request(
        order=order,
        amount=amount,
        lines=lines,
        reason=reason.strip() or exception.get_kind_display(),
        source="lost_parcel",
        source_ref=f"shipment:{shipment.pk}",
        actor=actor,
    )
    _record(
        exception,
        actor=actor,
        kind=OrderEvent.Kind.PAYMENT,
        message=_("refund of ¥%(amount)s handed to billing.") % {"amount": amount},
        action="refund",
    )
    _touch(exception)
    return refund


@transaction.atomic
def exception_close(
    *, exception: ParcelException, resolution: str, actor: Actor
) -> ParcelException:
    """Close the exception with what was done; it is not flagged again until a new scan."""
    resolution = (resolution or "").strip()
    if not resolution:
        raise ExceptionError(_("Resolution: say how it was resolved."))
    exception = _locked(exception)
    now = timezone.now()
    exception.status = ParcelException.Status.CLOSED
    exception.resolution = resolution[:300]
    exception.ended_at = now
    exception.closed_by = actor_fields(actor)["actor"]
    exception.last_action_at = now
    exception.save()
    _record(
        exception,
        actor=actor,
        message=_("exception closed: %(resolution)s") % {"resolution": resolution},
        action="close",
    )
    return exception
