"""Quiet hours, opt-out, staff's wording, the Aliyun SMS adapter and the signed app push."""

import base64
import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils.translation import gettext

from orders.signing import signature_verify
from tracking import tasks
from tracking.adapters.sms import (
    AliyunSmsBackend,
    SmsError,
    SmsRejected,
    aliyun_signature,
)
from tracking.models import Notification, NotificationTemplate
from tracking.notifications import (
    customer_notification_choices_set,
    message_render,
    notification_queue_for_order,
    notification_send,
    notifications_due,
    placeholders_unknown,
    quiet_hours_end,
    template_default,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ALIYUN = "tracking.adapters.sms.AliyunSmsBackend"


def at(hour, minute=0, day=28):
    """Return a Shanghai wall-clock time on 2026-11-<day> (the controllable clock)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def quiet_hours(settings):
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    settings.SMS_QUIET_HOURS_TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def order(place_order):
    return place_order()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what is queued for after commit, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def queued(order, template, channel):
    return Notification.objects.get(order=order, template=template, channel=channel)


# --- Quiet hours -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "ends"),
    [
        (at(20, 59), None),
        (at(21, 0), at(8, 0, day=29)),
        (at(23, 30), at(8, 0, day=29)),
        (at(0, 15), at(8, 0)),
        (at(7, 59), at(8, 0)),
        (at(8, 0), None),
        (at(12, 0), None),
    ],
)
def test_quiet_hours_run_from_nine_in_the_evening_to_eight_in_the_morning(
    quiet_hours, now, ends
):
    assert quiet_hours_end(now) == ends


def test_quiet_hours_are_counted_in_shanghai_whatever_the_clock_zone(quiet_hours):
    assert quiet_hours_end(datetime(2026, 11, 28, 13, 30, tzinfo=UTC)) == at(
        8, 0, day=29
    )


def test_equal_start_and_end_turn_quiet_hours_off(settings):
    settings.SMS_QUIET_HOURS = "00:00-00:00"
    assert quiet_hours_end(at(23, 0)) is None


def test_an_sms_queued_at_night_waits_for_eight_and_is_then_sent(
    quiet_hours, order, sms_outbox, committed
):
    with committed():
        created = notification_queue_for_order(
            order=order, template="shipped", key="p1", now=at(22, 30)
        )
    sms = queued(order, "shipped", "sms")
    email = queued(order, "shipped", "email")

    assert {n.channel for n in created} == {"sms", "email"}
    assert sms.send_after == at(8, 0, day=29)
    assert email.send_after is None
    assert email.status == "sent"  # email is not held back
    assert sms.status == "pending" and sms_outbox == []

    assert sms.pk not in notifications_due(now=at(7, 59, day=29))
    notification_send(notification_id=sms.pk, now=at(7, 59, day=29))
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == ("pending", 0)

    assert sms.pk in notifications_due(now=at(8, 0, day=29))
    notification_send(notification_id=sms.pk, now=at(8, 0, day=29))
    sms.refresh_from_db()
    assert (sms.status, sms.sent_at) == ("sent", at(8, 0, day=29))
    assert [m["reference"] for m in sms_outbox] == [f"n{sms.pk}"]


def test_a_daytime_sms_retried_after_nine_is_held_not_dropped(
    quiet_hours, order, sms_outbox
):
    notification_queue_for_order(
        order=order, template="shipped", key="p1", now=at(20, 55)
    )
    sms = queued(order, "shipped", "sms")
    assert sms.send_after is None
    sms.status = "pending"
    sms.sent_at = None
    sms.save()
    sms_outbox.clear()

    notification_send(notification_id=sms.pk, now=at(21, 5))

    sms.refresh_from_db()
    assert (sms.status, sms.send_after) == ("pending", at(8, 0, day=29))
    assert sms_outbox == []


# --- Opting out --------------------------------------------------------------------


def test_a_customer_who_turned_sms_off_gets_only_email(order, sms_outbox):
    customer_notification_choices_set(
        customer=order.customer,
        email=True,
        sms=False,
        push=True,
        actor="customer",
        order=order,
    )
    order.customer.refresh_from_db()

    created = notification_queue_for_order(order=order, template="shipped", key="p")

    assert [n.channel for n in created] == ["email"]
    note = order.events.get(kind="note")
    assert note.data == {
        "notifications": {
            "notify_email": True,
            "notify_sms": False,
            "notify_push": True,
        }
    }


def test_a_message_waiting_on_a_channel_turned_off_is_skipped(
    quiet_hours, order, sms_outbox
):
    notification_queue_for_order(
        order=order, template="shipped", key="p1", now=at(22, 0)
    )
    sms = queued(order, "shipped", "sms")
    customer_notification_choices_set(
        customer=order.customer, email=True, sms=False, push=True, actor="customer"
    )

    notification_send(notification_id=sms.pk, now=at(8, 1, day=29))

    sms.refresh_from_db()
    assert (sms.status, sms.last_error) == (
        "skipped",
        gettext("The customer turned this channel off."),
    )
    assert sms_outbox == []
    assert sms.pk not in notifications_due(now=at(9, 0, day=29))


def test_turning_every_channel_off_queues_nothing(order):
    customer_notification_choices_set(
        customer=order.customer, email=False, sms=False, push=False, actor="customer"
    )
    order.customer.refresh_from_db()

    assert notification_queue_for_order(order=order, template="delivered") == []


# --- Staff's wording ----------------------------------------------------------------


def test_staffs_wording_replaces_the_file_and_fills_its_placeholders(
    order, sms_outbox, committed
):
    NotificationTemplate.objects.create(
        event="shipped",
        channel="sms",
        language="zh-hans",
        body="【{shop_name}】{name}，订单{number}已由{carrier}发出，单号{tracking_number}。",
    )
    with committed():
        notification_queue_for_order(
            order=order,
            template="shipped",
            key="p1",
            extra={"carrier": "顺丰", "tracking_number": "SF1"},
        )

    assert (
        sms_outbox[-1]["text"]
        == f"【本店】张三，订单{order.number}已由顺丰发出，单号SF1。"
    )
    email = mail.outbox[-1]
    assert "张三，订单" not in email.body, "the email still uses the file template"
    assert "SF1" in email.body


def test_placeholders_are_only_replaced_never_evaluated():
    subject, text = message_render(
        event="shipped",
        channel="email",
        language="en",
        context={"number": "N1", "carrier": "{number}", "tracking_number": "T"},
        row=NotificationTemplate(
            subject="{number} {{ settings.SECRET_KEY }}",
            body="{carrier} {tracking_number.__class__} {nope}",
        ),
    )
    assert subject == "N1 {{ settings.SECRET_KEY }}"
    assert text == "{number} {tracking_number.__class__} {nope}"


def test_unknown_placeholders_are_named_for_the_event():
    assert placeholders_unknown("delivered", "{number} {amount} {rma} {number}") == [
        "amount",
        "rma",
    ]
    assert placeholders_unknown("refund_paid", "{amount} {shop_name}") == []


def test_the_shipped_wording_becomes_an_editable_text_with_placeholders():
    subject, text = template_default(event="shipped", channel="sms", language="en")
    assert subject == "Order {number} is on its way"
    assert text == (
        "【{shop_name}】Order {number} has shipped with {carrier}, tracking number "
        "{tracking_number}. Follow it here: {status_url}"
    )


# --- Aliyun SMS --------------------------------------------------------------------


def test_aliyun_signature_matches_the_documented_example():
    # The worked example of Aliyun's RPC signature (HMAC-SHA1 over
    # "POST&%2F&" + the encoded sorted query, key = secret + "&"), recomputed here
    # step by step so the adapter's encoding of *, ~, space and UTF-8 is pinned.
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "PhoneNumbers": "13800138000",
        "SignName": "小店",
        "TemplateParam": '{"number": "A 1*~"}',
    }
    canonical = "&".join(
        f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(params.items())
    )
    assert "%20" in canonical and "%2A" in canonical and "~" in canonical
    assert "%E5%B0%8F%E5%BA%97" in canonical
    to_sign = "POST&%2F&" + quote(canonical, safe="~")
    expected = base64.b64encode(
        hmac.new(b"testSecret&", to_sign.encode(), hashlib.sha1).digest()
    ).decode()

    assert aliyun_signature(params=params, secret="testSecret") == expected


class FakeAliyun(BaseHTTPRequestHandler):
    """Aliyun's SendSms on loopback: checks the signature as Aliyun does and answers like it."""

    secret = "aliyun-secret"
    received: list[dict] = []
    reply = {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"}

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        fields = dict(parse_qsl(body, keep_blank_values=True))
        signature = fields.pop("Signature", "")
        ok = signature == aliyun_signature(params=fields, secret=self.secret)
        FakeAliyun.received.append(fields)
        reply = (
            FakeAliyun.reply
            if ok
            else {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched",
            }
        )
        data = json.dumps(reply).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def aliyun(settings, loopback_server):
    FakeAliyun.received = []
    FakeAliyun.reply = {"Code": "OK", "Message": "OK", "BizId": "9006197469^0"}
    settings.SMS_BACKEND = ALIYUN
    settings.ALIYUN_SMS_ENDPOINT = loopback_server(FakeAliyun) + "/"
    settings.ALIYUN_SMS_ACCESS_KEY_ID = "LTAI-test"
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = FakeAliyun.secret
    settings.ALIYUN_SMS_SIGN_NAME = "小店"
    return FakeAliyun


def test_an_sms_goes_to_aliyun_signed_with_its_approved_template(
    order, aliyun, committed
):
    NotificationTemplate.objects.create(
        event="delivered",
        channel="sms",
        language="zh-hans",
        body="订单{number}已签收，单号{tracking_number}。",
        sms_template_code="SMS_154950909",
    )
    with committed():
        notification_queue_for_order(
            order=order,
            template="delivered",
            key="p1",
            extra={"tracking_number": "SF9"},
        )

    sms = queued(order, "delivered", "sms")
    assert (sms.status, sms.provider_reference) == ("sent", "9006197469^0")
    [call] = aliyun.received
    assert {k: call[k] for k in ("Action", "Version", "SignatureMethod")} == {
        "Action": "SendSms",
        "Version": "2017-05-25",
        "SignatureMethod": "HMAC-SHA1",
    }
    assert call["PhoneNumbers"] == "13800138000"
    assert call["SignName"] == "小店"
    assert call["TemplateCode"] == "SMS_154950909"
    assert json.loads(call["TemplateParam"]) == {
        "number": order.number,
        "tracking_number": "SF9",
    }
    assert call["OutId"] == f"n{sms.pk}"


def test_aliyun_frequency_limits_are_retried(order, aliyun):
    aliyun.reply = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}
    backend = AliyunSmsBackend()

    with pytest.raises(SmsError) as raised:
        backend.send(
            phone="+8613800138000", text="x", reference="n1", template_code="SMS_1"
        )
    assert not raised.value.permanent
    assert str(raised.value) == "Aliyun isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控"


def test_a_wrong_aliyun_secret_fails_the_message_without_retrying(
    order, aliyun, settings, committed
):
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "wrong"
    NotificationTemplate.objects.create(
        event="shipped",
        channel="sms",
        language="zh-hans",
        body="{number}",
        sms_template_code="SMS_1",
    )
    with committed():
        notification_queue_for_order(order=order, template="shipped", key="p1")

    sms = queued(order, "shipped", "sms")
    assert (sms.status, sms.attempts) == ("failed", 1)
    assert sms.last_error == (
        "SmsRejected: Aliyun SignatureDoesNotMatch: Specified signature is not matched"
    )


def test_an_sms_with_no_aliyun_template_code_is_refused(order, aliyun):
    with pytest.raises(SmsRejected, match="no Aliyun template code"):
        AliyunSmsBackend().send(phone="13800138000", text="x", reference="n1")
    assert aliyun.received == []


# --- App push -----------------------------------------------------------------------


class FakeAppBackend(BaseHTTPRequestHandler):
    """The shop's app backend: verifies the signature and keeps each message id once."""

    secret = "app-secret"
    delivered: dict[str, dict] = {}
    attempts: list[str] = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            signature_verify(
                header=self.headers.get("X-Signature", ""),
                body=body,
                secret=self.secret,
                tolerance=300,
            )
        except Exception:
            self.send_response(401)
            self.end_headers()
            return
        message = json.loads(body)
        with self.lock:
            FakeAppBackend.attempts.append(message["id"])
            FakeAppBackend.delivered.setdefault(
                self.headers["Idempotency-Key"], message
            )
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def app_backend(loopback_server, channel):
    FakeAppBackend.delivered = {}
    FakeAppBackend.attempts = []
    channel.push_url = loopback_server(FakeAppBackend) + "/push"
    channel.push_secret = FakeAppBackend.secret
    channel.save()
    return FakeAppBackend


def test_app_push_is_a_signed_webhook_the_app_backend_verifies(
    app_backend, place_order, committed
):
    with committed():
        order = place_order()

    push = queued(order, "order_received", "push")
    assert (push.status, push.recipient) == ("sent", "+8613800138000")
    message = app_backend.delivered[f"n{push.pk}"]
    assert message == {
        "id": f"n{push.pk}",
        "event": "order_received",
        "order_number": order.number,
        "customer": "+8613800138000",
        "title": f"我们已收到您的订单 {order.number}",
        "text": message["text"],
        "url": f"http://127.0.0.1:8000/track/?number={order.number}",
    }
    assert order.number in message["text"]


def test_a_push_signed_with_another_secret_is_refused_and_retried(
    app_backend, place_order, channel, committed
):
    channel.push_secret = "not-the-apps-secret"
    channel.save()

    with committed():  # the failure is kept on the message, not raised
        place_order()

    push = Notification.objects.get(template="order_received", channel="push")
    assert (push.status, push.attempts) == ("pending", 1)
    assert push.last_error == "PushError: app backend answered HTTP 401"
    assert app_backend.delivered == {}


def test_a_push_sent_again_is_delivered_once(app_backend, place_order, committed):
    with committed():
        order = place_order()
    push = queued(order, "order_received", "push")
    Notification.objects.filter(pk=push.pk).update(status="pending")

    tasks.notification_send(push.pk)

    assert app_backend.attempts == [f"n{push.pk}", f"n{push.pk}"]
    assert list(app_backend.delivered) == [f"n{push.pk}"]


def test_a_channel_without_an_app_backend_gets_no_push(place_order):
    order = place_order()
    assert not Notification.objects.filter(order=order, channel="push").exists()
