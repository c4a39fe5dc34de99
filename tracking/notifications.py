"""The notification outbox: messages are stored with the change that causes them, then sent.

Writing the row in the same transaction as the order change means a crash or a broker
outage cannot lose a message: the periodic flush sends whatever is still pending.
The unique dedupe key means one cause never makes two messages on one channel.
Staff may reword each event's message per channel and language
(``NotificationTemplate``); without their row the file template is used.
"""

import logging
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from config.context_processors import shop_name
from orders.events import order_event_record
from orders.models import OrderEvent
from orders.phones import phone_is_mobile
from tracking.adapters.app_push import push_body, push_send
from tracking.adapters.sms import sms_backend
from tracking.models import Notification, NotificationTemplate

logger = logging.getLogger(__name__)

SUBJECTS = {
    "order_received": _("We have received your order %(number)s"),
    "needs_correction": _("Please check the details of order %(number)s"),
    "payment_received": _("Payment received for order %(number)s"),
    "shipped": _("Order %(number)s is on its way"),
    "out_for_delivery": _("Order %(number)s is out for delivery"),
    "delivered": _("Order %(number)s has been delivered"),
    "order_cancelled": _("Order %(number)s has been cancelled"),
    "backorder_filled": _("Order %(number)s is back in stock"),
    "delayed": _("Order %(number)s is delayed"),
    "parcel_exception": _("A problem with the parcel of order %(number)s"),
    "return_requested": _("Return request for order %(number)s received"),
    "return_approved": _("Your return for order %(number)s is approved"),
    "return_rejected": _("Your return for order %(number)s"),
    "return_completed": _("Your return for order %(number)s is complete"),
    "refund_paid": _("Refund sent for order %(number)s"),
    "backorder_split": _("Part of order %(number)s is out of stock"),
    "backorder_wait": _("Order %(number)s is waiting for stock"),
    "backorder_substitute": _("An item of order %(number)s was replaced"),
    "backorder_lines_cancelled": _("Items removed from order %(number)s"),
}

# The events staff may reword, in the order the console lists them, with the
# placeholders each one's message may use beyond COMMON_PLACEHOLDERS.
COMMON_PLACEHOLDERS = ("shop_name", "number", "name", "status_url")
EVENTS: dict[str, tuple] = {
    "order_received": (_("Order received"), ()),
    "needs_correction": (_("Needs correction"), ()),
    "payment_received": (_("Payment received"), ()),
    "shipped": (_("Shipped"), ("carrier", "tracking_number")),
    "out_for_delivery": (_("Out for delivery"), ("tracking_number",)),
    "delivered": (_("Delivered"), ("tracking_number",)),
    "delayed": (_("Delayed"), ("tracking_number",)),
    "parcel_exception": (_("Parcel exception"), ("tracking_number", "problem")),
    "refund_paid": (_("Refund issued"), ("amount",)),
    "order_cancelled": (_("Order cancelled"), ()),
    "backorder_split": (_("Shipped in part (out of stock)"), ()),
    "backorder_wait": (_("Waiting for stock"), ()),
    "backorder_filled": (_("Back in stock"), ()),
    "backorder_substitute": (_("Item substituted"), ("detail",)),
    "backorder_lines_cancelled": (_("Out-of-stock items removed"), ("detail",)),
    "return_requested": (_("Return requested"), ("rma",)),
    "return_approved": (_("Return approved"), ("rma",)),
    "return_rejected": (_("Return rejected"), ("rma", "note")),
    "return_completed": (_("Return completed"), ("rma", "outcome")),
}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
OPT_IN_FIELD = {
    Notification.Channel.EMAIL: "notify_email",
    Notification.Channel.SMS: "notify_sms",
    Notification.Channel.PUSH: "notify_push",
}


def event_placeholders(event: str) -> tuple[str, ...]:
    """Return the placeholder names a message for ``event`` may use."""
    return COMMON_PLACEHOLDERS + EVENTS.get(event, ("", ()))[1]


def placeholders_unknown(event: str, text: str) -> list[str]:
    """Return the ``{names}`` in ``text`` this event does not provide, in order."""
    allowed = set(event_placeholders(event))
    return [n for n in dict.fromkeys(PLACEHOLDER.findall(text)) if n not in allowed]


def placeholders_fill(text: str, context: dict) -> str:
    """Return ``text`` with each known ``{name}`` replaced; nothing else is evaluated."""

    def value(match):
        name = match.group(1)
        return str(context[name]) if name in context else match.group(0)

    return PLACEHOLDER.sub(value, text)


# --- Quiet hours -----------------------------------------------------------------


def _quiet_window() -> tuple[time, time] | None:
    start, _sep, end = settings.SMS_QUIET_HOURS.partition("-")
    if not end:
        return None
    start, end = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    return None if start == end else (start, end)


