"""The order page's panel of cash on delivery per parcel and the marketplace settlement."""

from django import template

from billing.cod_selectors import cod_collections_for_order, settlement_for_order

register = template.Library()


@register.inclusion_tag("billing/partials/order_finance.html", takes_context=True)
def order_finance_panel(context, order):
    """Render each parcel's cash collected and remitted, and what the platform settled."""
    user = context["request"].user
    if not user.has_perm("billing.view_payment"):
        return {"show": False}
    return {
        "show": True,
        "order": order,
        "collections": list(cod_collections_for_order(order)) if order.is_cod else [],
        "settlement": settlement_for_order(order),
    }
