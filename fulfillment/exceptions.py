from orders.exceptions import OrderError


class ShipmentError(OrderError):
    """A shipment cannot do what was asked; the message says why."""
