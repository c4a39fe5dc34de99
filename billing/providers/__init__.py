"""Payment providers: each turns a provider's signed notification into one shape we apply,
and pays refunds back through the provider's API.

An adapter verifies the notification (signature, app, time window, decryption),
returns a ``ProviderNotification``, and writes the reply the provider expects.
For refunds it signs the request with our key, verifies the answer with the
provider's, and returns a ``ProviderRefundResult``. The rest of billing never
sees a provider's format.
"""

import base64
import binascii
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.http import HttpResponse
from django.utils.translation import gettext as _


class NotificationRejected(Exception):
    """The notification is not genuine or cannot be read; nothing is applied."""

    def __init__(self, message, *, payload: str = "", headers: dict | None = None):
        super().__init__(message)
        self.payload = payload
        self.headers = headers or {}


# What a provider's trade status means to us.
PAID, PENDING, CLOSED, OTHER = "paid", "pending", "closed", "other"


# The columns a verified notification is kept in (billing.PaymentNotification).
TEXT_LIMITS = {"out_trade_no": 100, "trade_no": 100, "trade_status": 32}
CENT = Decimal("0.01")
AMOUNT_LIMIT = Decimal(10) ** 10  # 12 digits, 2 of them after the point


@dataclass(frozen=True)
class ProviderNotification:
    """A verified notification: which order, which trade, what happened, how much."""

    out_trade_no: str
    trade_no: str
    trade_status: str
    meaning: str
    amount: Decimal | None
    raw_payload: str
    headers: dict = field(default_factory=dict)

    def __post_init__(self):
        # PostgreSQL cannot store NUL in text: a signed notification with one in its
        # trade number failed the payment's insert with a server error. It is garbage.
        texts = [self.out_trade_no, self.trade_no, self.trade_status, self.raw_payload]
        if any("\x00" in text for text in texts):
            raise NotificationRejected(
                _("The notification holds a NUL character."),
                payload=self.raw_payload.replace("\x00", "\ufffd"),
                headers=self.headers,
            )
        # What the columns cannot hold, or no sum of money (NaN, Infinity, 1e30,
        # 0.001), failed a comparison or the insert with a server error.
        for name, limit in TEXT_LIMITS.items():
            if len(getattr(self, name)) > limit:
                raise NotificationRejected(
                    _("The notification's %(field)s is over %(limit)s characters.")
                    % {"field": name, "limit": limit},
                    payload=self.raw_payload,
                    headers=self.headers,
                )
        amount = self.amount
        if amount is not None and not (
            amount.is_finite()
            and abs(amount) < AMOUNT_LIMIT  # first: quantize() refuses 1e30
            and amount == amount.quantize(CENT)
        ):
            raise NotificationRejected(
                _("The notification's amount is not a sum of money."),
                payload=self.raw_payload,
                headers=self.headers,
            )


# What a provider's answer to a refund means to us.
REFUNDED, REFUND_PROCESSING, REFUND_FAILED = "refunded", "processing", "failed"


class RefundUnanswered(Exception):
    """No answer we can trust (network, timeout, bad signature): the refund may or
    may not have been made, and only asking the provider again tells."""


@dataclass(frozen=True)
class ProviderRefund:
    """A refund to ask of a provider: part or all of one paid trade."""

    # Ours, the same on every attempt: the provider pays one number back once.
    refund_no: str
    trade_no: str  # the provider's trade number (the payment's reference)
    amount: Decimal
    total: Decimal  # what the trade paid (WeChat Pay wants it)
    reason: str = ""


@dataclass(frozen=True)
class ProviderRefundResult:
    """A verified answer: refunded, still processing, or refused (with why)."""

    meaning: str
    reference: str = ""  # the provider's refund number, once it has one
    message: str = ""  # the provider's status or error, in its words


class PaymentProvider:
    """The interface an adapter offers the webhook view and the refund service."""

    code = ""
    method = ""  # billing.Payment.Method value

    def verify(self, request, *, now=None) -> ProviderNotification:
        """Return the notification in the request, or raise ``NotificationRejected``."""
        raise NotImplementedError

    def reply_ok(self) -> HttpResponse:
        raise NotImplementedError

    def reply_fail(self, message: str) -> HttpResponse:
        raise NotImplementedError

    def refund(self, request: ProviderRefund) -> ProviderRefundResult:
        """Ask the provider to pay ``request`` back; raise ``RefundUnanswered`` when
        its answer is missing or not genuine. Safe to repeat with the same number."""
        raise NotImplementedError

    def refund_query(self, request: ProviderRefund) -> ProviderRefundResult:
        """Return where the provider is with the refund numbered ``request.refund_no``."""
        raise NotImplementedError


def load_pem(value: str) -> bytes:
    """Return PEM bytes from a setting that holds PEM text, bare base64, or a file path."""
    value = (value or "").strip()
    if not value:
        return b""
    if "-----BEGIN" in value:
        return value.encode()
    path = Path(value)
    if len(value) < 1024 and path.is_file():
        return path.read_bytes()
    # Alipay's console shows its public key as bare base64.
    body = "\n".join(value[i : i + 64] for i in range(0, len(value), 64))
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n".encode()


def load_private_key(value: str):
    """Return our RSA private key from PEM text, bare base64 (as Alipay's key tool
    writes it, PKCS#1 or PKCS#8), or a file path; None when not set or unreadable."""
    from cryptography.hazmat.primitives.serialization import (
        load_der_private_key,
        load_pem_private_key,
    )

    value = (value or "").strip()
    if not value:
        return None
    if "-----BEGIN" not in value and len(value) < 1024 and Path(value).is_file():
        value = Path(value).read_text().strip()
    try:
        if "-----BEGIN" in value:
            return load_pem_private_key(value.encode(), password=None)
        return load_der_private_key(base64.b64decode(value), password=None)
    except (ValueError, TypeError, binascii.Error):
        return None  # the adapter says the keys are not configured


def rsa_sha256_sign(key, text: str) -> str:
    """Return the base64 SHA256withRSA (PKCS#1 v1.5) signature of ``text``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def rsa_sha256_valid(key, text: str, signature: str) -> bool:
    """Return whether ``signature`` (base64) is ``key``'s SHA256withRSA signature of ``text``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        key.verify(
            base64.b64decode(signature or "", validate=True),
            text.encode("utf-8"),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def fen(amount: Decimal) -> int:
    """Return a yuan amount in fen (分), the unit WeChat Pay counts in."""
    return int(amount.quantize(Decimal("0.01")) * 100)


def load_public_key(value: str):
    """Return the RSA public key in a PEM public key or certificate (text, base64 or path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    pem = load_pem(value)
    if not pem:
        return None
    if b"CERTIFICATE" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    return load_pem_public_key(pem)


def provider_get(code: str) -> PaymentProvider:
    """Return the adapter for ``code`` ("alipay", "wechat"), configured from settings now."""
    from billing.providers.alipay import AlipayProvider
    from billing.providers.wechatpay import WechatPayProvider

    registry = {"alipay": AlipayProvider, "wechat": WechatPayProvider}
    if code not in registry:
        raise KeyError(code)
    return registry[code]()
