from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.reconcile import journal_reconcile


class Command(BaseCommand):
    help = (
        "Check that the journal's totals equal the recognised order totals, payments, "
        "refunds and cost of goods of a period (default: this month so far); exit 1 "
        "listing the differences when they do not."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", type=date.fromisoformat)
        parser.add_argument("--to", dest="date_to", type=date.fromisoformat)

    def handle(self, *args, date_from=None, date_to=None, **options):
        today = timezone.localdate()
        date_from = date_from or today.replace(day=1)
        date_to = date_to or today
        differences = journal_reconcile(date_from=date_from, date_to=date_to)
        if differences:
            for d in differences:
                self.stderr.write(
                    f"{d.figure}: journal {d.journal}, records {d.records}, "
                    f"difference {d.amount}"
                )
            raise CommandError(
                f"The journal does not reconcile for {date_from} – {date_to}: "
                f"{len(differences)} difference(s)."
            )
        self.stdout.write(f"The journal reconciles for {date_from} – {date_to}.")
