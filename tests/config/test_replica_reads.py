"""Reports read from the replica when one is configured; nothing else does, and no write.

The test settings add a ``replica`` alias mirrored onto the test database (Django's
``TEST["MIRROR"]``), a second connection that sees what the first has committed; the
tests commit (``transaction=True``) and count the queries each connection runs.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.journal import Posting, journal_post
from billing.journal_models import JournalEntry, JournalLine
from billing.reports import sales_report
from config.db_router import replica_reads
from orders.roles import FINANCE

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def replica(settings):
    settings.REPORTING_DATABASE = "replica"
    yield connections["replica"]
    # An open connection would keep PostgreSQL from dropping the test database.
    connections["replica"].close()


def book_sale(number, day, total):
    return journal_post(
        kind=JournalEntry.Kind.SALE,
        source=f"order:{number}",
        date=day,
        postings=[Posting("1122", debit=total), Posting("6001", credit=total)],
    )


def november():
    return sales_report(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))


def sql(captured):
    return [q["sql"] for q in captured.captured_queries]


def test_a_report_inside_replica_reads_queries_only_the_replica(replica):
    book_sale(1, date(2026, 11, 3), Decimal("190.00"))

    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(replica) as on_replica,
        replica_reads(),
    ):
        rows = november()

    assert [(r.period, r.goods) for r in rows] == [
        (date(2026, 11, 3), Decimal("190.00"))
    ]
    assert len(on_replica) >= 1
    assert all(s.upper().startswith("SELECT") for s in sql(on_replica))
    assert sql(primary) == []


def test_outside_replica_reads_the_report_reads_the_primary(replica):
    book_sale(1, date(2026, 11, 3), Decimal("190.00"))

    with CaptureQueriesContext(replica) as on_replica:
        rows = november()

    assert len(rows) == 1
    assert sql(on_replica) == []


def test_without_a_replica_replica_reads_reads_the_primary(settings):
    settings.REPORTING_DATABASE = "default"
    book_sale(1, date(2026, 11, 3), Decimal("190.00"))

    with CaptureQueriesContext(connections["replica"]) as on_replica, replica_reads():
        rows = november()

    assert len(rows) == 1
    assert sql(on_replica) == []
    connections["replica"].close()


def test_writes_inside_replica_reads_go_to_the_primary(replica):
    with CaptureQueriesContext(replica) as on_replica, replica_reads():
        entry = book_sale(1, date(2026, 11, 3), Decimal("190.00"))
        line = JournalLine.objects.filter(entry=entry).first()
        read_from = line._state.db

    assert read_from == "replica"
    assert not [s for s in sql(on_replica) if s.upper().startswith(WRITES)]
    assert JournalEntry.objects.using("default").filter(pk=entry.pk).exists()


def test_reads_inside_a_transaction_stay_on_the_primary(replica):
    entry = book_sale(1, date(2026, 11, 3), Decimal("190.00"))

    with replica_reads(), transaction.atomic():
        line = JournalLine.objects.filter(entry=entry).first()

    assert line._state.db == "default"


def test_the_sales_report_page_reads_the_books_from_the_replica(
    client, member, replica
):
    book_sale(1, date(2026, 11, 3), Decimal("190.00"))
    client.force_login(member(FINANCE))

    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(replica) as on_replica,
    ):
        page = client.get(
            reverse("finance_reports:sales"), {"from": "2026-11-01", "to": "2026-11-30"}
        )

    assert page.status_code == 200 and b"190.00" in page.content
    assert any("billing_journal" in s for s in sql(on_replica))
    assert not [s for s in sql(on_replica) if s.upper().startswith(WRITES)]
    # The session and the user are read from the primary (a fresh login is there).
    assert any("django_session" in s for s in sql(primary))
    assert not [s for s in sql(primary) if "billing_journal" in s]


def test_a_console_page_that_is_not_a_report_never_reads_the_replica(
    client, member, replica
):
    client.force_login(member(FINANCE))

    with CaptureQueriesContext(replica) as on_replica:
        page = client.get(reverse("console:dashboard"))

    assert page.status_code == 200
    assert sql(on_replica) == []


@pytest.mark.parametrize(
    "page", ["peaks", "products", "channels", "process", "exception_rates"]
)
def test_the_analytics_pages_read_the_orders_from_the_replica(
    client, member, replica, place_order, page
):
    place_order()
    client.force_login(member(FINANCE))

    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(replica) as on_replica,
    ):
        response = client.get(reverse(f"analytics:{page}"))

    # The orders, or the analytics copies of them (OrderStageTimes, DailyFigures).
    orders = ("orders_order", "orders_dailyfigures")
    assert response.status_code == 200
    assert any(table in s for s in sql(on_replica) for table in orders)
    assert not [s for s in sql(primary) for table in orders if table in s]
