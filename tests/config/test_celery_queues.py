"""Every task goes to the queue of its kind, and a worker started without -Q takes them all."""

import pytest
from django.conf import settings

from config.celery_app import app

QUEUES = settings.CELERY_QUEUE_NAMES


@pytest.fixture(scope="module")
def our_tasks():
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def queue_of(task_name):
    return app.amqp.router.route({}, task_name)["queue"].name


def test_every_task_of_ours_is_routed_to_a_declared_queue(our_tasks):
    declared = set(app.amqp.queues)
    assert len(our_tasks) >= 15
    routed = {name: queue_of(name) for name in our_tasks}
    assert {name: q for name, q in routed.items() if q not in declared} == {}


@pytest.mark.parametrize(
    "task_name, queue",
    [
        ("tracking.tasks.notification_send", "notifications"),
        ("tracking.tasks.notifications_flush", "notifications"),
        ("tracking.tasks.parcel_check_task", "tracking"),
        ("tracking.tasks.tracking_poll_due", "tracking"),
        ("tracking.tasks.parcel_subscribe_task", "tracking"),
        ("tracking.tasks.parcel_exceptions_detect_task", "tracking"),
        ("tracking.tasks.transit_standards_learn_task", "tracking"),
        ("orders.tasks.import_batch_run_task", "imports"),
        ("orders.tasks.imports_resume", "imports"),
        ("tracking.tasks.webhook_deliver", "webhooks"),
        ("tracking.tasks.webhooks_flush", "webhooks"),
        ("billing.tasks.cod_missing_check_task", "reports"),
        ("orders.tasks.analytics_stage_times_refresh_task", "reports"),
        ("inventory.tasks.backorders_fill", "default"),
        ("billing.tasks.unpaid_orders_cancel_task", "default"),
        ("billing.tasks.provider_refund_check_task", "default"),
    ],
)
def test_each_kind_of_work_has_its_own_queue(our_tasks, task_name, queue):
    assert task_name in our_tasks
    assert queue_of(task_name) == QUEUES[queue]


@pytest.mark.parametrize(
    "task_name, queue",
    [
        ("orders.tasks.webhook_replay", "webhooks"),
        ("tracking.outbound_webhooks.deliver", "webhooks"),
        ("billing.tasks.sales_report_build", "reports"),
        ("orders.tasks.analytics_refresh", "reports"),
        ("billing.tasks.journal_rebuild", "reports"),
        ("orders.tasks.orders_export_build", "reports"),
        ("inventory.tasks.something_new", "default"),
    ],
)
def test_tasks_added_later_find_their_queue_by_name(task_name, queue):
    assert queue_of(task_name) == QUEUES[queue]


def test_a_worker_without_queue_options_takes_every_queue():
    """The embedded run and the README's single `celery worker` consume everything."""
    assert set(app.amqp.queues) == set(QUEUES.values())
    assert app.conf.task_default_queue == QUEUES["default"] == "celery"


def test_each_worker_process_reserves_one_task_at_a_time_and_acknowledges_after_running():
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True


def test_beat_jobs_are_sent_to_the_queue_of_their_kind():
    queues = {
        entry["task"]: queue_of(entry["task"])
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert queues["tracking.tasks.notifications_flush"] == QUEUES["notifications"]
    assert queues["tracking.tasks.tracking_poll_due"] == QUEUES["tracking"]
    assert queues["orders.tasks.imports_resume"] == QUEUES["imports"]
    assert queues["tracking.tasks.webhooks_flush"] == QUEUES["webhooks"]
    assert queues["billing.tasks.cod_missing_check_task"] == QUEUES["reports"]
