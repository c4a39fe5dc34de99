from orders.exceptions import OrderError


class RefundError(OrderError):
    """A refund cannot be requested or moved on; the message says why."""

    def __init__(self, message, *, field=None):
        self.field = field
        super().__init__(message)
