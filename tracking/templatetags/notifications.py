"""The order page's messages panel, kept in tracking so orders need not import it."""

from django import template

from tracking.notification_forms import NotificationChoicesForm
from tracking.selectors import order_notifications

register = template.Library()


@register.inclusion_tag(
    "tracking/partials/order_notifications.html", takes_context=True
)
def order_notifications_panel(context, order):
    """Each message to the customer with its delivery state, and their channel choices."""
    return {
        "perms": context.get("perms"),
        "csrf_token": context.get("csrf_token"),
        "order": order,
        "notifications": order_notifications(order),
        "choices_form": NotificationChoicesForm.for_customer(order.customer),
    }
