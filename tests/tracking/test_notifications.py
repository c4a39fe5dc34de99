from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone, translation

from orders.models import Order, OrderEvent
from orders.services import order_cancel
from tracking import tasks
from tracking.adapters.sms import SmsError
from tracking.models import Notification
from tracking.notifications import notification_queue_for_order, notification_send

S = Order.Status
FAILING_SMS = "tests.tracking.test_notifications.FailingSmsBackend"


class FailingSmsBackend:
    """A gateway that is down."""

    def send(self, *, phone, text, reference, **provider_fields):
        raise SmsError("gateway timeout")


@pytest.fixture
def order(place_order):
    return place_order()


def pending(order, template):
    return Notification.objects.filter(
        order=order, template=template, status=Notification.Status.PENDING
    )


def test_messages_are_stored_with_the_change_and_sent_after_commit(
    order, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_cancel(order=order, actor="customer")

    queued = Notification.objects.filter(order=order, template="order_cancelled")
    assert sorted(queued.values_list("channel", "status")) == [
        ("email", "pending"),
        ("sms", "pending"),
    ]
    assert sms_outbox == []

    for callback in callbacks:
        callback()

    assert set(queued.values_list("status", flat=True)) == {"sent"}
    assert [m["phone"] for m in sms_outbox] == ["+8613800138000"]
    assert [m.to for m in mail.outbox] == [["buyer@example.com"]]


def test_a_rolled_back_change_leaves_no_message(order):
    before = set(Notification.objects.values_list("pk", flat=True))

    with pytest.raises(RuntimeError), transaction.atomic():
        order_cancel(order=order, actor="customer")
        raise RuntimeError("the request failed after cancelling")

    assert set(Notification.objects.values_list("pk", flat=True)) == before
    order.refresh_from_db()
    assert order.status == S.AWAITING_PAYMENT


def test_one_event_never_queues_two_messages_on_one_channel(order):
    first = notification_queue_for_order(order=order, template="shipped", key="p1")
    again = notification_queue_for_order(order=order, template="shipped", key="p1")
    other = notification_queue_for_order(order=order, template="shipped", key="p2")

    assert sorted(n.channel for n in first) == ["email", "sms"]
    assert again == []
    assert len(other) == 2
    assert Notification.objects.filter(order=order, template="shipped").count() == 4


def test_a_new_order_queues_its_receipt_by_sms_and_email(order):
    received = Notification.objects.filter(order=order, template="order_received")

    assert sorted(received.values_list("channel", "recipient")) == [
        ("email", "buyer@example.com"),
        ("sms", "+8613800138000"),
    ]
    assert received.first().payload == {
        "number": order.number,
        "name": "张三",
        "status_url": f"http://127.0.0.1:8000/track/?number={order.number}",
    }


def test_sending_twice_sends_once(order, sms_outbox):
    sms, email = (
        pending(order, "order_received").get(channel=channel)
        for channel in ("sms", "email")
    )

    for notification in (sms, email, sms, email):
        notification_send(notification_id=notification.pk)
    tasks.notification_send.delay(sms.pk)

    assert [m["reference"] for m in sms_outbox] == [f"n{sms.pk}"]
    assert len(mail.outbox) == 1
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.provider_reference) == (
        Notification.Status.SENT,
        1,
        f"log-n{sms.pk}",
    )
    assert order.events.filter(kind=OrderEvent.Kind.NOTIFICATION).count() == 2


def test_the_message_is_written_in_the_customers_language(order, sms_outbox):
    sms = pending(order, "order_received").get(channel="sms")
    sms.language = "en"
    sms.save()

    with translation.override("zh-hans"):
        notification_send(notification_id=sms.pk)

    assert order.number in sms_outbox[0]["text"]
    assert "Our Shop" in sms_outbox[0]["text"]


def test_a_failing_gateway_records_the_failure_and_keeps_the_message(
    order, settings, sms_outbox
):
    settings.SMS_BACKEND = FAILING_SMS
    sms = pending(order, "order_received").get(channel="sms")

    with pytest.raises(SmsError):
        tasks.notification_send(sms.pk)

    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error) == (
        Notification.Status.PENDING,
        1,
        "SmsError: gateway timeout",
    )
    assert sms.sent_at is None
    assert not order.events.filter(kind=OrderEvent.Kind.NOTIFICATION).exists()


def test_a_message_is_given_up_after_the_last_attempt(order, settings):
    settings.SMS_BACKEND = FAILING_SMS
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    sms = pending(order, "order_received").get(channel="sms")

    for _attempt in range(2):
        with pytest.raises(SmsError):
            tasks.notification_send(sms.pk)

    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (Notification.Status.FAILED, 2)


def test_the_gateway_back_up_sends_a_message_that_failed_before(
    order, settings, sms_outbox
):
    settings.SMS_BACKEND = FAILING_SMS
    sms = pending(order, "order_received").get(channel="sms")
    with pytest.raises(SmsError):
        tasks.notification_send(sms.pk)

    settings.SMS_BACKEND = "tracking.adapters.sms.LogSmsBackend"
    tasks.notification_send(sms.pk)

    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error) == ("sent", 2, "")
    assert len(sms_outbox) == 1


def test_flush_sends_what_is_pending_past_the_retry_delay(order, settings, sms_outbox):
    settings.NOTIFICATION_RETRY_AFTER_SECONDS = 60
    stuck = pending(order, "order_received").get(channel="sms")
    Notification.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - timedelta(seconds=61)
    )
    fresh = pending(order, "order_received").get(channel="email")

    assert tasks.notifications_flush() == 1

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.status, fresh.status) == ("sent", "pending")
    assert [m["reference"] for m in sms_outbox] == [f"n{stuck.pk}"]
    assert tasks.notifications_flush() == 0


def test_flush_leaves_failed_and_sent_messages_alone(order, settings):
    settings.NOTIFICATION_RETRY_AFTER_SECONDS = 0
    Notification.objects.filter(channel="sms").update(status="failed")
    Notification.objects.filter(channel="email").update(status="sent")

    assert tasks.notifications_flush() == 0


def test_a_broker_outage_leaves_the_message_to_the_flush(
    order, celery_broker, django_capture_on_commit_callbacks
):
    celery_broker("redis://127.0.0.1:1/15")  # nothing listens there

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, actor="customer")

    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert set(
        Notification.objects.filter(
            order=order, template="order_cancelled"
        ).values_list("status", flat=True)
    ) == {"pending"}
