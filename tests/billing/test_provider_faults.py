"""Alipay and WeChat Pay answering slowly, with errors or with garbage, then recovering.

Refunds: two approved refunds are sent through the real service against the fake
gateway of ``provider_gateway`` made to misbehave; for the first the provider pays
the money back before its answer goes wrong (the dangerous case: money moved, answer
lost), for the other it fails before paying. The check task asks again while the
provider still fails, then after it recovered; finance sends again what the provider
never had. Afterwards: each refund number paid back once at the provider, the
requests it received counted, each refund paid with one journal entry, one
"refunded" message per channel, the order's events and stock exactly as expected.

Notifications: a run of garbage, unsigned and wrongly signed payment notifications,
then the genuine one and its replay: each bad one kept as a rejection, the payment
applied once.
"""

import json
import threading
import time
from decimal import Decimal

import pytest
from django.db.models import Count
from django.utils import translation

from billing.exceptions import RefundError
from billing.models import JournalEntry, Payment, PaymentNotification, Refund
from billing.provider_refunds import refund_provider_check, refund_provider_send
from billing.providers import RefundUnanswered
from billing.selectors import refunds_provider_processing
from billing.services import (
    payment_confirm,
    refund_approve,
    refund_reject,
    refund_request,
)
from billing.tasks import provider_refund_check_task, provider_refunds_check_task
from inventory.models import StockMovement
from orders.models import Order, OrderEvent
from tests.billing.payment_signing import (
    APIV3_KEY,
    alipay_notify,
    public_pem,
    rsa_key,
    rsa_sign,
    wechat_body,
    wechat_headers,
)
from tests.billing.provider_gateway import (
    MCHID,
    FakeGateway,
    gateway_settings,
)
from tracking.models import Notification

D = Decimal
PS = Refund.ProviderState
TIMEOUT = 0.3  # seconds; a slow answer comes after we gave up
CHANNELS = 2  # SMS and email
TRADE = {"alipay": "2026112822001400000000000001", "wechat": "4200000000202611280000"}
AMOUNTS = ["12.34", "256.00"]  # the second is the whole order
MOVED = [True, False]  # whether the provider paid before its answer went wrong


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def keys():
    """Our app/merchant key, the provider's key, and a key that is neither."""
    return rsa_key(), rsa_key(), rsa_key()


