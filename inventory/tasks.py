"""Thin tasks: they take ids, call a service, and retry with backoff."""

from celery import shared_task
from django.db import OperationalError

from inventory.selectors import backorder_units_owed
from inventory.services import stock_low_alerts_record
from orders.services import backorders_fill as backorders_fill_service


@shared_task(
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def backorders_fill(self, product_ids: list[int]):
    """Fill, oldest first, the backorders waiting for these products; running it twice is harmless."""
    filled = backorders_fill_service(product_ids=product_ids, actor="system")
    return [order.number for order in filled]


@shared_task
def backorders_sweep():
    """Try every backorder again: catches fills whose broker message was lost."""
    product_ids = sorted(backorder_units_owed())
    if product_ids:
        backorders_fill.delay(product_ids)
    return len(product_ids)


@shared_task
def stock_low_check():
    """Beat: announce (webhook "stock.low") the stock levels that fell to their reorder point."""
    return len(stock_low_alerts_record())
