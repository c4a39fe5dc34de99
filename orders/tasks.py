"""Thin tasks: they take ids, call a service, and retry with backoff."""

from datetime import timedelta

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from orders import analytics_services, imports
from orders.models import ImportBatch

# A batch still waiting this long lost its broker message; it is queued again.
IMPORT_REQUEUE_AFTER = timedelta(minutes=2)


@shared_task(
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def import_batch_run_task(self, batch_id: int):
    """Run one marketplace import; running it twice imports nothing twice."""
    batch = imports.import_batch_run(batch_id=batch_id)
    return batch.status


@shared_task
def imports_resume():
    """Queue again the imports whose broker message was lost (the batch row is the outbox)."""
    waiting = list(
        ImportBatch.objects.filter(
            status=ImportBatch.Status.PENDING,
            created_at__lt=timezone.now() - IMPORT_REQUEUE_AFTER,
        ).values_list("pk", flat=True)
    )
    for batch_id in waiting:
        import_batch_run_task.delay(batch_id)
    return len(waiting)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def analytics_stage_times_refresh_task():
    """Copy the stage times of the orders changed since the last run and count their days
    again in DailyFigures (beat, every few minutes)."""
    return analytics_services.stage_times_catch_up()
