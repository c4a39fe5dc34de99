"""The 订单信息验证 step: checks that decide whether an order can go on or needs correcting.

A problem is stored on the order as ``{"code": ..., "field": ...}``; its message is
looked up here at display time, so it shows in the reader's language.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from orders.addresses import address_check, district_required
from orders.phones import phone_is_mobile, phone_is_valid

PROBLEM_MESSAGES = {
    "name_missing": _("The recipient's name is missing."),
    "phone_missing": _("No phone number to reach the recipient."),
    "phone_invalid": _("The phone number is not a valid number."),
    "phone_not_mobile": _(
        "The phone number is not a mobile number; couriers need one."
    ),
    "email_invalid": _("The email address is not valid."),
    "province_missing": _("The province is missing from the address."),
    "city_missing": _("The city is missing from the address."),
    "district_missing": _("The district is missing from the address."),
    "province_unknown": _("The province is not a province of China."),
    "city_unknown": _("The city is not a known city."),
    "city_not_in_province": _("The city is not in that province."),
    "district_unknown": _("The district is not a known district."),
    "district_not_in_city": _("The district is not in that city."),
    "detail_missing": _("The street address is missing or too short."),
    "postal_code_invalid": _("The postal code must be six digits."),
}

POSTAL_CODE = re.compile(r"^\d{6}$")


def problem_message(problem: dict) -> str:
    return str(PROBLEM_MESSAGES.get(problem.get("code"), problem.get("code", "")))


def _problem(code, field):
    return {"code": code, "field": field}


def order_problems(order, *, email="") -> list[dict]:
    """Return every problem found on the order's contact and address data."""
    problems = []
    if not order.recipient_name.strip():
        problems.append(_problem("name_missing", "recipient_name"))
    phone = order.recipient_phone
    if not phone.strip():
        problems.append(_problem("phone_missing", "recipient_phone"))
    elif not phone_is_valid(phone):
        problems.append(_problem("phone_invalid", "recipient_phone"))
    elif not phone_is_mobile(phone):
        problems.append(_problem("phone_not_mobile", "recipient_phone"))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(_problem("email_invalid", "email"))
    problems += _address_problems(order)
    detail = order.address_detail.strip()
    if len(detail) < 3 or detail == order.district.strip():
        problems.append(_problem("detail_missing", "address_detail"))
    if order.postal_code and not POSTAL_CODE.match(order.postal_code):
        problems.append(_problem("postal_code_invalid", "postal_code"))
    return problems


def _address_problems(order) -> list[dict]:
    province, city, district = (
        order.province.strip(),
        order.city.strip(),
        order.district.strip(),
    )
    problems = [
        _problem(f"{field}_missing", field)
        for field, value in (("province", province), ("city", city))
        if not value
    ]
    if not district and district_required(province, city):
        problems.append(_problem("district_missing", "district"))
    for code in address_check(province, city, district):
        problems.append(_problem(code, code.split("_", 1)[0]))
    return problems
