"""Alipay asynchronous notification (异步通知): form POST signed RSA2."""

import base64
import binascii
from decimal import Decimal, InvalidOperation

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.http import HttpResponse
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
        try:
            signature = base64.b64decode(params.get("sign", ""), validate=True)
            key.verify(
                signature,
                alipay_sign_content(params).encode("utf-8"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, binascii.Error, ValueError):
            raise reject(_("Bad signature.")) from None
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
