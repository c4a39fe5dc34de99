from orders.models import Order


def test_a_prepaid_order_waits_for_payment(place_order):
    order = place_order()
    assert order.status == Order.Status.AWAITING_PAYMENT
