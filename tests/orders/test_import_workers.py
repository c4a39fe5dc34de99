"""A marketplace import taken by several processes at once (PostgreSQL only)."""

import pytest
from django.db import connection

from inventory.models import StockLevel, StockMovement
from orders import imports
from orders.imports import import_batch_create, import_batch_run, import_workers
from orders.models import Order, OrderEvent
from tests.factories.marketplace_files import taobao_file, taobao_row

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite takes one writer at a time: imports run in one process",
    ),
]


@pytest.fixture
def two_workers(settings, monkeypatch):
    settings.IMPORT_WORKERS = 2
    monkeypatch.setattr(imports, "CHUNK_ORDERS", 3)


def run(channel, rows):
    batch = import_batch_create(
        channel=channel, file=taobao_file(rows), actor="test", queue=False
    )
    return import_batch_run(batch_id=batch.pk)


def test_an_import_outside_a_transaction_on_postgresql_uses_the_workers(two_workers):
    assert import_workers() == 2


def test_chunks_taken_by_two_processes_create_each_order_once(two_workers, taobao, tea):
    # Ten orders in four chunks; every buyer has the same phone, so both processes
    # try to add the same new customer at once.
    rows = [taobao_row(f"T{n}", count=1) for n in range(10)]

    batch = run(taobao, rows)

    assert (batch.status, batch.created_count, batch.rows_done) == ("done", 10, 10)
    assert Order.objects.count() == 10
    assert Order.objects.values("customer").distinct().count() == 1
    level = StockLevel.objects.get(product=tea)
    assert level.reserved == 10
    reserved = sum(m.reserved_delta for m in StockMovement.objects.filter(product=tea))
    assert reserved == level.reserved


def test_the_same_file_again_through_two_processes_finds_everything_unchanged(
    two_workers, taobao, tea
):
    rows = [taobao_row(f"T{n}", count=1) for n in range(10)]
    run(taobao, rows)
    events = OrderEvent.objects.count()

    again = run(taobao, rows)

    assert (again.created_count, again.unchanged_count) == (0, 10)
    assert OrderEvent.objects.count() == events
