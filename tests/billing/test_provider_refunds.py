"""Refunds paid back through Alipay and WeChat Pay, against a fake gateway on 127.0.0.1."""

import json
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from django.urls import reverse
from django.utils import translation

from billing.exceptions import RefundError
from billing.journal import ALIPAY, WECHAT
from billing.models import JournalEntry, Payment, Refund
from billing.provider_refunds import refund_provider_check, refund_provider_send
from billing.services import (
    payment_confirm,
    refund_approve,
    refund_mark_paid,
    refund_reject,
    refund_request,
)
from billing.tasks import provider_refund_check_task, provider_refunds_check_task
from orders.models import OrderEvent
from orders.roles import CUSTOMER_SERVICE, FINANCE
from tests.billing.payment_signing import rsa_key
from tests.billing.provider_gateway import (
    FakeGateway,
    gateway_settings,
)

D = Decimal
PS = Refund.ProviderState
ALIPAY_TRADE = "2026112822001400000000000001"
WECHAT_TRADE = "4200000000202611280000000001"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def keys():
    """Our app/merchant key and the provider's (Alipay's, WeChat Pay's platform) key."""
    return rsa_key(), rsa_key()


@pytest.fixture
def gateway(settings, keys):
    ours, providers = keys
    fake = FakeGateway(our_key=ours, provider_key=providers)
    gateway_settings(settings, url=fake.url, ours=ours, providers=providers, timeout=5)
    yield fake
    fake.close()


@pytest.fixture
def approved_refund(place_order, staff_user):
    """Return a function: an order of 2 × ¥128.00 paid in one payment, and an approved refund."""

    def make(method=Payment.Method.ALIPAY, amount="50.00", reference=None):
        order = place_order(quantity=2)
        payment_confirm(
            order=order,
            method=method,
            amount=D("256.00"),
            reference=reference
            if reference is not None
            else (ALIPAY_TRADE if method == Payment.Method.ALIPAY else WECHAT_TRADE),
            actor="test",
        )
        refund = refund_request(
            order=order,
            amount=D(amount),
            reason="破损",
            source=Refund.Source.GOODWILL,
            actor=staff_user,
        )
        return refund_approve(refund=refund, actor=staff_user)

    return make


def refund_entries(refund):
    return JournalEntry.objects.filter(kind="refund", source=f"refund:{refund.pk}")


def test_an_alipay_refund_is_signed_with_our_app_key_and_paid_with_a_journal_entry(
    gateway, approved_refund, staff_user
):
    refund = approved_refund()

    refund = refund_provider_send(refund=refund, actor=staff_user)

    (call,) = gateway.requests
    assert call["verified"] is True
    form = call["form"]
    assert (form["app_id"], form["method"], form["charset"], form["sign_type"]) == (
        "2021000000000001",
        "alipay.trade.refund",
        "utf-8",
        "RSA2",
    )
    assert (form["version"], form["format"]) == ("1.0", "JSON")
    assert call["biz"] == {
        "trade_no": ALIPAY_TRADE,
        "refund_amount": "50.00",
        "out_request_no": str(refund.pk),
        "refund_reason": "破损",
    }
    assert (refund.status, refund.provider_state, refund.provider_reference) == (
        Refund.Status.PAID,
        PS.REFUNDED,
        f"{ALIPAY_TRADE}:{refund.pk}",
    )
    assert refund.payment.provider_reference == ALIPAY_TRADE
    (entry,) = refund_entries(refund)
    assert sorted(
        (line.account.code, line.debit, line.credit) for line in entry.lines.all()
    ) == [(ALIPAY, D("0"), D("50.00")), ("6003", D("50.00"), D("0"))]


