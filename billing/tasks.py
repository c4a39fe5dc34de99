"""Periodic billing jobs; each calls one service and is safe to run again."""

from celery import shared_task

from billing.cod import cod_missing_refresh
from billing.payments import unpaid_orders_cancel


@shared_task(
    autoretry_for=(Exception,), retry_backoff=True, max_retries=5, ignore_result=True
)
def unpaid_orders_cancel_task() -> int:
    """Cancel prepaid orders left unpaid too long (UNPAID_ORDER_CANCEL_HOURS)."""
    return unpaid_orders_cancel()


@shared_task(
    autoretry_for=(Exception,), retry_backoff=True, max_retries=5, ignore_result=True
)
def cod_missing_check_task() -> int:
    """List collected cash no remittance brought in after COD_REMITTANCE_MISSING_DAYS."""
    return cod_missing_refresh(actor="system")