class FaultyGateway(FakeGateway):
    """The fake gateway, answering ``fault`` to the calls of the kinds in ``faulty``.

    ``moves`` holds the refund numbers the provider pays before its answer goes
    wrong; for the others a fault comes before the provider has done anything.
    ``payouts`` lists each time money went back (a number paid twice shows twice).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fault, self.faulty, self.moves = "", {"refund", "query"}, set()
        self.payouts = []
        self.release = threading.Event()
        self.stranger_key = None

    def alipay(self, form):
        biz = json.loads(form.get("biz_content") or "{}")
        refund_no = biz.get("out_request_no", "")
        kind = "refund" if form.get("method") == "alipay.trade.refund" else "query"
        if self.fault == "limited" and kind in self.faulty:
            # Genuinely signed: our app may not use this call (now).
            name = form["method"].replace(".", "_") + "_response"
            node = json.dumps(
                {
                    "code": "40006",
                    "msg": "Insufficient Permissions",
                    "sub_code": "isv.insufficient-isv-permissions",
                    "sub_msg": "ISV权限不足",
                },
                ensure_ascii=False,
            )
            sign = rsa_sign(self.provider_key, node)
            return 200, {}, f'{{"{name}":{node},"sign":"{sign}"}}'
        return self._faulty(
            kind, refund_no, lambda: super(FaultyGateway, self).alipay(form)
        )

    def wechat(self, method, path, body, authorization):
        data = json.loads(body) if body else {}
        refund_no = data.get("out_refund_no") or path.rsplit("/", 1)[-1]
        kind = "refund" if method == "POST" else "query"
        if self.fault == "limited" and kind in self.faulty:
            return self._wechat_answer(
                429, {"code": "FREQUENCY_LIMITED", "message": "频率超限"}
            )
        return self._faulty(
            kind,
            refund_no,
            lambda: super(FaultyGateway, self).wechat(
                method, path, body, authorization
            ),
        )

    def _faulty(self, kind, refund_no, answer):
        fault = self.fault if kind in self.faulty else ""
        before = set(self.refunds)
        if fault and kind == "refund" and refund_no not in self.moves:
            # The provider fails before it pays: it answers, but keeps nothing.
            status, headers, text = answer()
            self.refunds = {k: v for k, v in self.refunds.items() if k in before}
        else:
            status, headers, text = answer()
            self.payouts += [n for n in self.refunds if n not in before]
        if fault == "slow":
            self.release.wait(TIMEOUT * 5)
        elif fault in ("500", "502"):
            return int(fault), {"Content-Type": "text/html"}, "<html>Bad Gateway</html>"
        elif fault == "html":
            return (
                200,
                {"Content-Type": "text/html"},
                "<html><body>维护中</body></html>",
            )
        elif fault == "truncated":
            return status, headers, text[: len(text) // 2]
        elif fault == "list":
            return status, headers, "[" + text + "]"
        elif fault == "deep":
            return status, headers, "[" * 100_000
        elif fault == "unsigned":
            headers = {k: v for k, v in headers.items() if k != "Wechatpay-Signature"}
            return status, headers, text.replace(',"sign":', ',"sig":')
        elif fault == "wrong_signature":
            return self._signed_by(self.stranger_key, status, headers, text)
        return status, headers, text

    def _signed_by(self, key, status, headers, text):
        if "Wechatpay-Signature" in headers:
            message = f"{headers['Wechatpay-Timestamp']}\n{headers['Wechatpay-Nonce']}\n{text}\n"
            return (
                status,
                {**headers, "Wechatpay-Signature": rsa_sign(key, message)},
                text,
            )
        node = json.loads(text)
        name = next(k for k in node if k != "sign")
        inner = json.dumps(node[name], ensure_ascii=False)
        body = f'{{"{name}":{inner},"sign":"{rsa_sign(key, inner)}"}}'
        return status, headers, body


@pytest.fixture
def gateway(settings, keys):
    ours, providers, stranger = keys
    fake = FaultyGateway(our_key=ours, provider_key=providers)
    fake.stranger_key = stranger
    gateway_settings(
        settings, url=fake.url, ours=ours, providers=providers, timeout=TIMEOUT
    )
    yield fake
    fake.release.set()
    fake.close()


@pytest.fixture
def approved_refunds(place_order, staff_user, django_capture_on_commit_callbacks):
    """Return a function: one order of 2 × ¥128.00 per amount, each paid in one
    payment through ``method``, each with an approved goodwill refund."""

    def make(method):
        refunds = []
        with django_capture_on_commit_callbacks(execute=True):
            for n, amount in enumerate(AMOUNTS):
                order = place_order(quantity=2)
                payment_confirm(
                    order=order,
                    method=method,
                    amount=D("256.00"),
                    reference=f"{TRADE[method]}{n}",
                    actor="test",
                )
                refund = refund_request(
                    order=order,
                    amount=D(amount),
                    reason="破损",
                    source=Refund.Source.GOODWILL,
                    actor=staff_user,
                )
                refunds.append(refund_approve(refund=refund, actor=staff_user))
        return refunds

    return make


def counts():
    return {
        "orders": Order.objects.count(),
        "movements": StockMovement.objects.count(),
        "payments": Payment.objects.count(),
        "journal": JournalEntry.objects.count(),
        "notifications": Notification.objects.count(),
        "order_events": OrderEvent.objects.count(),
    }


FAULTS = [
    "slow",
    "500",
    "502",
    "html",
    "truncated",
    "list",
    "deep",
    "unsigned",
    "wrong_signature",
]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("method", ["alipay", "wechat"])
def test_a_refund_through_a_failing_provider_is_paid_back_once_after_it_recovers(
    method,
    fault,
    gateway,
    approved_refunds,
    staff_user,
    sms_outbox,
    django_capture_on_commit_callbacks,
):
    refunds = approved_refunds(method)
    numbers = [str(r.pk) for r in refunds]
    gateway.moves = {n for n, moved in zip(numbers, MOVED, strict=True) if moved}
    before = counts()

    # 1. The provider fails: no refund is paid, each stays processing, a check is
    # queued for each and the periodic check would find each.
    gateway.fault = fault
    with django_capture_on_commit_callbacks() as checks:
        sent = [refund_provider_send(refund=r, actor=staff_user) for r in refunds]
    assert [(r.status, r.provider_state) for r in sent] == [
        (Refund.Status.APPROVED, PS.PROCESSING)
    ] * len(refunds)
    assert sorted(refunds_provider_processing()) == sorted(r.pk for r in refunds)
    assert len(checks) == len(refunds)
    assert gateway.refund_posts(method) == numbers
    assert sorted(gateway.payouts) == sorted(gateway.moves)
    assert counts() == {
        **before,
        "order_events": before["order_events"] + len(refunds),
    }

    # 2. The check task asks while the provider still fails: a refund it paid is
    # asked about again later; one it never had may already be shown as refused
    # (WeChat Pay's 404 is believed, signed or not: it moves no money).
    for refund in refunds:
        try:
            refund_provider_check(refund_id=refund.pk)
        except RefundUnanswered:
            continue
        assert str(refund.pk) not in gateway.moves, fault
        refund.refresh_from_db()
        assert (refund.status, refund.provider_state) == (
            Refund.Status.APPROVED,
            PS.FAILED,
        )
    assert set(refunds_provider_processing()) >= {
        r.pk for r in refunds if str(r.pk) in gateway.moves
    }
    assert sorted(gateway.payouts) == sorted(gateway.moves)

    # 3. The provider recovers; the queued checks run. What it paid is marked paid;
    # what it never had is shown as refused, and finance sends it again.
    gateway.fault = ""
    gateway.release.set()
    with django_capture_on_commit_callbacks(execute=True):
        for check in checks:
            check()  # one already answered refused returns at once
        never_had = Refund.objects.filter(provider_state=PS.FAILED)
        assert sorted(str(r.pk) for r in never_had) == sorted(
            set(numbers) - gateway.moves
        )
        for refund in never_had:
            refund_provider_send(refund=refund, actor=staff_user)
        # Repeats change nothing: the periodic check, a check task, the button.
        provider_refunds_check_task.delay()
        for refund in refunds:
            provider_refund_check_task.delay(refund.pk)
    assert refunds_provider_processing() == []
    for refund in refunds:
        with pytest.raises(RefundError):
            refund_provider_send(refund=refund, actor=staff_user)

    # Exactly: each refund number paid back once, each refund paid with one entry.
    assert sorted(gateway.payouts) == sorted(numbers)
    assert sorted(gateway.refund_posts(method)) == sorted(
        numbers + [n for n in numbers if n not in gateway.moves]
    )
    for refund, amount in zip(refunds, AMOUNTS, strict=True):
        refund.refresh_from_db()
        assert (refund.status, refund.provider_state, refund.amount) == (
            Refund.Status.PAID,
            PS.REFUNDED,
            D(amount),
        )
        assert (
            JournalEntry.objects.filter(
                kind="refund", source=f"refund:{refund.pk}"
            ).count()
            == 1
        )
        events = OrderEvent.objects.filter(order=refund.order, data__refund=refund.pk)
        assert events.filter(data__refund_status="paid").count() == 1
        # requested, approved, sent but not confirmed, (refused,) paid
        assert events.count() == (4 if str(refund.pk) in gateway.moves else 5)
    paid_orders = Order.objects.filter(pk__in=[r.order_id for r in refunds])
    assert sorted(paid_orders.values_list("payment_status", flat=True)) == sorted(
        [Order.PaymentStatus.PAID, Order.PaymentStatus.REFUNDED]
    )
    assert (
        OrderEvent.objects.filter(message="Everything paid has been refunded.").count()
        == 1
    )
    refunded_messages = Notification.objects.filter(template="refund_paid")
    assert refunded_messages.count() == len(refunds) * CHANNELS
    assert set(refunded_messages.values_list("status", flat=True)) == {
        Notification.Status.SENT
    }
    after = counts()
    assert {k: after[k] for k in ("orders", "movements", "payments")} == {
        k: before[k] for k in ("orders", "movements", "payments")
    }
    assert after["journal"] == before["journal"] + len(refunds)
    assert after["notifications"] == before["notifications"] + len(refunds) * CHANNELS


@pytest.mark.parametrize("method", ["alipay", "wechat"])
def test_a_check_the_provider_refuses_to_answer_is_no_refusal_of_the_refund(
    method, gateway, approved_refunds, staff_user, django_capture_on_commit_callbacks
):
    """A rate limit (WeChat Pay's 429) or a permission error on the query says
    nothing of a refund the provider may have paid: taken for a refusal, finance
    would be invited to pay it again by hand."""
    refund = approved_refunds(method)[0]
    gateway.moves = {str(refund.pk)}
    gateway.fault = "slow"  # paid, but the answer came too late
    with django_capture_on_commit_callbacks() as checks:
        refund = refund_provider_send(refund=refund, actor=staff_user)
    gateway.release.set()
    gateway.fault, gateway.faulty = "limited", {"query"}

    with pytest.raises(RefundUnanswered):
        refund_provider_check(refund_id=refund.pk)

    refund.refresh_from_db()
    assert (refund.status, refund.provider_state) == (
        Refund.Status.APPROVED,
        PS.PROCESSING,
    )
    with pytest.raises(RefundError):
        refund_reject(refund=refund, actor=staff_user, note="再说")
    gateway.fault = ""
    with django_capture_on_commit_callbacks(execute=True):
        checks[0]()
    refund.refresh_from_db()
    assert (refund.status, refund.provider_state) == (Refund.Status.PAID, PS.REFUNDED)
    assert gateway.payouts == [str(refund.pk)]
    assert gateway.refund_posts(method) == [str(refund.pk)]
    assert JournalEntry.objects.filter(source=f"refund:{refund.pk}").count() == 1


@pytest.mark.parametrize("method", ["alipay", "wechat"])
def test_a_refund_left_sending_by_a_dead_process_is_found_by_the_periodic_check(
    method, gateway, approved_refunds, staff_user, django_capture_on_commit_callbacks
):
    """The process died between the call and recording its answer (a worker
    killed, a web request past its timeout): for one refund the provider had paid,
    for the other the request never left. The first is marked paid once; the other
    stays sending, for finance to send again, never shown refused while a send
    may be under way."""
    paid, lost = approved_refunds(method)[:2]
    for refund in (paid, lost):
        refund.payment = Payment.objects.get(order=refund.order)
        refund.provider_state = PS.SENDING
        refund.save(update_fields=["payment", "provider_state"])
    gateway.refunds[str(paid.pk)] = (
        paid.amount if method == "alipay" else int(paid.amount * 100)
    )
    gateway.payouts.append(str(paid.pk))

    with django_capture_on_commit_callbacks(execute=True):
        assert provider_refunds_check_task.delay().get() == 2
        provider_refunds_check_task.delay()  # again: nothing more

    paid.refresh_from_db()
    lost.refresh_from_db()
    assert (paid.status, paid.provider_state) == (Refund.Status.PAID, PS.REFUNDED)
    assert (lost.status, lost.provider_state) == (Refund.Status.APPROVED, PS.SENDING)
    assert refunds_provider_processing() == [lost.pk]
    with django_capture_on_commit_callbacks(execute=True):
        lost = refund_provider_send(refund=lost, actor=staff_user)
    assert lost.status == Refund.Status.PAID
    assert sorted(gateway.payouts) == sorted([str(paid.pk), str(lost.pk)])
    assert gateway.refund_posts(method) == [str(lost.pk)]
    for refund in (paid, lost):
        assert JournalEntry.objects.filter(source=f"refund:{refund.pk}").count() == 1
        assert (
            Notification.objects.filter(
                template="refund_paid", payload__amount=str(refund.amount)
            ).count()
            == CHANNELS
        )


# --- Payment notifications --------------------------------------------------------

ALIPAY_URL = "/webhooks/payments/alipay/"
WECHAT_URL = "/webhooks/payments/wechatpay/"


@pytest.fixture
def notification_keys(settings, keys):
    _ours, providers, _stranger = keys
    settings.ALIPAY_APP_ID = "2021000000000001"
    settings.ALIPAY_PUBLIC_KEY = public_pem(providers)
    settings.WECHATPAY_PLATFORM_PUBLIC_KEY = public_pem(providers)
    settings.WECHATPAY_APIV3_KEY = APIV3_KEY
    settings.WECHATPAY_MCHID = MCHID
    return keys


def alipay_posts(client, order, keys):
    """The garbage, unsigned and wrongly signed notifications, then the genuine one twice."""
    _ours, providers, stranger = keys
    good = alipay_notify(providers, order=order)
    unsigned = {k: v for k, v in good.items() if k != "sign"}
    return [
        lambda: client.post(
            ALIPAY_URL, b"\x00\xff<html>garbage", content_type="text/html"
        ),
        lambda: client.post(ALIPAY_URL, "[" * 100_000, content_type="application/json"),
        lambda: client.post(ALIPAY_URL, unsigned),
        lambda: client.post(ALIPAY_URL, {**good, "sign": "bm90IGEgc2lnbmF0dXJl"}),
        lambda: client.post(ALIPAY_URL, alipay_notify(stranger, order=order)),
        lambda: client.post(ALIPAY_URL, {**good, "total_amount": "0.01"}),
    ], [lambda: client.post(ALIPAY_URL, good)] * 2


def wechat_posts(client, order, keys):
    _ours, providers, stranger = keys
    body = wechat_body(order=order)
    now = int(time.time())

    def post(text, key=providers, **extra):
        headers = wechat_headers(key, text, timestamp=now)
        return client.post(
            WECHAT_URL, text, content_type="application/json", **{**headers, **extra}
        )

    return [
        lambda: post("<html>garbage</html>"),
        lambda: post("[" * 100_000),
        lambda: post(body, HTTP_WECHATPAY_SIGNATURE=""),
        lambda: post(body, key=stranger),
        lambda: post(
            body.replace('"nonce": "', '"nonce": "x')
        ),  # signed, undecryptable
        lambda: post(json.dumps({"resource": "not an object"})),
    ], [lambda: post(body)] * 2


@pytest.mark.parametrize("provider", ["alipay", "wechat"])
def test_garbage_notifications_are_kept_as_rejections_and_the_genuine_one_applied_once(
    provider, client, notification_keys, place_order, django_capture_on_commit_callbacks
):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    order = place_order(quantity=2)
    bad, genuine = (alipay_posts if provider == "alipay" else wechat_posts)(
        client, order, notification_keys
    )
    before = counts()

    answers = [send().status_code for send in bad]
    assert answers == [400] * len(bad)
    assert counts() == before
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.UNPAID
    with django_capture_on_commit_callbacks(execute=True):
        first = genuine[0]()
    applied = counts()
    with django_capture_on_commit_callbacks(execute=True):
        again = genuine[1]()

    assert (first.status_code, again.status_code) == (200, 200)
    assert counts() == applied  # the replay changed nothing
    kept = dict(
        PaymentNotification.objects.values_list("outcome").annotate(n=Count("id"))
    )
    assert kept == {
        PaymentNotification.Outcome.REJECTED: len(bad),
        PaymentNotification.Outcome.APPLIED: 1,
    }
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.amount) == (Payment.Status.CONFIRMED, order.total)
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.PAID
    assert Notification.objects.filter(template="payment_received").count() == CHANNELS
    after = counts()
    assert after["payments"] == before["payments"] + 1
    assert after["journal"] == before["journal"] + 1  # the payment, booked once
    # A prepaid order's stock is reserved when its payment lands: once.
    assert after["movements"] == before["movements"] + 1
    assert after["orders"] == before["orders"]
