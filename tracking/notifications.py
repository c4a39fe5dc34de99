"""The notification outbox: messages are stored with the change that causes them, then sent.

Writing the row in the same transaction as the order change means a crash or a broker
outage cannot lose a message: the periodic flush sends whatever is still pending.
The unique dedupe key means one cause never makes two messages on one channel.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from config.context_processors import shop_name
from orders.events import order_event_record
from orders.models import OrderEvent
from orders.phones import phone_is_mobile
from tracking.adapters.sms import sms_backend
from tracking.models import Notification

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
}


def notification_queue_for_order(
    *, order, template: str, key: str = "", extra=None
) -> list:
    """Store the messages for this order event (SMS and email where possible) and send after commit.

    ``key`` tells apart events of the same kind on one order (e.g. each parcel shipped).
    """
    customer = order.customer
    recipients = []
    if order.recipient_phone and phone_is_mobile(order.recipient_phone):
        recipients.append((Notification.Channel.SMS, order.recipient_phone))
    if customer.email:
        recipients.append((Notification.Channel.EMAIL, customer.email))
    payload = {
        "number": order.number,
        "name": order.recipient_name,
        "status_url": order.status_url,
        **(extra or {}),
    }
    created = []
    for channel, recipient in recipients:
        dedupe_key = f"order-{order.pk}:{template}:{key}:{channel}"
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
                    )
                )
        except IntegrityError:
            continue  # already queued for this very event
    if created:
        from tracking.tasks import notification_send

        ids = [n.pk for n in created]
        # robust: a broker outage must not undo or fail the saved change; the
        # periodic flush sends what is still waiting in the outbox.
        transaction.on_commit(
            lambda: [notification_send.delay(i) for i in ids], robust=True
        )
    return created


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


def notification_render(notification: Notification) -> tuple[str, str]:
    """Return the subject and text of the message, in the customer's language."""
    with translation.override(notification.language):
        context = dict(notification.payload)
        subject = (
            str(SUBJECTS.get(notification.template, notification.template)) % context
        )
        text = render_to_string(
            f"tracking/notifications/{notification.template}.txt",
            {**context, "shop_name": shop_name(), "channel": notification.channel},
        ).strip()
    return subject, text


@transaction.atomic
def notification_send(*, notification_id: int) -> Notification | None:
    """Send one stored notification if it is still pending; safe to call twice.

    The row stays locked while the gateway is called, so a second worker holding the
    same task waits and then sees it sent.
    """
    notification = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.status != Notification.Status.PENDING:
        return notification
    notification.attempts += 1
    subject, text = notification_render(notification)
    reference = f"n{notification.pk}"
    if notification.channel == Notification.Channel.SMS:
        notification.provider_reference = sms_backend().send(
            phone=notification.recipient, text=text, reference=reference
        )
    else:
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [notification.recipient])
    notification.status = Notification.Status.SENT
    notification.sent_at = timezone.now()
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
def notification_record_failure(*, notification_id: int, error: str) -> Notification:
    """Note a failed attempt; after the last allowed attempt the message is marked failed."""
    notification = Notification.objects.select_for_update().get(pk=notification_id)
    notification.attempts += 1
    notification.last_error = error[:500]
    if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        notification.status = Notification.Status.FAILED
    notification.save(update_fields=["attempts", "last_error", "status"])
    return notification


def notifications_due(now=None) -> list[int]:
    """Return the ids of pending notifications whose first send should have happened by now."""
    cutoff = (now or timezone.now()) - timedelta(
        seconds=settings.NOTIFICATION_RETRY_AFTER_SECONDS
    )
    return list(
        Notification.objects.filter(
            status=Notification.Status.PENDING, created_at__lte=cutoff
        ).values_list("pk", flat=True)[:500]
    )
