"""Alipay: the asynchronous notification (异步通知), a form POST signed RSA2; refunds
through the OpenAPI gateway (alipay.trade.refund, alipay.trade.fastpay.refund.query)."""

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _

from billing.providers import (
    CLOSED,
    OTHER,
    PAID,
    PENDING,
    REFUND_FAILED,
    REFUND_PROCESSING,
    REFUNDED,
    NotificationRejected,
    PaymentProvider,
    ProviderNotification,
    ProviderRefund,
    ProviderRefundResult,
    RefundUnanswered,
    load_private_key,
    load_public_key,
    rsa_sha256_sign,
    rsa_sha256_valid,
)

MEANING = {
    "TRADE_SUCCESS": PAID,
    "TRADE_FINISHED": PAID,
    "WAIT_BUYER_PAY": PENDING,
    "TRADE_CLOSED": CLOSED,
}


def alipay_sign_content(params: dict) -> str:
    """Return the text Alipay signs: every parameter but sign and sign_type, sorted, k=v&…."""
    return "&".join(
        f"{key}={params[key]}"
        for key in sorted(params)
        if key not in ("sign", "sign_type")
    )


def alipay_request_sign_content(params: dict) -> str:
    """Return the text we sign on a request: every non-empty parameter but sign, sorted.

    Unlike a notification, a request's sign_type is signed too.
    """
    return "&".join(
        f"{key}={params[key]}"
        for key in sorted(params)
        if key != "sign" and params[key] not in ("", None)
    )


def alipay_response_node(body: str, name: str) -> tuple[str, dict, str]:
    """Return the exact text of the response node, the node, and the sign beside it.

    Alipay signs the node's text as it sent it, so it is cut out of the body
    rather than serialised again. A gateway error comes as ``error_response``.
    Raise ``ValueError`` when the body holds neither.
    """
    try:
        data = json.loads(body)
    except RecursionError:  # nested deeper than the stack: garbage, not a crash
        raise ValueError("nested too deep") from None
    if not isinstance(data, dict):  # a list or a str was a crash (.get)
        raise ValueError("not an object")
    if name not in data:
        name = "error_response"
    if not isinstance(data.get(name), dict):
        raise ValueError(name)
    key = body.index(f'"{name}"')
    begin = body.index(":", key + len(name) + 2) + 1
    while body[begin] in " \t\r\n":
        begin += 1
    node, end = json.JSONDecoder().raw_decode(body, begin)
    return body[begin:end], node, data.get("sign", "")


# Codes after which Alipay asks for the same call again: the outcome is unknown.
ALIPAY_TRY_AGAIN = {"20000", "ACQ.SYSTEM_ERROR"}


