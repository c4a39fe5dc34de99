"""Kuaidi100 (快递100): real-time query, subscription, and the push callback.

Formats as documented by Kuaidi100 (see ../shared/INTEGRATIONS.md):

- Query: ``POST {base}/poll/query.do`` with form fields ``customer``, ``param`` (a JSON
  string) and ``sign = upper(md5(param + key + customer))`` over the exact string sent.
- Subscribe: ``POST {base}/poll`` with ``schema=json`` and ``param`` holding
  ``{company, number, key, parameters: {callbackurl, salt, resultv2, phone}}``.
- Push: a form POST with ``param`` (JSON: ``status``, ``message``, ``lastResult``) and
  ``sign = upper(md5(param + salt))``; we answer ``PUSH_REPLY``.

Kuaidi100's ``state`` codes and sub-codes map to our statuses in ``STATE_STATUS`` and
``SUBSTATE_STATUS``; a code we do not know raises ``ProviderError`` rather than being
guessed.
"""

import hashlib
import hmac
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import requests
from django.conf import settings

from tracking.adapters.carriers import (
    ProviderError,
    Scan,
    TrackingResult,
    provider_json,
)
from tracking.models import TrackingStatus as T

BASE_URL = "https://poll.kuaidi100.com"
CHINA = ZoneInfo("Asia/Shanghai")

# Our carrier codes (fulfillment.Carrier.code) → Kuaidi100's company codes.
CARRIER_CODES = {
    "sf": "shunfeng",
    "zto": "zhongtong",
    "yto": "yuantong",
    "yunda": "yunda",
    "sto": "shentong",
    "jd": "jd",
    "ems": "ems",
    "jt": "jtexpress",
    "deppon": "debangkuaidi",
    "chinapost": "youzhengguonei",
}
# Carriers that only answer when given the recipient's phone (or its last 4 digits).
NEEDS_PHONE = frozenset({"shunfeng"})

STATE_STATUS = {
    "0": T.IN_TRANSIT,  # 在途
    "1": T.IN_TRANSIT,  # 揽收
    "2": T.EXCEPTION,  # 疑难
    "3": T.DELIVERED,  # 签收
    "4": T.RETURNED,  # 退签
    "5": T.OUT_FOR_DELIVERY,  # 派件
    "6": T.RETURNED,  # 退回
    "7": T.IN_TRANSIT,  # 转投
    "8": T.IN_TRANSIT,  # 清关
    "10": T.IN_TRANSIT,  # 待清关
    "11": T.IN_TRANSIT,  # 清关中
    "12": T.IN_TRANSIT,  # 已清关
    "13": T.EXCEPTION,  # 清关异常
    "14": T.EXCEPTION,  # 拒签
}
# Sub-codes (resultv2) that say more than their main state.
SUBSTATE_STATUS = {
    "101": T.INFO_RECEIVED,  # 已下单
    "201": T.EXCEPTION,  # 超时未签收
    "202": T.EXCEPTION,  # 超时未更新
    "203": T.EXCEPTION,  # 拒收
    "204": T.FAILED_ATTEMPT,  # 派件异常
    "205": T.AVAILABLE_FOR_PICKUP,  # 柜或驿站超时未取
    "206": T.FAILED_ATTEMPT,  # 无法联系
    "207": T.EXCEPTION,  # 超区
    "208": T.EXCEPTION,  # 滞留
    "209": T.EXCEPTION,  # 破损
    "501": T.AVAILABLE_FOR_PICKUP,  # 投柜或驿站
}
# Query errors worth trying again later; the others will not change by waiting.
RETRY_CODES = frozenset({"501", "502", "504"})

PUSH_REPLY = {"result": True, "returnCode": "200", "message": "成功"}