def test_a_wechat_partial_refund_is_sent_in_fen_signed_with_our_merchant_key(
    gateway, approved_refund, staff_user
):
    refund = approved_refund(method=Payment.Method.WECHAT, amount="12.34")

    refund = refund_provider_send(refund=refund, actor=staff_user)

    (call,) = gateway.requests
    assert call["verified"] is True
    assert call["body"] == {
        "transaction_id": WECHAT_TRADE,
        "out_refund_no": str(refund.pk),
        "amount": {"refund": 1234, "total": 25600, "currency": "CNY"},
        "reason": "破损",
    }
    assert (refund.status, refund.provider_reference) == (
        Refund.Status.PAID,
        f"5000000038201905270973{refund.pk}",
    )
    (entry,) = refund_entries(refund)
    assert {line.account.code for line in entry.lines.all()} == {WECHAT, "6003"}


@pytest.mark.parametrize("answer", ["tamper", "unsigned"])
@pytest.mark.parametrize("method", [Payment.Method.ALIPAY, Payment.Method.WECHAT])
def test_a_tampered_or_unsigned_answer_is_refused_and_nothing_is_marked_paid(
    gateway, approved_refund, staff_user, answer, method
):
    gateway.answer = answer
    refund = approved_refund(method=method)

    refund = refund_provider_send(refund=refund, actor=staff_user)

    provider = "Alipay" if method == Payment.Method.ALIPAY else "WeChat Pay"
    assert (refund.status, refund.provider_state, refund.provider_message) == (
        Refund.Status.APPROVED,
        PS.PROCESSING,
        f"{provider}'s answer is not signed by {provider}; nothing is recorded.",
    )
    assert refund.provider_reference == ""
    assert not refund_entries(refund).exists()


def test_wechat_processing_is_checked_by_the_task_and_paid_once(
    gateway, approved_refund, staff_user, django_capture_on_commit_callbacks
):
    gateway.answer = "processing"
    refund = approved_refund(method=Payment.Method.WECHAT)
    with django_capture_on_commit_callbacks() as queued:
        refund = refund_provider_send(refund=refund, actor=staff_user)
    assert (refund.status, refund.provider_state, refund.provider_message) == (
        Refund.Status.APPROVED,
        PS.PROCESSING,
        "PROCESSING",
    )
    assert len(queued) == 1  # the check, after the commit

    gateway.answer, gateway.wechat_query_status = "ok", "SUCCESS"
    queued[0]()  # the check task runs (eagerly in tests)
    provider_refund_check_task.delay(refund.pk)  # a repeat changes nothing
    provider_refunds_check_task.delay()

    refund.refresh_from_db()
    assert (refund.status, refund.provider_reference) == (
        Refund.Status.PAID,
        f"5000000038201905270973{refund.pk}",
    )
    assert [r["kind"] for r in gateway.requests] == ["refund", "query"]
    assert gateway.requests[1]["verified"] is True
    assert refund_entries(refund).count() == 1
    assert (
        OrderEvent.objects.filter(
            order=refund.order, data__refund=refund.pk, actor_label="provider:wechat"
        ).count()
        == 1
    )


def test_a_check_while_still_processing_asks_again_later(
    gateway, approved_refund, staff_user
):
    gateway.answer = "processing"
    refund = refund_provider_send(
        refund=approved_refund(method=Payment.Method.WECHAT), actor=staff_user
    )
    gateway.wechat_query_status = "PROCESSING"

    with pytest.raises(Exception) as caught:
        refund_provider_check(refund_id=refund.pk)
    refund_provider_check(refund_id=refund.pk, last_try=True)

    assert type(caught.value).__name__ == "RefundStillProcessing"
    refund.refresh_from_db()
    assert (refund.status, refund.provider_state) == (
        Refund.Status.APPROVED,
        PS.PROCESSING,
    )