class AlipayProvider(PaymentProvider):
    code = "alipay"
    method = "alipay"

    def verify(self, request, *, now=None) -> ProviderNotification:
        params = {key: request.POST.get(key) for key in request.POST}
        raw = request.POST.urlencode()

        def reject(message):
            return NotificationRejected(message, payload=raw)

        key = load_public_key(settings.ALIPAY_PUBLIC_KEY)
        if key is None:
            raise reject(_("Alipay public key is not configured."))
        if params.get("sign_type", "RSA2") != "RSA2":
            raise reject(_("Unsupported sign type."))
        if not rsa_sha256_valid(key, alipay_sign_content(params), params.get("sign")):
            raise reject(_("Bad signature."))
        if settings.ALIPAY_APP_ID and params.get("app_id") != settings.ALIPAY_APP_ID:
            raise reject(_("The notification is for another app."))
        status = params.get("trade_status", "")
        try:
            amount = Decimal(params.get("total_amount", ""))
        except InvalidOperation:
            amount = None
        return ProviderNotification(
            out_trade_no=params.get("out_trade_no", ""),
            trade_no=params.get("trade_no", ""),
            trade_status=status,
            meaning=MEANING.get(status, OTHER),
            amount=amount,
            raw_payload=raw,
        )

    def reply_ok(self) -> HttpResponse:
        return HttpResponse("success", content_type="text/plain")

    def reply_fail(self, message: str) -> HttpResponse:
        # Anything but "success" makes Alipay send the notification again later.
        return HttpResponse("fail", content_type="text/plain", status=400)

    def refund(self, request: ProviderRefund) -> ProviderRefundResult:
        key = self._app_key()
        if key is None:
            return ProviderRefundResult(
                REFUND_FAILED,
                message=_(
                    "Alipay refunds are not configured (app id, a readable app"
                    " private key)."
                ),
            )
        node = self._call(
            key,
            "alipay.trade.refund",
            {
                "trade_no": request.trade_no,
                "refund_amount": str(request.amount),
                "out_request_no": request.refund_no,
                "refund_reason": request.reason[:256],
            },
        )
        if node.get("code") != "10000":
            return self._refused(node)
        if node.get("fund_change") == "Y":
            return ProviderRefundResult(
                REFUNDED, reference=self._reference(request), message="fund_change=Y"
            )
        # This call moved no money: the same number was refunded before (a retry)
        # or it was not refunded at all; the query says which.
        return self.refund_query(request)

    def refund_query(self, request: ProviderRefund) -> ProviderRefundResult:
        key = self._app_key()
        if key is None:
            raise RefundUnanswered(_("Alipay refunds are not configured."))
        node = self._call(
            key,
            "alipay.trade.fastpay.refund.query",
            {"trade_no": request.trade_no, "out_request_no": request.refund_no},
        )
        if node.get("code") != "10000":
            # The query failed (permissions, limits, a bad request): that says
            # nothing of the refund, which may have been paid; ask again later.
            code = node.get("sub_code") or node.get("code") or ""
            raise RefundUnanswered(
                f"{code}: {node.get('sub_msg') or node.get('msg') or ''}"[:300]
            )
        # Alipay: query data with an empty status or REFUND_SUCCESS is a refund made;
        # no data means none was made and the refund may be sent again.
        if node.get("out_request_no") != request.refund_no:
            return ProviderRefundResult(
                REFUND_FAILED,
                message=_("Alipay has no refund with this number; send it again."),
            )
        status = node.get("refund_status") or ""
        if status in ("", "REFUND_SUCCESS"):
            return ProviderRefundResult(
                REFUNDED, reference=self._reference(request), message=status
            )
        return ProviderRefundResult(REFUND_PROCESSING, message=status)

    def _app_key(self):
        """Return our app private key when everything a refund needs is set."""
        if not settings.ALIPAY_APP_ID:
            return None
        return load_private_key(settings.ALIPAY_APP_PRIVATE_KEY)

    def _reference(self, request: ProviderRefund) -> str:
        # Alipay gives no refund number of its own: the trade's and ours name it.
        return f"{request.trade_no}:{request.refund_no}"

    def _refused(self, node: dict) -> ProviderRefundResult:
        code = node.get("sub_code") or node.get("code") or ""
        if code in ALIPAY_TRY_AGAIN or node.get("code") in ALIPAY_TRY_AGAIN:
            raise RefundUnanswered(f"{code}: {node.get('sub_msg') or node.get('msg')}")
        return ProviderRefundResult(
            REFUND_FAILED,
            message=f"{code}: {node.get('sub_msg') or node.get('msg') or ''}"[:300],
        )

    def _call(self, key, method: str, biz_content: dict) -> dict:
        """Send one signed OpenAPI call; return its verified response node."""
        params = {
            "app_id": settings.ALIPAY_APP_ID,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": datetime.now(ZoneInfo("Asia/Shanghai")).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "version": "1.0",
            "biz_content": json.dumps(
                biz_content, ensure_ascii=False, separators=(",", ":")
            ),
        }
        params["sign"] = rsa_sha256_sign(key, alipay_request_sign_content(params))
        try:
            response = requests.post(
                settings.ALIPAY_GATEWAY_URL,
                data=params,
                timeout=settings.PAYMENT_PROVIDER_TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            raise RefundUnanswered(
                _("Alipay did not answer: %(error)s") % {"error": error}
            ) from None
        if response.status_code != 200:
            raise RefundUnanswered(
                _("Alipay answered HTTP %(status)s.") % {"status": response.status_code}
            )
        body = response.content.decode("utf-8", errors="replace")
        node_name = method.replace(".", "_") + "_response"
        try:
            text, node, sign = alipay_response_node(body, node_name)
        except ValueError:
            raise RefundUnanswered(_("Alipay's answer cannot be read.")) from None
        # An unsigned refusal (Alipay leaves some errors unsigned) is believed:
        # it moves no money, and the refund can be sent again.
        must_verify = sign or node.get("code") == "10000"
        public_key = load_public_key(settings.ALIPAY_PUBLIC_KEY)
        if must_verify and not (
            public_key and rsa_sha256_valid(public_key, text, sign)
        ):
            raise RefundUnanswered(
                _("Alipay's answer is not signed by Alipay; nothing is recorded.")
            )
        return node
