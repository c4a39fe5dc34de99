"""The dashboard's ship-by panel, kept in fulfillment so orders need not import it."""

from django import template

from fulfillment.shipping_selectors import ship_by_counts

register = template.Library()


@register.inclusion_tag("fulfillment/partials/ship_by_panel.html", takes_context=True)
def ship_by_panel(context):
    """Orders due to ship today and orders already late."""
    return {"perms": context.get("perms"), "counts": ship_by_counts()}