def quiet_hours_label() -> str:
    """Return the quiet hours as customers read them ("21:00–08:00"), or "" when off."""
    window = _quiet_window()
    return f"{window[0]:%H:%M}–{window[1]:%H:%M}" if window else ""


def quiet_hours_end(at: datetime) -> datetime | None:
    """Return when the SMS quiet hours around ``at`` end, or None outside them."""
    window = _quiet_window()
    if window is None:
        return None
    start, end = window
    zone = ZoneInfo(settings.SMS_QUIET_HOURS_TIME_ZONE)
    local = at.astimezone(zone)
    clock = local.time()
    if start < end:
        quiet = start <= clock < end
        day = local.date()
    else:  # over midnight, e.g. 21:00-08:00
        quiet = clock >= start or clock < end
        day = local.date() + timedelta(days=1) if clock >= start else local.date()
    return datetime.combine(day, end, tzinfo=zone) if quiet else None


# --- Queueing --------------------------------------------------------------------


def _recipients(order, customer) -> list[tuple[str, str]]:
    """Return (channel, address) for each channel the customer can be reached on and wants."""
    recipients = []
    if (
        customer.notify_sms
        and order.recipient_phone
        and phone_is_mobile(order.recipient_phone)
    ):
        recipients.append((Notification.Channel.SMS, order.recipient_phone))
    if customer.notify_email and customer.email:
        recipients.append((Notification.Channel.EMAIL, customer.email))
    channel = order.channel
    if customer.notify_push and channel.push_url and channel.push_secret:
        # The app backend knows its users by phone.
        recipients.append(
            (Notification.Channel.PUSH, customer.phone or f"customer-{customer.pk}")
        )
    return recipients


def notification_queue_for_order(
    *, order, template: str, key: str = "", extra=None, now=None
) -> list:
    """Store this event's messages on each channel the customer wants; send after commit.

    ``key`` tells apart events of the same kind on one order (e.g. each parcel shipped).
    Call it inside the transaction of the change that causes it (the outbox). An SMS
    queued in quiet hours waits for their end; the periodic flush sends it then.
    """
    now = now or timezone.now()
    customer = order.customer
    payload = {
        "number": order.number,
        "name": order.recipient_name,
        "status_url": order.status_url,
        **(extra or {}),
    }
    created = []
    for channel, recipient in _recipients(order, customer):
        dedupe_key = f"order-{order.pk}:{template}:{key}:{channel}"
        send_after = (
            quiet_hours_end(now) if channel == Notification.Channel.SMS else None
        )
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        customer=customer,
                        order=order,
                        channel=channel,
                        template=template,
                        recipient=recipient,
                        language=settings.LANGUAGE_CODE,
                        payload=payload,
                        dedupe_key=dedupe_key,
                        created_at=now,
                        send_after=send_after,
                    )
                )
        except IntegrityError:
            continue  # already queued for this very event
    ids = [n.pk for n in created if n.send_after is None]
    if ids:
        from tracking.tasks import notification_send

        # robust: a broker outage must not undo or fail the saved change; the
        # periodic flush sends what is still waiting in the outbox.
        transaction.on_commit(
            lambda: [notification_send.delay(i) for i in ids], robust=True
        )
    return created


def notify_shipped(*, shipment) -> list:
    """Tell the customer a parcel left with its carrier (once per parcel)."""
    return notification_queue_for_order(
        order=shipment.order,
        template="shipped",
        key=f"shipment-{shipment.pk}",
        extra={
            "carrier": shipment.carrier.name if shipment.carrier_id else "",
            "tracking_number": shipment.tracking_number,
        },
    )


def notify_delayed(*, shipment, exception) -> list:
    """Tell the customer their parcel is late (once per exception)."""
    return notification_queue_for_order(
        order=shipment.order,
        template="delayed",
        key=f"exception-{exception.pk}",
        extra={"tracking_number": shipment.tracking_number},
    )


def notify_exception(*, shipment, exception) -> list:
    """Tell the customer of a failed attempt, a return or a lost parcel (once per kind)."""
    return notification_queue_for_order(
        order=shipment.order,
        template="parcel_exception",
        key=f"exception-{exception.pk}-{exception.kind}",
        extra={"tracking_number": shipment.tracking_number, "kind": exception.kind},
    )


def notify_refund_issued(*, refund) -> list:
    """Tell the customer money was sent back to them (once per refund)."""
    return notification_queue_for_order(
        order=refund.order,
        template="refund_paid",
        key=f"refund-{refund.pk}",
        extra={"amount": str(refund.amount)},
    )


# --- Rendering -------------------------------------------------------------------


def _context(notification: Notification) -> dict:
    """Return the values the message's placeholders take, in the customer's language."""
    from tracking.models import ParcelException

    with translation.override(notification.language):
        context = {"shop_name": str(shop_name()), **notification.payload}
        if "kind" in context:
            kinds = dict(ParcelException.Kind.choices)
            context["problem"] = str(kinds.get(context["kind"], context["kind"]))
    return context


