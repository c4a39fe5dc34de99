"""WeChat Pay API v3: the payment callback (signed headers, AES-256-GCM resource), and
refunds (POST /v3/refund/domestic/refunds, GET …/refunds/{out_refund_no})."""

import base64
import binascii
import json
import secrets
import time
from decimal import Decimal
from urllib.parse import quote

import requests
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.http import JsonResponse
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
    fen,
    load_private_key,
    load_public_key,
    rsa_sha256_sign,
    rsa_sha256_valid,
)

MEANING = {
    "SUCCESS": PAID,
    "NOTPAY": PENDING,
    "USERPAYING": PENDING,
    "CLOSED": CLOSED,
    "REVOKED": CLOSED,
    "PAYERROR": CLOSED,
}
HEADERS = ("Timestamp", "Nonce", "Signature", "Serial")
REFUNDS_PATH = "/v3/refund/domestic/refunds"


def wechatpay_authorization(
    key, *, method: str, path: str, body: str, timestamp: int, nonce: str
) -> str:
    """Return the Authorization header of an API v3 request, signed with our merchant key."""
    message = f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n"
    return (
        f'WECHATPAY2-SHA256-RSA2048 mchid="{settings.WECHATPAY_MCHID}",'
        f'nonce_str="{nonce}",signature="{rsa_sha256_sign(key, message)}",'
        f'timestamp="{timestamp}",serial_no="{settings.WECHATPAY_MERCHANT_SERIAL_NO}"'
    )


