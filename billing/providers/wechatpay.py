"""WeChat Pay API v3 payment callback: signed headers, AES-256-GCM resource."""

import base64
import binascii
import json
import time
from decimal import Decimal

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _

from billing.providers import (
    CLOSED,
    OTHER,
    PAID,
    PENDING,
    NotificationRejected,
    PaymentProvider,
    ProviderNotification,
    load_public_key,
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
        if abs(now - timestamp) > settings.WECHATPAY_TIMESTAMP_TOLERANCE_SECONDS:
            raise reject(_("The timestamp is too far from now."))
        message = f"{headers['Timestamp']}\n{headers['Nonce']}\n{body}\n"
        try:
            key.verify(
                base64.b64decode(headers["Signature"], validate=True),
                message.encode("utf-8"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, binascii.Error, ValueError):
            raise reject(_("Bad signature.")) from None
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
