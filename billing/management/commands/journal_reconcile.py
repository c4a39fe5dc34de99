from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

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
                    _(
                        "%(figure)s: journal %(journal)s, records %(records)s, "
                        "difference %(amount)s"
                    )
                    % {
                        "figure": d.figure,
                        "journal": d.journal,
                        "records": d.records,
                        "amount": d.amount,
                    }
                )
            raise CommandError(
                _(
                    "The journal does not reconcile for %(start)s – %(end)s: "
                    "%(count)d difference(s)."
                )
                % {"start": date_from, "end": date_to, "count": len(differences)}
            )
        self.stdout.write(
            _("The journal reconciles for %(start)s – %(end)s.")
            % {"start": date_from, "end": date_to}
        )
