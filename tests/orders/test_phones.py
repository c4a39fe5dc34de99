import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.phones import (
    phone_digits,
    phone_display,
    phone_is_mobile,
    phone_is_valid,
    phone_normalise,
)
from orders.selectors import order_matches_phone
from tests.factories.orders import CustomerFactory, OrderFactory


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+86 138 0013 8000",
        "+8613800138000",
        "008613800138000",
        "138-0013-8000",
        " '13800138000 ",
    ],
)
def test_a_mobile_number_written_any_way_normalises_to_e164(raw):
    assert phone_normalise(raw) == "+8613800138000"
    assert phone_digits(raw) == "13800138000"
    assert phone_is_mobile(raw)


def test_the_last_four_digits_keep_a_leading_zero():
    assert phone_digits("0476") == "0476"
    assert phone_digits("+8613538100476").endswith(phone_digits("0476"))


def test_an_invalid_number_is_kept_as_given_trimmed():
    assert phone_normalise(" 12345 ") == "12345"
    assert phone_normalise("") == ""
    assert not phone_is_valid("12345")
    assert not phone_is_valid("")


def test_a_landline_is_valid_but_not_mobile():
    assert phone_normalise("010-12345678") == "+861012345678"
    assert phone_is_valid("010-12345678")
    assert not phone_is_mobile("010-12345678")


def test_display_groups_a_chinese_mobile_number():
    assert phone_display("+8613800138000") == "138 0013 8000"
    assert phone_display("12345") == "12345"


def test_a_foreign_number_keeps_its_country_code():
    assert phone_normalise("+852 9123 4567") == "+85291234567"
    assert phone_display("+85291234567") == "+852 9123 4567"


@pytest.mark.parametrize(
    ("given", "matches"),
    [
        ("13800138000", True),
        ("+86 138 0013 8000", True),
        ("8000", True),
        ("13912345678", True),  # the customer's own number
        ("5678", True),
        ("1234", False),
        ("800", False),  # fewer than 4 digits never match
        ("38000", False),  # neither a whole number nor its last 4
        ("13800138001", False),
        ("", False),
    ],
)
def test_order_matches_phone_by_full_number_or_last_four(db, given, matches):
    order = OrderFactory(
        customer=CustomerFactory(phone="+8613912345678"),
        recipient_phone="+8613800138000",
    )

    assert order_matches_phone(order, given) is matches


@given(st.from_regex(r"1[0-9]{10}|0?[1-9][0-9]{6,11}|[0-9]{5,13}", fullmatch=True))
def test_a_national_number_reads_as_the_phonenumbers_library_reads_it(text):
    from orders.phones import _parse

    facts = _parse(text, "CN")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        # e.g. "00200": an international prefix with no country after it.
        assert (facts.number, facts.valid, facts.mobile) == (None, False, False)
        return
    assert facts.number == number
    assert facts.valid == phonenumbers.is_valid_number(number)
    assert facts.mobile == (
        phonenumbers.number_type(number)
        in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    )