@pytest.mark.parametrize("method", [Payment.Method.ALIPAY, Payment.Method.WECHAT])
def test_retrying_after_a_doubtful_answer_sends_the_same_refund_number_once_paid(
    gateway, approved_refund, staff_user, method
):
    gateway.answer = "tamper"  # the provider refunded, but its answer is not believed
    refund = refund_provider_send(
        refund=approved_refund(method=method), actor=staff_user
    )
    gateway.answer = "ok"

    refund = refund_provider_send(refund=refund, actor=staff_user)
    with pytest.raises(RefundError) as caught:
        refund_provider_send(refund=refund, actor=staff_user)

    assert str(caught.value) == "Only an approved refund can be paid back."
    assert refund.status == Refund.Status.PAID
    assert gateway.refund_posts(method) == [str(refund.pk), str(refund.pk)]
    assert gateway.refunds == {
        str(refund.pk): D("50.00") if method == Payment.Method.ALIPAY else 5000
    }
    assert refund_entries(refund).count() == 1


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        (
            Payment.Method.ALIPAY,
            "Alipay did not refund: ACQ.TRADE_HAS_FINISHED: 交易已完结",
        ),
        (
            Payment.Method.WECHAT,
            "WeChat Pay did not refund: NOT_ENOUGH: 基本账户余额不足",
        ),
    ],
)
def test_a_refused_refund_stays_approved_with_the_reason_and_can_be_paid_by_hand(
    gateway, approved_refund, staff_user, method, reason
):
    gateway.answer = "refuse"
    refund = approved_refund(method=method)

    with pytest.raises(RefundError) as caught:
        refund_provider_send(refund=refund, actor=staff_user)

    assert str(caught.value) == reason
    refund.refresh_from_db()
    assert (refund.status, refund.provider_state) == (
        Refund.Status.APPROVED,
        PS.FAILED,
    )
    assert not refund_entries(refund).exists()
    refund = refund_mark_paid(refund=refund, reference="BANK-778", actor=staff_user)
    assert (refund.status, refund.provider_reference) == (
        Refund.Status.PAID,
        "BANK-778",
    )
    assert refund_entries(refund).count() == 1


def test_a_refund_above_what_was_paid_is_still_refused(approved_refund):
    refund = approved_refund(amount="256.00")

    with pytest.raises(RefundError) as caught:
        refund_request(
            order=refund.order,
            amount=D("0.01"),
            reason="",
            source=Refund.Source.GOODWILL,
            actor="test",
        )

    assert str(caught.value) == (
        "At most ¥0.00 can be refunded: ¥256.00 paid, ¥256.00 already refunded"
        " or requested."
    )


def test_a_refund_the_provider_is_processing_cannot_be_rejected(
    gateway, approved_refund, staff_user
):
    gateway.answer = "processing"
    refund = refund_provider_send(
        refund=approved_refund(method=Payment.Method.WECHAT), actor=staff_user
    )

    with pytest.raises(RefundError) as caught:
        refund_reject(refund=refund, actor=staff_user, note="不退了")

    assert str(caught.value) == (
        "The payment provider is processing this refund; it cannot be rejected."
    )


def test_an_order_paid_in_two_payments_is_refunded_by_hand_only(
    client, gateway, place_order, member
):
    order = place_order(quantity=2)
    payment_confirm(
        order=order, method="alipay", amount=D("200.00"), reference="A1", actor="test"
    )
    payment_confirm(
        order=order, method="wechat", amount=D("56.00"), reference="W1", actor="test"
    )
    refund = refund_request(
        order=order, amount=D("230.00"), reason="", source="goodwill", actor="test"
    )
    refund = refund_approve(refund=refund, actor="test")
    client.force_login(member(FINANCE))

    page = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").text
    with pytest.raises(RefundError) as caught:
        refund_provider_send(refund=refund, actor="test")

    assert reverse("billing:refund_provider", args=[refund.pk]) not in page
    assert "Paid in several payments: a refund through Alipay or WeChat Pay is" in page
    assert reverse("billing:refund_paid", args=[refund.pk]) in page
    assert str(caught.value) == (
        "This order was paid in several payments: pay the refund back by hand and"
        " mark it paid."
    )
    assert gateway.requests == []


