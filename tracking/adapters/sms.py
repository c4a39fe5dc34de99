"""SMS gateways behind one small interface: ``send(phone, text, reference) -> provider id``."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway refused or failed; the task retries."""


class LogSmsBackend:
    """Writes each message to the log instead of sending it (the default)."""

    sent: list[dict] = []  # kept in memory so tests and the demo can read what went out

    def send(self, *, phone: str, text: str, reference: str) -> str:
        logger.info("SMS to %s [%s]: %s", phone, reference, text)
        LogSmsBackend.sent.append(
            {"phone": phone, "text": text, "reference": reference}
        )
        return f"log-{reference}"


def sms_backend():
    return import_string(settings.SMS_BACKEND)()
