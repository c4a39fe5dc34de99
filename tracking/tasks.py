"""Thin tasks: they take ids, call a service, and retry with backoff."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from tracking import notifications, outbound_webhooks, parcel_exceptions, services
from tracking.adapters.carriers import ProviderError
from tracking.webhook_models import WebhookDelivery

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(Exception,),
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def notification_send(self, notification_id: int):
    try:
        notifications.notification_send(notification_id=notification_id)
    except Exception as exc:
        permanent = getattr(exc, "permanent", False)
        notifications.notification_record_failure(
            notification_id=notification_id,
            error=f"{type(exc).__name__}: {exc}",
            permanent=permanent,
        )
        if permanent:  # a retry cannot succeed; the message is marked failed
            return
        raise


@shared_task
def notifications_flush():
    """Send what the broker may have lost: pending notifications past their first send time."""
    due = notifications.notifications_due()
    for notification_id in due:
        notification_send.delay(notification_id)
    return len(due)


@shared_task(
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=30,
    retry_backoff_max=900,
    max_retries=5,
)
def parcel_check_task(self, watch_id: int):
    """Poll one parcel's provider; errors are recorded on the watch, not raised."""
    services.parcel_check(watch_id=watch_id)


@shared_task
def tracking_poll_due():
    """Beat: hand the parcels due for a poll to workers, spaced for the providers' limits."""
    due = services.parcel_watches_claim(limit=settings.TRACKING_POLL_BATCH)
    for position, watch_id in enumerate(due):
        parcel_check_task.apply_async(
            (watch_id,), countdown=position * settings.TRACKING_POLL_SPACING_SECONDS
        )
    return len(due)


@shared_task(
    bind=True,
    autoretry_for=(ProviderError, OperationalError),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=6,
)
def parcel_subscribe_task(self, watch_id: int):
    services.parcel_subscribe(watch_id=watch_id)


@shared_task
def parcel_exceptions_detect_task():
    """Beat: flag late and lost parcels, clear the flags new scans answered."""
    result = parcel_exceptions.parcel_exceptions_detect()
    return {"checked": result.checked, "flagged": result.flagged}


@shared_task
def transit_standards_learn_task():
    """Beat: learn each route's transit-time standard from the shop's deliveries."""
    return parcel_exceptions.transit_standards_learn()


@shared_task(
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def webhook_deliver(self, delivery_id: int):
    """Send one outbound webhook delivery if it is due; a soon retry is queued here, later ones by the flush."""
    delivery = outbound_webhooks.webhook_delivery_send(delivery_id=delivery_id)
    if delivery is None or delivery.status != WebhookDelivery.Status.FAILED:
        return
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    if wait <= outbound_webhooks.TASK_REQUEUE_MAX_SECONDS:
        webhook_deliver.apply_async((delivery_id,), countdown=max(wait, 0))


@shared_task
def webhooks_flush():
    """Beat: send the webhook deliveries that are due (retries, and what the broker lost)."""
    due = outbound_webhooks.webhook_deliveries_due()
    for delivery_id in due:
        webhook_deliver.delay(delivery_id)
    return len(due)