def template_for(*, event: str, channel: str, language: str):
    """Return staff's template for this event, channel and language, or None."""
    return NotificationTemplate.objects.filter(
        event=event, channel=channel, language=language
    ).first()


def template_default(*, event: str, channel: str, language: str) -> tuple[str, str]:
    """Return the shipped wording (subject, text) with ``{placeholders}``: an editor's start."""
    names = {name: f"{{{name}}}" for name in event_placeholders(event)}
    with translation.override(language):
        subject = str(SUBJECTS.get(event, event)) % names
        text = render_to_string(
            f"tracking/notifications/{event}.txt", {**names, "channel": channel}
        ).strip()
    return subject, text


def message_render(
    *, event: str, channel: str, language: str, context: dict, row=None
) -> tuple[str, str]:
    """Return the subject and text for ``context``: staff's row if any, else the file's."""
    if row is None:
        row = template_for(event=event, channel=channel, language=language)
    with translation.override(language):
        default_subject = str(SUBJECTS.get(event, event)) % {
            "number": context.get("number", "")
        }
        if row is not None:
            return (
                placeholders_fill(row.subject, context) or default_subject,
                placeholders_fill(row.body, context),
            )
        text = render_to_string(
            f"tracking/notifications/{event}.txt", {**context, "channel": channel}
        ).strip()
    return default_subject, text


def notification_render(notification: Notification) -> tuple[str, str]:
    """Return the subject and text of the message, in the customer's language."""
    return message_render(
        event=notification.template,
        channel=notification.channel,
        language=notification.language,
        context=_context(notification),
    )


# --- Sending ---------------------------------------------------------------------


def _deliver(notification: Notification, subject: str, text: str) -> str:
    """Hand the message to its channel's gateway; return the gateway's reference.

    The reference we give (``n<id>``) is the same on every attempt, so a gateway or
    app backend that keeps it can drop a repeat.
    """
    reference = f"n{notification.pk}"
    if notification.channel == Notification.Channel.SMS:
        row = template_for(
            event=notification.template,
            channel=notification.channel,
            language=notification.language,
        )
        context = _context(notification)
        used = PLACEHOLDER.findall(row.body) if row else []
        return sms_backend().send(
            phone=notification.recipient,
            text=text,
            reference=reference,
            template_code=row.sms_template_code if row else "",
            params={name: context.get(name, "") for name in used},
        )
    if notification.channel == Notification.Channel.PUSH:
        channel = notification.order.channel
        return push_send(
            url=channel.push_url,
            secret=channel.push_secret,
            message_id=reference,
            body=push_body(
                message_id=reference,
                event=notification.template,
                order_number=notification.order.number,
                recipient=notification.recipient,
                title=subject,
                text=text,
                url=notification.payload.get("status_url", ""),
            ),
        )
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    EmailMessage(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [notification.recipient],
        headers={"Message-ID": f"<{reference}@{domain}>"},
    ).send()
    return ""


@transaction.atomic
def notification_send(*, notification_id: int, now=None) -> Notification | None:
    """Send one stored notification if it is still pending and due; safe to call twice.

    The row stays locked while the gateway is called, so a second worker holding the
    same task waits and then sees it sent. An SMS in quiet hours is put off to their
    end; a channel the customer has turned off since is skipped.
    """
    now = now or timezone.now()
    notification = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("order__channel", "customer")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.status != Notification.Status.PENDING:
        return notification
    if notification.send_after and notification.send_after > now:
        return notification
    if not getattr(notification.customer, OPT_IN_FIELD[notification.channel]):
        notification.status = Notification.Status.SKIPPED
        notification.last_error = str(_("The customer turned this channel off."))
        notification.save(update_fields=["status", "last_error"])
        return notification
    if notification.channel == Notification.Channel.SMS:
        quiet_until = quiet_hours_end(now)
        if quiet_until:
            notification.send_after = quiet_until
            notification.save(update_fields=["send_after"])
            return notification
    notification.attempts += 1
    subject, text = notification_render(notification)
    notification.provider_reference = (_deliver(notification, subject, text) or "")[
        :100
    ]
    notification.status = Notification.Status.SENT
    notification.sent_at = now
    notification.last_error = ""
    notification.save()
    if notification.order_id:
        order_event_record(
            order=notification.order,
            kind=OrderEvent.Kind.NOTIFICATION,
            actor="system",
            message=_("%(channel)s sent to %(recipient)s: %(subject)s")
            % {
                "channel": notification.get_channel_display(),
                "recipient": notification.recipient,
                "subject": subject,
            },
            data={"notification": notification.pk},
        )
    return notification


