"""Phone numbers as the shop meets them: with or without +86, spaces, a spreadsheet's leading '."""

import functools
import re
from typing import NamedTuple

import phonenumbers
from django.conf import settings

MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


class _Facts(NamedTuple):
    number: phonenumbers.PhoneNumber | None
    valid: bool
    mobile: bool


def _facts(raw: str) -> _Facts:
    text = (raw or "").strip().lstrip("'").replace(" ", "").replace("-", "")
    return _read(text, settings.SHOP_PHONE_REGION)


_known: dict[tuple[str, str], _Facts] = {}
KNOWN_MAX = 20_000


def _read(text: str, region: str) -> _Facts:
    # Cached: one order's phone is read by intake, customer matching and validation,
    # as typed and again normalised, and parsing is the slow part of a bulk import.
    # Callers never change the PhoneNumber they get.
    key = (text, region)
    facts = _known.get(key)
    if facts is None:
        facts = _parse(text, region)
        if len(_known) >= KNOWN_MAX:
            _known.clear()
        _known[key] = facts
        if facts.valid:  # the normalised form reads the same
            e164 = phonenumbers.format_number(
                facts.number, phonenumbers.PhoneNumberFormat.E164
            )
            _known[(e164, region)] = facts
    return facts


def _parse(text: str, region: str) -> _Facts:
    if not text:
        return _Facts(None, False, False)
    if _is_plain_mobile(text, region):
        # What parse() would say, without its general machinery (most of an
        # import's phone time): a national mobile number of the region.
        number = phonenumbers.PhoneNumber(
            country_code=phonenumbers.country_code_for_region(region),
            national_number=int(text),
        )
        return _Facts(number, True, True)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return _Facts(None, False, False)
    return _Facts(
        number,
        phonenumbers.is_valid_number(number),
        phonenumbers.number_type(number) in MOBILE_TYPES,
    )


@functools.cache
def _mobile_pattern(region: str):
    """The region's mobile numbers (when none is fixed-line too), or None."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.mobile.national_number_pattern is None:
        return None
    return re.compile(metadata.mobile.national_number_pattern)


def _is_plain_mobile(text: str, region: str) -> bool:
    """Digits only, not starting with 0, and matching the region's mobile pattern."""
    pattern = _mobile_pattern(region)
    return (
        pattern is not None
        and text.isdigit()
        and text.isascii()
        and not text.startswith("0")
        and pattern.fullmatch(text) is not None
    )


def phone_parse(raw: str):
    """Return the parsed number, or None when it cannot be read as a phone number."""
    return _facts(raw).number


def phone_normalise(raw: str) -> str:
    """Return the number in E.164 (+8613800138000) when valid, else the trimmed input."""
    facts = _facts(raw)
    if facts.valid:
        return phonenumbers.format_number(
            facts.number, phonenumbers.PhoneNumberFormat.E164
        )
    return (raw or "").strip().lstrip("'")


def phone_is_valid(raw: str) -> bool:
    return _facts(raw).valid


def phone_is_mobile(raw: str) -> bool:
    return _facts(raw).mobile


def phone_digits(raw: str) -> str:
    """Return only the digits of the national number, for comparing and last-4 checks."""
    typed = "".join(ch for ch in raw or "" if ch.isdigit())
    # Four digits are the end of a number: parsed as one, "0476" would lose its 0.
    if len(typed) <= 4:
        return typed
    number = phone_parse(raw)
    if number is not None:
        return str(number.national_number)
    return typed


def phone_display(raw: str) -> str:
    facts = _facts(raw)
    if not facts.valid:
        return raw
    number = facts.number
    if number.country_code == 86:
        digits = str(number.national_number)
        return (
            f"{digits[:3]} {digits[3:7]} {digits[7:]}" if len(digits) == 11 else digits
        )
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
