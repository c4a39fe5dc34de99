"""Payment providers: each turns a provider's signed notification into one shape we apply.

An adapter verifies the notification (signature, app, time window, decryption),
returns a ``ProviderNotification``, and writes the reply the provider expects.
The rest of billing never sees a provider's format.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.http import HttpResponse


class NotificationRejected(Exception):
    """The notification is not genuine or cannot be read; nothing is applied."""

    def __init__(self, message, *, payload: str = "", headers: dict | None = None):
        super().__init__(message)
        self.payload = payload
        self.headers = headers or {}


# What a provider's trade status means to us.
PAID, PENDING, CLOSED, OTHER = "paid", "pending", "closed", "other"


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


class PaymentProvider:
    """The interface an adapter offers the webhook view."""

    code = ""
    method = ""  # billing.Payment.Method value

    def verify(self, request, *, now=None) -> ProviderNotification:
        """Return the notification in the request, or raise ``NotificationRejected``."""
        raise NotImplementedError

    def reply_ok(self) -> HttpResponse:
        raise NotImplementedError

    def reply_fail(self, message: str) -> HttpResponse:
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
