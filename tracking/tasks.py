"""Thin tasks: they take ids, call a service, and retry with backoff."""

import logging

from celery import shared_task

from tracking import notifications

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
        notifications.notification_record_failure(
            notification_id=notification_id, error=f"{type(exc).__name__}: {exc}"
        )
        raise


@shared_task
def notifications_flush():
    """Send what the broker may have lost: pending notifications past their first send time."""
    due = notifications.notifications_due()
    for notification_id in due:
        notification_send.delay(notification_id)
    return len(due)
