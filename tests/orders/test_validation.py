import contextlib

import pytest
from django.utils import translation

from orders.exceptions import OrderError
from orders.models import Order, OrderEvent
from orders.selectors import order_problem_messages
from orders.services import order_correct
from orders.validation import order_problems
from tracking.models import Notification

S = Order.Status
GOOD_ADDRESS = {
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "address_detail": "科技园路1号",
    "postal_code": "518000",
}


def codes(order):
    return [(p["code"], p["field"]) for p in order.problems]


@pytest.mark.parametrize(
    ("phone", "address", "expected"),
    [
        ("12345", GOOD_ADDRESS, [("phone_invalid", "recipient_phone")]),
        ("010-12345678", GOOD_ADDRESS, [("phone_not_mobile", "recipient_phone")]),
        (
            "13800138000",
            {**GOOD_ADDRESS, "district": ""},
            [("district_missing", "district")],
        ),
        (
            "13800138000",
            {**GOOD_ADDRESS, "address_detail": "南山区", "postal_code": "51800"},
            [
                ("detail_missing", "address_detail"),
                ("postal_code_invalid", "postal_code"),
            ],
        ),
        (
            "13800138000",
            {**GOOD_ADDRESS, "district": "朝阳区"},
            [("district_not_in_city", "district")],
        ),
        (
            "13800138000",
            {**GOOD_ADDRESS, "city": "杭州市"},
            [
                ("city_not_in_province", "city"),
                ("district_not_in_city", "district"),
            ],
        ),
    ],
    ids=[
        "bad-phone",
        "landline",
        "no-district",
        "short-street-and-postcode",
        "district-of-another-city",
        "city-of-another-province",
    ],
)
def test_unusable_details_hold_the_order_for_correction(
    place_order, phone, address, expected
):
    order = place_order(phone=phone, address=address)

    assert order.status == S.NEEDS_CORRECTION
    assert codes(order) == expected
    event = order.events.get(to_status=S.NEEDS_CORRECTION)
    assert event.data == {"problems": order.problems}


def test_a_city_without_districts_needs_none(place_order):
    order = place_order(
        address={
            **GOOD_ADDRESS,
            "city": "东莞市",
            "district": "",
            "address_detail": "长安镇振安路1号",
            "postal_code": "523000",
        }
    )

    assert order.problems == []
    assert order.status == S.AWAITING_PAYMENT


def test_every_problem_is_listed_at_once(place_order):
    order = place_order(
        phone="",
        name=" ",
        email="not-an-email",
        address={"province": "广东省", "address_detail": ""},
    )

    assert codes(order) == [
        ("name_missing", "recipient_name"),
        ("phone_missing", "recipient_phone"),
        ("email_invalid", "email"),
        ("city_missing", "city"),
        ("district_missing", "district"),
        ("detail_missing", "address_detail"),
    ]


def test_problems_are_shown_in_the_readers_language(place_order):
    order = place_order(phone="010-12345678")

    with translation.override("en"):
        assert order_problem_messages(order) == [
            "The phone number is not a mobile number; couriers need one."
        ]


def test_the_customer_is_asked_to_check_their_details(place_order):
    order = place_order(phone="010-12345678")

    # A landline cannot take an SMS: the request goes by email only.
    asked = Notification.objects.filter(order=order, template="needs_correction")
    assert list(asked.values_list("channel", "recipient")) == [
        ("email", "buyer@example.com")
    ]


def test_a_correction_with_good_data_lets_the_order_continue(place_order, staff_user):
    order = place_order(phone="010-12345678", address={**GOOD_ADDRESS, "district": ""})

    order = order_correct(
        order=order,
        changes={"recipient_phone": "138 0013 8000", "district": "南山区"},
        actor=staff_user,
    )

    assert order.status == S.AWAITING_PAYMENT
    assert order.problems == []
    assert (order.recipient_phone, order.district) == ("+8613800138000", "南山区")
    correction = order.events.get(kind=OrderEvent.Kind.CORRECTION)
    assert correction.actor == staff_user
    assert correction.data == {
        "changes": {
            "recipient_phone": {"from": "+861012345678", "to": "+8613800138000"},
            "district": {"from": "", "to": "南山区"},
        }
    }
    moves = [
        (e.from_status, e.to_status)
        for e in order.events.filter(kind=OrderEvent.Kind.STATUS)
    ]
    assert moves == [
        ("received", "needs_correction"),
        ("needs_correction", "awaiting_payment"),
    ]


def test_a_cod_order_corrected_goes_on_to_reserve_stock(place_order, staff_user):
    order = place_order(payment_method="cod", phone="12345")

    order = order_correct(
        order=order, changes={"recipient_phone": "13800138000"}, actor=staff_user
    )

    assert order.status == S.READY_TO_FULFILL
    assert order.reservations.get().quantity == 1


def test_a_correction_that_fixes_only_part_keeps_the_order_held(
    place_order, staff_user
):
    order = place_order(phone="12345", address={**GOOD_ADDRESS, "district": ""})

    with translation.override("en"):
        order = order_correct(
            order=order, changes={"recipient_phone": "13800138000"}, actor=staff_user
        )

    assert order.status == S.NEEDS_CORRECTION
    assert codes(order) == [("district_missing", "district")]
    still = order.events.filter(kind=OrderEvent.Kind.CORRECTION).last()
    assert still.message == "Still needs correcting."
    assert order.events.filter(to_status=S.NEEDS_CORRECTION).count() == 1


def test_the_address_cannot_change_once_fulfilment_started(place_order, staff_user):
    order = place_order(payment_method="cod")

    with translation.override("en"), pytest.raises(OrderError) as caught:
        order_correct(order=order, changes={"city": "广州市"}, actor=staff_user)

    assert str(caught.value) == (
        "The address can no longer be changed: the order is being fulfilled."
    )
    order.refresh_from_db()
    assert order.city == "深圳市"


def test_order_problems_finds_nothing_on_good_data(place_order):
    order = place_order()

    assert order_problems(order, email="buyer@example.com") == []


def test_a_correction_while_awaiting_payment_is_validated_too(place_order, staff_user):
    order = place_order()
    assert order.status == S.AWAITING_PAYMENT

    with contextlib.suppress(OrderError):
        order_correct(
            order=order,
            changes={"recipient_phone": "12345", "district": ""},
            actor=staff_user,
        )

    order.refresh_from_db()
    # Either the bad details were refused, or the order says what is wrong with them.
    assert order.recipient_phone == "+8613800138000" or order.problems