def test_a_bank_transfer_order_is_still_refunded_by_hand(
    client, gateway, approved_refund, member
):
    refund = approved_refund(method=Payment.Method.BANK_TRANSFER, reference="")
    client.force_login(member(FINANCE))

    page = client.get(refund.order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").text
    client.post(
        reverse("billing:refund_paid", args=[refund.pk]), {"reference": "BANK-1"}
    )

    assert reverse("billing:refund_provider", args=[refund.pk]) not in page
    assert "Paid in several payments" not in page
    refund.refresh_from_db()
    assert (refund.status, refund.provider_reference, refund.provider_state) == (
        Refund.Status.PAID,
        "BANK-1",
        PS.NONE,
    )
    assert gateway.requests == []


def test_finance_refunds_through_alipay_from_the_order_page(
    client, gateway, approved_refund, member
):
    refund = approved_refund()
    url = reverse("billing:refund_provider", args=[refund.pk])
    client.force_login(member(FINANCE))

    page = client.get(refund.order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").text
    response = client.post(url, HTTP_ACCEPT_LANGUAGE="en", follow=True)

    assert url in page and "Refund through Alipay" in page
    assert "Refund of ¥50.00 paid back through Alipay." in response.text
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PAID


def test_finance_sees_the_providers_refusal_on_the_order_page(
    client, gateway, approved_refund, member
):
    gateway.answer = "refuse"
    refund = approved_refund(method=Payment.Method.WECHAT)
    client.force_login(member(FINANCE))

    response = client.post(
        reverse("billing:refund_provider", args=[refund.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    assert (
        response.text.count("WeChat Pay did not refund: NOT_ENOUGH: 基本账户余额不足")
        == 2
    )
    assert reverse("billing:refund_paid", args=[refund.pk]) in response.text


def test_customer_service_cannot_refund_through_the_provider(
    client, gateway, approved_refund, member
):
    refund = approved_refund()
    client.force_login(member(CUSTOMER_SERVICE))

    response = client.post(reverse("billing:refund_provider", args=[refund.pk]))

    assert response.status_code == 403
    assert gateway.requests == []


def test_the_provider_button_needs_the_csrf_token(gateway, approved_refund, member):
    from django.test import Client

    refund = approved_refund()
    client = Client(enforce_csrf_checks=True)
    client.force_login(member(FINANCE))

    response = client.post(reverse("billing:refund_provider", args=[refund.pk]))

    assert response.status_code == 403
    assert gateway.requests == []


def test_the_alipay_answer_node_is_verified_as_sent_not_as_reserialised(gateway, keys):
    from billing.providers.alipay import alipay_response_node

    body = '{"alipay_trade_refund_response": {"code":"10000", "msg" : "Success"},"sign":"x"}'

    text, node, sign = alipay_response_node(body, "alipay_trade_refund_response")

    assert text == '{"code":"10000", "msg" : "Success"}'
    assert (node, sign) == ({"code": "10000", "msg": "Success"}, "x")
    assert json.loads(text) == node


def test_an_alipay_app_key_pasted_as_bare_base64_signs_as_well(
    settings, gateway, keys, approved_refund, staff_user
):
    import base64

    settings.ALIPAY_APP_PRIVATE_KEY = base64.b64encode(
        keys[0].private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1, as Alipay's tool
            serialization.NoEncryption(),
        )
    ).decode()

    refund = refund_provider_send(refund=approved_refund(), actor=staff_user)

    assert gateway.requests[0]["verified"] is True
    assert refund.status == Refund.Status.PAID


def test_without_our_private_key_nothing_is_sent_and_finance_is_told(
    settings, gateway, approved_refund, staff_user
):
    settings.ALIPAY_APP_PRIVATE_KEY = "not a key"
    refund = approved_refund()

    with pytest.raises(RefundError) as caught:
        refund_provider_send(refund=refund, actor=staff_user)

    assert str(caught.value) == (
        "Alipay did not refund: Alipay refunds are not configured (app id, a"
        " readable app private key)."
    )
    assert gateway.requests == []


def test_the_order_page_says_a_refund_is_processing_and_offers_no_reject(
    client, gateway, approved_refund, member, staff_user
):
    gateway.answer = "processing"
    refund = refund_provider_send(
        refund=approved_refund(method=Payment.Method.WECHAT), actor=staff_user
    )
    client.force_login(member(FINANCE))

    page = client.get(refund.order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").text

    assert "WeChat Pay has not confirmed this refund yet" in page
    assert reverse("billing:refund_reject", args=[refund.pk]) not in page
    assert reverse("billing:refund_provider", args=[refund.pk]) in page
