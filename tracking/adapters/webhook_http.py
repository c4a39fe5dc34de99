"""Posting a signed event to another system's webhook endpoint, and which URLs we refuse.

Endpoints are typed in by staff, so the URL is checked before every send: only
http(s), and — unless ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` — no address inside our
own network (loopback, private, link-local such as cloud metadata), which would let
the console be used to reach internal services. Redirects are not followed, for the
same reason.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3
from django.utils.translation import gettext as _

BODY_EXCERPT_BYTES = 1000


class WebhookUnreachable(Exception):
    """No HTTP answer: connection refused, DNS failure, timeout."""


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: str  # the start of the body, for staff to read
    duration_ms: int


def _address_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def url_refusal(url: str, *, allow_private: bool, resolve: bool = True) -> str:
    """Return why we will not post to ``url`` (empty: we will).

    ``resolve=False`` checks only what the URL itself says (when staff save it; the
    name may not resolve yet); sending resolves the name and checks every address.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Only http:// and https:// URLs can receive webhooks.")
    if allow_private:
        return ""
    host = parts.hostname
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            addresses = ["127.0.0.1"]
        elif not resolve:
            return ""
        else:
            try:
                infos = socket.getaddrinfo(
                    host, parts.port or 443, proto=socket.IPPROTO_TCP
                )
            except OSError as exc:
                return _("The host name does not resolve: %(error)s") % {"error": exc}
            addresses = [info[4][0] for info in infos]
    if any(_address_private(address) for address in addresses):
        return _(
            "The URL points into a private or local network; webhooks go only to "
            "public addresses."
        )
    return ""


def webhook_post(
    *, url: str, body: bytes, headers: dict, timeout: float
) -> WebhookAnswer:
    """POST the body; return the answer, whatever its status, or raise WebhookUnreachable."""
    started = time.monotonic()
    try:
        with requests.post(
            url,
            data=body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            excerpt = response.raw.read(BODY_EXCERPT_BYTES, decode_content=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        # urllib3's own errors: a timeout while the body is read (streamed)
        raise WebhookUnreachable(f"{type(exc).__name__}: {exc}") from exc
    return WebhookAnswer(
        status=response.status_code,
        body=excerpt.decode("utf-8", errors="replace"),
        duration_ms=int((time.monotonic() - started) * 1000),
    )
