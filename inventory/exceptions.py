from orders.exceptions import OrderError


class StockError(OrderError):
    """A stock change that would break the books (negative or over-reserved stock)."""