@transaction.atomic
def notification_record_failure(
    *, notification_id: int, error: str, permanent: bool = False
) -> Notification:
    """Note a failed attempt; after the last allowed one, or a permanent refusal, it is failed."""
    notification = Notification.objects.select_for_update().get(pk=notification_id)
    notification.attempts += 1
    notification.last_error = error[:500]
    if permanent or notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        notification.status = Notification.Status.FAILED
    notification.save(update_fields=["attempts", "last_error", "status"])
    return notification


def notifications_due(now=None) -> list[int]:
    """Return the ids of pending notifications whose send should have happened by now.

    Those queued a while ago (the broker may have lost them), and those held for
    quiet hours that have ended.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.NOTIFICATION_RETRY_AFTER_SECONDS)
    return list(
        Notification.objects.filter(status=Notification.Status.PENDING)
        .filter(
            Q(send_after__isnull=True, created_at__lte=cutoff) | Q(send_after__lte=now)
        )
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:500]
    )


@transaction.atomic
def customer_notification_choices_set(
    *, customer, email: bool, sms: bool, push: bool, actor, order=None
):
    """Record which channels the customer wants messages on; messages waiting on a channel turned off are skipped."""
    from orders.models import Customer

    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    wanted = {"notify_email": email, "notify_sms": sms, "notify_push": push}
    changed = [f for f, value in wanted.items() if getattr(customer, f) != value]
    if not changed:
        return customer
    for field, value in wanted.items():
        setattr(customer, field, value)
    customer.save(update_fields=changed)
    if order is not None:
        labels = dict(Notification.Channel.choices)
        state = ", ".join(
            f"{labels[channel]}: {_('on') if wanted[field] else _('off')}"
            for channel, field in OPT_IN_FIELD.items()
        )
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.NOTE,
            actor=actor,
            message=_("Messages to the customer: %(state)s") % {"state": state},
            data={"notifications": wanted},
        )
    return customer


# --- Staff's wording -------------------------------------------------------------


def template_sample_context(event: str, language: str) -> dict:
    """Return made-up values for every placeholder of ``event``: what a preview shows."""
    with translation.override(language):
        sample = {
            "shop_name": str(shop_name()),
            "number": "2611281234567",
            "name": str(_("Zhang San")),
            "status_url": f"{settings.SITE_URL}/track/?number=2611281234567",
            "carrier": str(_("SF Express")),
            "tracking_number": "SF1234567890",
            "problem": str(_("Delivery attempt failed")),
            "amount": "99.00",
            "rma": "R-1001",
            "detail": str(_("Blue mug × 1")),
            "note": str(_("The item has been used.")),
            "outcome": str(_("A refund is on its way.")),
        }
    return {name: sample.get(name, name) for name in event_placeholders(event)}


def _template_check(*, event, channel, language, body):
    from django.core.exceptions import ValidationError

    errors = {}
    if event not in EVENTS:
        errors["event"] = _("No such event.")
    if channel not in Notification.Channel.values:
        errors["channel"] = _("No such channel.")
    if language not in NotificationTemplate.Language.values:
        errors["language"] = _("No such language.")
    if not body.strip():
        errors["body"] = _("Write the message.")
    elif event in EVENTS:
        unknown = placeholders_unknown(event, body)
        if unknown:
            errors["body"] = _(
                "Unknown placeholders: %(unknown)s. This message may use: %(allowed)s."
            ) % {
                "unknown": ", ".join(f"{{{n}}}" for n in unknown),
                "allowed": ", ".join(f"{{{n}}}" for n in event_placeholders(event)),
            }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def notification_template_save(
    *,
    event: str,
    channel: str,
    language: str,
    subject: str,
    body: str,
    sms_template_code: str = "",
    actor,
) -> NotificationTemplate:
    """Store staff's wording of one event's message; raise ValidationError per field."""
    from django.core.exceptions import ValidationError

    _template_check(event=event, channel=channel, language=language, body=body)
    unknown = placeholders_unknown(event, subject)
    if unknown:
        raise ValidationError(
            {
                "subject": _("Unknown placeholders: %(unknown)s.")
                % {"unknown": ", ".join(f"{{{n}}}" for n in unknown)}
            }
        )
    row, _created = NotificationTemplate.objects.select_for_update().get_or_create(
        event=event,
        channel=channel,
        language=language,
        defaults={"body": body},
    )
    row.subject = subject.strip()
    row.body = body.strip()
    row.sms_template_code = sms_template_code.strip()
    row.updated_at = timezone.now()
    row.updated_by = actor if getattr(actor, "pk", None) else None
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def notification_template_reset(*, event: str, channel: str, language: str, actor):
    """Drop staff's wording: the message goes back to the shipped text."""
    NotificationTemplate.objects.filter(
        event=event, channel=channel, language=language
    ).delete()
