"""Alipay and WeChat Pay notifications: verified, applied once, odd ones held for review."""

import time
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Payment, PaymentNotification
from orders.models import Order
from orders.services import order_cancel
from tests.billing.payment_signing import (
    APIV3_KEY,
    alipay_notify,
    public_pem,
    rsa_key,
    wechat_body,
    wechat_headers,
)

S = Order.Status
PS = Order.PaymentStatus
O = PaymentNotification.Outcome  # noqa: E741

ALIPAY_URL = "/webhooks/payments/alipay/"
WECHAT_URL = "/webhooks/payments/wechatpay/"


@pytest.fixture(scope="module")
def provider_key():
    """The provider's private key (Alipay's or WeChat Pay's platform key)."""
    return rsa_key()


@pytest.fixture(autouse=True)
def provider_settings(settings, provider_key, client):
    # The reasons kept with a notification are compared in English below.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    settings.ALIPAY_APP_ID = "2021000000000001"
    settings.ALIPAY_PUBLIC_KEY = public_pem(provider_key)
    settings.WECHATPAY_PLATFORM_PUBLIC_KEY = public_pem(provider_key)
    settings.WECHATPAY_APIV3_KEY = APIV3_KEY
    settings.WECHATPAY_MCHID = "1900000001"


def post_alipay(client, params):
    return client.post(ALIPAY_URL, params)


def post_wechat(client, key, body, *, timestamp=None):
    headers = wechat_headers(key, body, timestamp=timestamp or int(time.time()))
    return client.post(WECHAT_URL, body, content_type="application/json", **headers)


# --- Alipay ----------------------------------------------------------------------


def test_alipay_paid_notification_pays_the_order(client, place_order, provider_key):
    order = place_order()

    response = post_alipay(client, alipay_notify(provider_key, order=order))

    assert (response.status_code, response.content) == (200, b"success")
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.READY_TO_FULFILL, PS.PAID)
    payment = Payment.objects.get()
    assert (payment.method, payment.amount, payment.provider_reference) == (
        "alipay",
        order.total,
        "2026112822001400000000000001",
    )
    notice = PaymentNotification.objects.get()
    assert (notice.verified, notice.outcome, notice.order, notice.payment) == (
        True,
        O.APPLIED,
        order,
        payment,
    )
    assert "trade_status=TRADE_SUCCESS" in notice.raw_payload


def test_alipay_tampered_notification_is_refused(client, place_order, provider_key):
    order = place_order()
    params = alipay_notify(provider_key, order=order)
    params["total_amount"] = "0.01"

    response = post_alipay(client, params)

    assert (response.status_code, response.content) == (400, b"fail")
    assert not Payment.objects.exists()
    notice = PaymentNotification.objects.get()
    assert (notice.verified, notice.outcome, notice.message) == (
        False,
        O.REJECTED,
        "Bad signature.",
    )
    order.refresh_from_db()
    assert order.status == S.AWAITING_PAYMENT


def test_alipay_notification_signed_by_another_key_is_refused(client, place_order):
    order = place_order()

    response = post_alipay(client, alipay_notify(rsa_key(), order=order))

    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_alipay_notification_for_another_app_is_refused(
    client, place_order, provider_key
):
    order = place_order()

    response = post_alipay(
        client, alipay_notify(provider_key, order=order, app_id="2021999999999999")
    )

    assert response.status_code == 400
    assert (
        PaymentNotification.objects.get().message
        == "The notification is for another app."
    )


def test_alipay_replayed_notification_is_applied_once(
    client, place_order, provider_key
):
    order = place_order()
    params = alipay_notify(provider_key, order=order)

    first = post_alipay(client, params)
    again = post_alipay(client, params)

    assert (first.content, again.content) == (b"success", b"success")
    assert Payment.objects.count() == 1
    assert PaymentNotification.objects.count() == 1
    order.refresh_from_db()
    assert order.payment_status == PS.PAID


def test_alipay_mismatched_amount_is_held_for_review(client, place_order, provider_key):
    order = place_order()

    response = post_alipay(
        client, alipay_notify(provider_key, order=order, amount="1.00")
    )

    assert response.content == b"success"
    payment = Payment.objects.get()
    assert (payment.status, payment.amount) == (Payment.Status.REVIEW, Decimal("1.00"))
    notice = PaymentNotification.objects.get()
    assert notice.outcome == O.REVIEW
    assert notice.message == f"Amount 1.00 does not match {order.total} owed."
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.AWAITING_PAYMENT, PS.UNPAID)


def test_alipay_waiting_notification_changes_nothing(client, place_order, provider_key):
    order = place_order()

    response = post_alipay(
        client, alipay_notify(provider_key, order=order, status="WAIT_BUYER_PAY")
    )

    assert response.content == b"success"
    assert not Payment.objects.exists()
    assert PaymentNotification.objects.get().outcome == O.IGNORED


def test_alipay_closed_trade_is_recorded_on_the_order(
    client, place_order, provider_key
):
    order = place_order()

    post_alipay(client, alipay_notify(provider_key, order=order, status="TRADE_CLOSED"))

    assert PaymentNotification.objects.get().outcome == O.CLOSED
    assert order.events.filter(message__contains="closed (TRADE_CLOSED)").exists()
    assert not Payment.objects.exists()


