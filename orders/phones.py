"""Phone numbers as the shop meets them: with or without +86, spaces, a spreadsheet's leading '."""

import phonenumbers
from django.conf import settings


def phone_parse(raw: str):
    """Return the parsed number, or None when it cannot be read as a phone number."""
    text = (raw or "").strip().lstrip("'").replace(" ", "").replace("-", "")
    if not text:
        return None
    try:
        return phonenumbers.parse(text, settings.SHOP_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None


def phone_normalise(raw: str) -> str:
    """Return the number in E.164 (+8613800138000) when valid, else the trimmed input."""
    number = phone_parse(raw)
    if number is not None and phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return (raw or "").strip().lstrip("'")


def phone_is_valid(raw: str) -> bool:
    number = phone_parse(raw)
    return number is not None and phonenumbers.is_valid_number(number)


def phone_is_mobile(raw: str) -> bool:
    number = phone_parse(raw)
    return number is not None and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def phone_digits(raw: str) -> str:
    """Return only the digits of the national number, for comparing and last-4 checks."""
    number = phone_parse(raw)
    if number is not None:
        return str(number.national_number)
    return "".join(ch for ch in raw or "" if ch.isdigit())


def phone_display(raw: str) -> str:
    number = phone_parse(raw)
    if number is None or not phonenumbers.is_valid_number(number):
        return raw
    if number.country_code == 86:
        digits = str(number.national_number)
        return (
            f"{digits[:3]} {digits[3:7]} {digits[7:]}" if len(digits) == 11 else digits
        )
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