def sign(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest().upper()  # noqa: S324 - their scheme


def company_code(carrier_code: str) -> str:
    try:
        return CARRIER_CODES[carrier_code]
    except KeyError:
        raise ProviderError(
            f"Kuaidi100 has no code for carrier {carrier_code!r}", code="702"
        ) from None


class Kuaidi100:
    def __init__(self, *, customer: str, key: str, base_url: str = BASE_URL):
        self.customer = customer
        self.key = key
        self.base_url = base_url.rstrip("/")

    def query(
        self, *, carrier_code: str, tracking_number: str, phone: str = ""
    ) -> TrackingResult:
        """Ask for the parcel's scans now (单号查询)."""
        company = company_code(carrier_code)
        if company in NEEDS_PHONE and not phone:
            raise ProviderError(f"{company} answers only with the recipient's phone")
        param = json.dumps(
            {
                "com": company,
                "num": tracking_number,
                "phone": phone,
                "resultv2": "1",
                "show": "0",
                "order": "desc",
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        body = self._post(
            "/poll/query.do",
            {
                "customer": self.customer,
                "param": param,
                "sign": sign(param + self.key + self.customer),
            },
        )
        if body.get("result") is False or body.get("status") != "200":
            code = str(body.get("returnCode", ""))
            raise ProviderError(
                f"Kuaidi100 query failed: {code} {body.get('message', '')}".strip(),
                code=code,
                retry=code in RETRY_CODES,
            )
        return result_from(body, carrier_code=carrier_code)

    def subscribe(
        self,
        *,
        carrier_code: str,
        tracking_number: str,
        callback_url: str,
        salt: str,
        phone: str = "",
    ) -> bool:
        """Ask Kuaidi100 to push this parcel's scans; True when (already) subscribed."""
        param = json.dumps(
            {
                "company": company_code(carrier_code),
                "number": tracking_number,
                "key": self.key,
                "parameters": {
                    "callbackurl": callback_url,
                    "salt": salt,
                    "resultv2": "1",
                    "phone": phone,
                },
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        body = self._post("/poll", {"schema": "json", "param": param})
        code = str(body.get("returnCode", ""))
        if code in ("200", "501"):  # 501: already subscribed
            return True
        raise ProviderError(
            f"Kuaidi100 subscription refused: {code} {body.get('message', '')}".strip(),
            code=code,
            retry=code in RETRY_CODES,
        )

    def _post(self, path: str, form: dict) -> dict:
        try:
            response = requests.post(
                self.base_url + path,
                data=form,
                timeout=settings.TRACKING_PROVIDER_TIMEOUT_SECONDS,
            )
            response.raise_for_status()
            body = provider_json(response.content)
        except requests.Timeout as exc:
            raise ProviderError("Kuaidi100 did not answer in time", retry=True) from exc
        except requests.RequestException as exc:
            raise ProviderError(f"Kuaidi100 request failed: {exc}", retry=True) from exc
        except ValueError as exc:
            raise ProviderError("Kuaidi100 answered with something not JSON") from exc
        # A list, a str or null was a crash further on (.get), not a provider error.
        if not isinstance(body, dict):
            raise ProviderError(f"Kuaidi100 answered with no object: {body!r:.100}")
        return body


def push_verify(*, param: str, signature: str, salt: str) -> bool:
    """Whether a push callback's ``sign`` matches ``upper(md5(param + salt))``."""
    # As bytes: compare_digest raises on a str with non-ASCII characters.
    return hmac.compare_digest(
        sign(param + salt).encode(), (signature or "").upper().encode()
    )


def push_parse(param: str, *, carrier_code: str) -> tuple[str, TrackingResult | None]:
    """Return the push's subscription status (polling, shutdown, abort, updateall) and
    its result; the result is None when the push carries none (e.g. an abort)."""
    try:
        body = provider_json(param)
    except ValueError as exc:
        raise ProviderError("Kuaidi100 push: param is not JSON") from exc
    # Any other shape was a server error further on (a list or a str has no .get).
    if not isinstance(body, dict) or not isinstance(body.get("lastResult") or {}, dict):
        raise ProviderError("Kuaidi100 push: param is not a push")
    status = body.get("status", "")
    last = body.get("lastResult")
    if not last or not last.get("data"):
        return status, None
    return status, result_from(last, carrier_code=carrier_code)


def result_from(body: dict, *, carrier_code: str) -> TrackingResult:
    """Turn a query response (or a push's lastResult) into our scans, oldest first."""
    data = body.get("data") or []
    if not isinstance(data, list):  # a number was a TypeError, a dict its keys
        raise ProviderError(f"Kuaidi100 scans are not a list: {data!r:.100}")
    scans = [_scan(item) for item in data]
    scans.sort(key=lambda scan: scan.occurred_at)
    return TrackingResult(
        carrier_code=carrier_code,
        tracking_number=str(body.get("nu", "")),
        scans=scans,
        delivered=str(body.get("ischeck", "")) == "1",
    )


def _scan(item: dict) -> Scan:
    if not isinstance(item, dict):
        raise ProviderError(f"Kuaidi100 scan is not an object: {item!r:.200}")
    try:
        when = datetime.strptime(item.get("ftime") or item["time"], "%Y-%m-%d %H:%M:%S")
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderError(f"Kuaidi100 scan without a readable time: {item}") from exc
    return Scan(
        occurred_at=when.replace(tzinfo=CHINA),
        status=_status(item),
        description=str(item.get("context", "")).strip(),
        location=str(item.get("areaName") or "").strip(),
        raw=item,
    )


def _status(item: dict) -> str:
    code = str(item.get("statusCode", "") or "")
    if code in SUBSTATE_STATUS:
        return SUBSTATE_STATUS[code]
    if code in STATE_STATUS:
        return STATE_STATUS[code]
    # Other sub-codes share their first digit with the main state (301-304: 签收).
    if len(code) == 3 and code[0] in STATE_STATUS:
        return STATE_STATUS[code[0]]
    raise ProviderError(f"Kuaidi100 state {code!r} is not one we know", code=code)