def test_alipay_payment_for_a_cancelled_order_is_held_for_review(
    client, place_order, provider_key
):
    order = place_order()
    order_cancel(order=order, actor="test")

    response = post_alipay(client, alipay_notify(provider_key, order=order))

    assert response.content == b"success"
    assert Payment.objects.get().status == Payment.Status.REVIEW
    assert PaymentNotification.objects.get().outcome == O.REVIEW
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.CANCELLED, PS.UNPAID)


def test_alipay_notification_for_an_unknown_order_is_kept(db, client, provider_key):
    class Unknown:
        number, total = "NOPE-1", Decimal("10.00")

    response = post_alipay(client, alipay_notify(provider_key, order=Unknown))

    assert response.content == b"success"
    assert PaymentNotification.objects.get().outcome == O.UNKNOWN_ORDER


def test_alipay_public_key_may_be_a_file(
    client, place_order, provider_key, settings, tmp_path
):
    path = tmp_path / "alipay_public.pem"
    path.write_text(public_pem(provider_key))
    settings.ALIPAY_PUBLIC_KEY = str(path)
    order = place_order()

    response = post_alipay(client, alipay_notify(provider_key, order=order))

    assert response.content == b"success"


# --- WeChat Pay ------------------------------------------------------------------


def test_wechat_paid_callback_pays_the_order(client, place_order, provider_key):
    order = place_order()

    response = post_wechat(client, provider_key, wechat_body(order=order))

    assert (response.status_code, response.json()) == (200, {"code": "SUCCESS"})
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.READY_TO_FULFILL, PS.PAID)
    payment = Payment.objects.get()
    assert (payment.method, payment.amount) == ("wechat", order.total)
    notice = PaymentNotification.objects.get()
    assert (notice.outcome, notice.trade_status) == (O.APPLIED, "SUCCESS")
    assert notice.headers["Serial"] == "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"


def test_wechat_tampered_body_is_refused(client, place_order, provider_key):
    order = place_order()
    body = wechat_body(order=order)
    headers = wechat_headers(provider_key, body, timestamp=int(time.time()))

    response = client.post(
        WECHAT_URL,
        body.replace("TRANSACTION.SUCCESS", "TRANSACTION.FORGED"),
        content_type="application/json",
        **headers,
    )

    assert (response.status_code, response.json()) == (
        400,
        {"code": "FAIL", "message": "Bad signature."},
    )
    assert not Payment.objects.exists()


def test_wechat_stale_timestamp_is_refused(client, place_order, provider_key):
    order = place_order()

    response = post_wechat(
        client,
        provider_key,
        wechat_body(order=order),
        timestamp=int(time.time()) - 301,
    )

    assert (response.status_code, response.json()) == (
        400,
        {"code": "FAIL", "message": "The timestamp is too far from now."},
    )
    assert not Payment.objects.exists()


def test_wechat_resource_under_another_key_is_refused(
    client, place_order, provider_key, settings
):
    order = place_order()
    settings.WECHATPAY_APIV3_KEY = "f" * 32

    response = post_wechat(client, provider_key, wechat_body(order=order))

    assert response.json() == {
        "code": "FAIL",
        "message": "The resource cannot be decrypted.",
    }


def test_wechat_replayed_callback_is_applied_once(client, place_order, provider_key):
    order = place_order()
    body = wechat_body(order=order)

    first = post_wechat(client, provider_key, body)
    again = post_wechat(client, provider_key, body)

    assert (first.status_code, again.status_code) == (200, 200)
    assert Payment.objects.count() == 1
    assert PaymentNotification.objects.count() == 1


def test_wechat_mismatched_amount_is_held_for_review(client, place_order, provider_key):
    order = place_order()

    response = post_wechat(client, provider_key, wechat_body(order=order, amount_fen=1))

    assert response.json() == {"code": "SUCCESS"}
    payment = Payment.objects.get()
    assert (payment.status, payment.amount) == (Payment.Status.REVIEW, Decimal("0.01"))
    order.refresh_from_db()
    assert order.payment_status == PS.UNPAID


def test_wechat_payment_for_a_cancelled_order_is_held_for_review(
    client, place_order, provider_key
):
    order = place_order()
    order_cancel(order=order, actor="test")

    post_wechat(client, provider_key, wechat_body(order=order))

    assert Payment.objects.get().status == Payment.Status.REVIEW
    assert PaymentNotification.objects.get().outcome == O.REVIEW


def test_webhooks_take_only_post(client):
    assert client.get(ALIPAY_URL).status_code == 405
    assert client.get(WECHAT_URL).status_code == 405
    assert reverse("payment_webhooks:wechatpay") == WECHAT_URL


# --- Garbage from a provider -------------------------------------------------------


def test_a_signed_notification_with_a_nul_character_is_refused_not_a_server_error(
    client, place_order, provider_key
):
    """PostgreSQL cannot store NUL: such a trade number once failed the payment's insert."""
    order = place_order()

    wechat = post_wechat(
        client, provider_key, wechat_body(order=order, transaction_id="42\x0000")
    )
    alipay = post_alipay(
        client, alipay_notify(provider_key, order=order, trade_no="20\x0026")
    )

    assert wechat.json() == {
        "code": "FAIL",
        "message": "The notification holds a NUL character.",
    }
    assert (alipay.status_code, alipay.content) == (400, b"fail")
    assert not Payment.objects.exists()
    assert PaymentNotification.objects.count() == 2
