"""Billing jobs, periodic or queued by a service; each calls one service and is safe to run again."""

from celery import shared_task
from django.db import OperationalError

from billing.cod import cod_missing_refresh
from billing.payments import unpaid_orders_cancel
from billing.provider_refunds import RefundStillProcessing, refund_provider_check
from billing.providers import RefundUnanswered
from billing.selectors import refunds_provider_processing


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


@shared_task(
    bind=True,
    autoretry_for=(RefundStillProcessing, RefundUnanswered, OperationalError),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=10,
    ignore_result=True,
)
def provider_refund_check_task(self, refund_id: int) -> None:
    """Ask Alipay or WeChat Pay whether a refund it was processing is paid; once paid, stop."""
    refund_provider_check(
        refund_id=refund_id, last_try=self.request.retries >= self.max_retries
    )


@shared_task(ignore_result=True)
def provider_refunds_check_task() -> int:
    """Queue a check of every refund a provider is still processing (lost messages, long waits)."""
    ids = refunds_provider_processing()
    for refund_id in ids:
        provider_refund_check_task.delay(refund_id)
    return len(ids)
