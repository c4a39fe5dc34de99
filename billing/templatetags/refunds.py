"""How the order page's refunds can be paid back: through a provider, or by hand."""

from django import template

from billing.selectors import refund_route

register = template.Library()


@register.simple_tag
def order_refund_route(order):
    """Return the order's ``RefundRoute``: the provider payment, or why by hand only."""
    return refund_route(order)
