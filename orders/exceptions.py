from django.utils.translation import gettext_lazy as _


class OrderError(Exception):
    """A business rule refused the request; the message is shown to the user as it is."""


class InvalidTransition(OrderError):
    def __init__(self, *, order, to_status):
        from orders.models import Order

        self.order = order
        self.to_status = to_status
        super().__init__(
            _("Order %(number)s cannot go from “%(from)s” to “%(to)s”.")
            % {
                "number": order.number,
                "from": Order.Status(order.status).label,
                "to": Order.Status(to_status).label,
            }
        )