class WechatPayProvider(PaymentProvider):
    code = "wechat"
    method = "wechat"

    def verify(self, request, *, now=None) -> ProviderNotification:
        body = request.body.decode("utf-8", errors="replace")
        headers = {
            name: request.headers.get(f"Wechatpay-{name}", "") for name in HEADERS
        }

        def reject(message):
            return NotificationRejected(message, payload=body, headers=headers)

        key = load_public_key(settings.WECHATPAY_PLATFORM_PUBLIC_KEY)
        if key is None or not settings.WECHATPAY_APIV3_KEY:
            raise reject(_("WeChat Pay keys are not configured."))
        try:
            timestamp = int(headers["Timestamp"])
        except ValueError:
            raise reject(_("Bad timestamp.")) from None
        now = time.time() if now is None else now.timestamp()
        tolerance = settings.WECHATPAY_TIMESTAMP_TOLERANCE_SECONDS
        # Compared, not subtracted: a timestamp of hundreds of digits overflows a float.
        if not now - tolerance <= timestamp <= now + tolerance:
            raise reject(_("The timestamp is too far from now."))
        message = f"{headers['Timestamp']}\n{headers['Nonce']}\n{body}\n"
        if not rsa_sha256_valid(key, message, headers["Signature"]):
            raise reject(_("Bad signature."))
        try:
            resource = json.loads(body)["resource"]
            plain = AESGCM(settings.WECHATPAY_APIV3_KEY.encode()).decrypt(
                resource["nonce"].encode(),
                base64.b64decode(resource["ciphertext"]),
                (resource.get("associated_data") or "").encode(),
            )
            data = json.loads(plain)
            if settings.WECHATPAY_MCHID and data.get("mchid") != (
                settings.WECHATPAY_MCHID
            ):
                raise reject(_("The notification is for another merchant."))
            total = data.get("amount", {}).get("total")
            amount = None if total is None else Decimal(int(total)) / 100
        except NotificationRejected:
            raise
        except (
            InvalidTag,
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            binascii.Error,
            RecursionError,  # signed, but nested too deep to read: garbage
        ):
            raise reject(_("The resource cannot be decrypted.")) from None
        status = data.get("trade_state", "")
        return ProviderNotification(
            out_trade_no=data.get("out_trade_no", ""),
            trade_no=data.get("transaction_id", ""),
            trade_status=status,
            meaning=MEANING.get(status, OTHER),
            amount=amount,
            # The decrypted resource is what we acted on; the envelope stays beside it.
            raw_payload=json.dumps(
                {"body": json.loads(body), "resource": data}, ensure_ascii=False
            ),
            headers=headers,
        )

    def reply_ok(self):
        return JsonResponse({"code": "SUCCESS"})

    def reply_fail(self, message: str):
        return JsonResponse({"code": "FAIL", "message": message}, status=400)

    def refund(self, request: ProviderRefund) -> ProviderRefundResult:
        key = self._merchant_key()
        if key is None:
            return ProviderRefundResult(
                REFUND_FAILED,
                message=_(
                    "WeChat Pay refunds are not configured (merchant id, a readable"
                    " merchant private key and its serial number, platform key)."
                ),
            )
        body = {
            "transaction_id": request.trade_no,
            "out_refund_no": request.refund_no,
            "amount": {
                "refund": fen(request.amount),
                "total": fen(request.total),
                "currency": "CNY",
            },
        }
        if request.reason:
            body["reason"] = request.reason[:80]
        return self._answer(request, *self._call(key, "POST", REFUNDS_PATH, body))

    def refund_query(self, request: ProviderRefund) -> ProviderRefundResult:
        key = self._merchant_key()
        if key is None:
            raise RefundUnanswered(_("WeChat Pay refunds are not configured."))
        path = f"{REFUNDS_PATH}/{quote(request.refund_no, safe='')}"
        status_code, data = self._call(key, "GET", path, None)
        if status_code >= 400 and status_code != 404:
            # Only "no such refund" (404) tells where the refund stands; a limit
            # (429), a signature or a parameter error says nothing of a refund
            # that may have been paid: ask again later.
            raise RefundUnanswered(
                f"{data.get('code', status_code)}: {data.get('message', '')}"[:300]
            )
        return self._answer(request, status_code, data)

    def _merchant_key(self):
        """Return our merchant private key when everything a refund needs is set."""
        if not (
            settings.WECHATPAY_MCHID
            and settings.WECHATPAY_MERCHANT_SERIAL_NO
            and settings.WECHATPAY_PLATFORM_PUBLIC_KEY
        ):
            return None
        return load_private_key(settings.WECHATPAY_MERCHANT_PRIVATE_KEY)

    def _answer(self, request, status_code: int, data: dict) -> ProviderRefundResult:
        if status_code >= 400:
            # A refusal moves no money, so it is shown even when WeChat Pay left it
            # unsigned; the refund can be sent again.
            return ProviderRefundResult(
                REFUND_FAILED,
                message=f"{data.get('code', status_code)}: {data.get('message', '')}"[
                    :300
                ],
            )
        if data.get("out_refund_no") != request.refund_no:
            raise RefundUnanswered(_("WeChat Pay answered about another refund."))
        status = data.get("status", "")
        reference = data.get("refund_id", "")
        if status == "SUCCESS":
            return ProviderRefundResult(REFUNDED, reference=reference, message=status)
        if status == "PROCESSING":
            return ProviderRefundResult(
                REFUND_PROCESSING, reference=reference, message=status
            )
        if status == "ABNORMAL":
            message = _(
                "ABNORMAL: the money could not reach the buyer's account; finish"
                " the refund in the merchant platform or pay it by hand."
            )
        elif status == "CLOSED":
            message = _("CLOSED: WeChat Pay closed the refund.")
        else:
            # Build so that a status we do not know shows up, not a wrong outcome.
            raise RefundUnanswered(
                _("WeChat Pay answered an unknown refund status %(status)s.")
                % {"status": status or "—"}
            )
        return ProviderRefundResult(REFUND_FAILED, reference=reference, message=message)

    def _call(
        self, key, method: str, path: str, payload: dict | None
    ) -> tuple[int, dict]:
        """Send one signed API v3 call; return its status and verified JSON body."""
        body = (
            json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            if payload is not None
            else ""
        )
        authorization = wechatpay_authorization(
            key,
            method=method,
            path=path,
            body=body,
            timestamp=int(time.time()),
            nonce=secrets.token_hex(16),
        )
        try:
            response = requests.request(
                method,
                settings.WECHATPAY_API_URL.rstrip("/") + path,
                data=body.encode("utf-8") if body else None,
                headers={
                    "Authorization": authorization,
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                    "User-Agent": "shop-oms",
                },
                timeout=settings.PAYMENT_PROVIDER_TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            raise RefundUnanswered(
                _("WeChat Pay did not answer: %(error)s") % {"error": error}
            ) from None
        if response.status_code >= 500:
            raise RefundUnanswered(
                _("WeChat Pay answered HTTP %(status)s.")
                % {"status": response.status_code}
            )
        text = response.content.decode("utf-8", errors="replace")
        try:
            data = json.loads(text) if text else {}
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            raise RefundUnanswered(_("WeChat Pay's answer cannot be read.")) from None
        if response.status_code < 400:
            self._verify_answer(response.headers, text)
        return response.status_code, data if isinstance(data, dict) else {}

    def _verify_answer(self, headers, text: str) -> None:
        key = load_public_key(settings.WECHATPAY_PLATFORM_PUBLIC_KEY)
        timestamp = headers.get("Wechatpay-Timestamp", "")
        message = f"{timestamp}\n{headers.get('Wechatpay-Nonce', '')}\n{text}\n"
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= (
            settings.WECHATPAY_TIMESTAMP_TOLERANCE_SECONDS
        )
        if not (
            fresh
            and rsa_sha256_valid(key, message, headers.get("Wechatpay-Signature", ""))
        ):
            raise RefundUnanswered(
                _(
                    "WeChat Pay's answer is not signed by WeChat Pay; nothing is recorded."
                )
            )
