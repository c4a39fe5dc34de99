"""Reads of orders, shaped for the pages that show them."""

from orders.models import Order
from orders.phones import phone_digits


def order_matches_phone(order: Order, phone: str) -> bool:
    """Return whether the phone (full number or its last 4 digits) belongs to the order."""
    given = phone_digits(phone)
    if len(given) < 4:
        return False
    known = {phone_digits(order.recipient_phone), phone_digits(order.customer.phone)} - {""}
    if len(given) == 4:
        return any(number.endswith(given) for number in known)
    return given in known
