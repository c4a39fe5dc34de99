"""Prepaid orders left unpaid are cancelled after UNPAID_ORDER_CANCEL_HOURS."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import translation

from billing.models import Payment
from billing.payments import unpaid_orders_cancel
from billing.services import payment_confirm
from billing.tasks import unpaid_orders_cancel_task
from inventory.models import StockLevel
from orders.models import Order
from tracking.models import Notification

S = Order.Status


@pytest.fixture(autouse=True)
def in_english():
    """The cancellation reason is compared in English."""
    with translation.override("en"):
        yield


def test_default_is_24_hours():
    assert settings.UNPAID_ORDER_CANCEL_HOURS == 24
    assert (
        settings.CELERY_BEAT_SCHEDULE["unpaid-orders-cancel"]["task"]
        == "billing.tasks.unpaid_orders_cancel_task"
    )


def test_unpaid_order_is_cancelled_after_the_limit_and_customer_told(place_order):
    order = place_order(quantity=3)

    assert unpaid_orders_cancel(now=order.placed_at + timedelta(hours=23)) == 0
    assert unpaid_orders_cancel(now=order.placed_at + timedelta(hours=25)) == 1

    order.refresh_from_db()
    assert order.status == S.CANCELLED
    event = order.events.get(to_status=S.CANCELLED)
    assert (event.actor_label, event.message) == (
        "system",
        "Not paid within 24 hours.",
    )
    assert Notification.objects.filter(order=order, template="order_cancelled").exists()
    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (10, 0)


def test_limit_comes_from_the_setting(place_order, settings):
    settings.UNPAID_ORDER_CANCEL_HOURS = 2
    order = place_order()

    assert unpaid_orders_cancel(now=order.placed_at + timedelta(hours=3)) == 1


def test_paid_part_paid_held_and_cod_orders_are_left_alone(place_order):
    paid = place_order()
    payment_confirm(order=paid, method="alipay", amount=paid.total, actor="psp")
    part = place_order()
    payment_confirm(order=part, method="alipay", amount=Decimal("1.00"), actor="psp")
    held = place_order()
    Payment.objects.create(
        order=held, method="alipay", amount=Decimal("1.00"), status="review"
    )
    cod = place_order(payment_method="cod")
    later = max(o.placed_at for o in (paid, part, held, cod)) + timedelta(days=3)

    assert unpaid_orders_cancel(now=later) == 0

    assert set(Order.objects.values_list("status", flat=True)) == {
        S.READY_TO_FULFILL,
        S.AWAITING_PAYMENT,
    }


def test_running_again_cancels_nothing_more(place_order):
    order = place_order()
    later = order.placed_at + timedelta(days=2)

    assert unpaid_orders_cancel(now=later) == 1
    assert unpaid_orders_cancel(now=later) == 0
    assert order.events.filter(to_status=S.CANCELLED).count() == 1


@pytest.mark.django_db
def test_task_calls_the_service(place_order, settings):
    settings.UNPAID_ORDER_CANCEL_HOURS = 0
    place_order()

    assert unpaid_orders_cancel_task.apply().get() == 1
