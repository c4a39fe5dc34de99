"""SMS gateways behind one small interface.

``send(phone, text, reference, template_code, params) -> provider id``: ``text`` is the
whole message (for gateways that take free text, and the log); ``template_code`` and
``params`` are for gateways that only send texts approved in advance (Aliyun).
"""

import base64
import hashlib
import hmac
import json
import logging
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway refused or failed; the task retries unless ``permanent``."""

    permanent = False


class SmsRejected(SmsError):
    """The gateway will never accept this message (bad number, template or signature)."""

    permanent = True


class LogSmsBackend:
    """Writes each message to the log instead of sending it (the default)."""

    # Kept in memory so tests and the demo can read what went out: only the last
    # SENT_KEPT, or a worker running for weeks on this default backend would keep
    # every message it ever "sent".
    sent: list[dict] = []
    SENT_KEPT = 1000

    def send(
        self,
        *,
        phone: str,
        text: str,
        reference: str,
        template_code: str = "",
        params: dict | None = None,
    ) -> str:
        logger.info("SMS to %s [%s]: %s", phone, reference, text)
        sent = LogSmsBackend.sent
        sent.append({"phone": phone, "text": text, "reference": reference})
        if len(sent) > self.SENT_KEPT:
            del sent[: len(sent) - self.SENT_KEPT]
        return f"log-{reference}"


def aliyun_percent_encode(value: str) -> str:
    """Return ``value`` encoded as Aliyun's RPC signature wants (RFC 3986, UTF-8)."""
    return quote(value, safe="~")


def aliyun_signature(*, params: dict, secret: str, method: str = "POST") -> str:
    """Return the HMAC-SHA1 signature of Aliyun's RPC style over ``params``."""
    canonical = "&".join(
        f"{aliyun_percent_encode(k)}={aliyun_percent_encode(v)}"
        for k, v in sorted(params.items())
    )
    to_sign = (
        f"{method}&{aliyun_percent_encode('/')}&{aliyun_percent_encode(canonical)}"
    )
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# Codes that will not succeed on a retry; anything else (limits, throttling,
# server errors) is retried with backoff.
ALIYUN_PERMANENT = (
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.INVALID_PARAMETERS",
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "InvalidAccessKeyId.NotFound",
    "SignatureDoesNotMatch",
)


class AliyunSmsBackend:
    """Aliyun SMS ``SendSms`` (dysmsapi 2017-05-25) over its signed RPC API.

    Only texts approved in advance can be sent: each message needs the approved
    template's code (set on the notification template) and its variables as JSON.
    """

    version = "2017-05-25"

    def __init__(self):
        self.endpoint = settings.ALIYUN_SMS_ENDPOINT
        self.key_id = settings.ALIYUN_SMS_ACCESS_KEY_ID
        self.secret = settings.ALIYUN_SMS_ACCESS_KEY_SECRET
        self.sign_name = settings.ALIYUN_SMS_SIGN_NAME
        self.region = settings.ALIYUN_SMS_REGION
        self.timeout = settings.ALIYUN_SMS_TIMEOUT_SECONDS

    def request_params(
        self, *, phone, reference, template_code, params, now=None, nonce=None
    ) -> dict:
        """Return the signed form fields of one SendSms call."""
        now = now or datetime.now(UTC)
        fields = {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": self.version,
            "PhoneNumbers": phone.removeprefix("+86"),
            "SignName": self.sign_name,
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(
                {k: str(v) for k, v in (params or {}).items()}, ensure_ascii=False
            ),
            "OutId": reference,
        }
        fields["Signature"] = aliyun_signature(params=fields, secret=self.secret)
        return fields

    def send(
        self,
        *,
        phone: str,
        text: str,
        reference: str,
        template_code: str = "",
        params: dict | None = None,
    ) -> str:
        if not template_code:
            raise SmsRejected(
                "no Aliyun template code: set it on the notification template"
            )
        fields = self.request_params(
            phone=phone,
            reference=reference,
            template_code=template_code,
            params=params,
        )
        try:
            response = requests.post(self.endpoint, data=fields, timeout=self.timeout)
        except requests.RequestException as exc:
            raise SmsError(f"Aliyun unreachable: {exc}") from exc
        try:
            reply = response.json()
        except ValueError as exc:
            raise SmsError(f"Aliyun HTTP {response.status_code}: not JSON") from exc
        code = reply.get("Code", "")
        if code == "OK":
            return reply.get("BizId", "")
        error = SmsRejected if code in ALIYUN_PERMANENT else SmsError
        raise error(
            f"Aliyun {code or response.status_code}: {reply.get('Message', '')}"
        )


def sms_backend():
    return import_string(settings.SMS_BACKEND)()
