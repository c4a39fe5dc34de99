"""Small display helpers for the staff console: money, statuses, phone numbers."""

from decimal import Decimal, InvalidOperation

from django import template

from orders.models import Order
from orders.phones import phone_display
from tracking.models import TrackingStatus

register = template.Library()


@register.filter
def money(value) -> str:
    """Return the amount in yuan with two decimals: ¥1,234.50."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@register.filter
def status_label(value) -> str:
    """Return the readable name of an order status value ("" stays "")."""
    if not value:
        return ""
    try:
        return Order.Status(value).label
    except ValueError:
        return value


@register.filter
def phone(value) -> str:
    """Return the phone number as people read it: 138 0013 8000."""
    return phone_display(value) if value else ""


@register.filter
def tracking_label(value) -> str:
    """Return the readable name of a normalised tracking status."""
    try:
        return TrackingStatus(value).label
    except ValueError:
        return value
