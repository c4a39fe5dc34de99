from django.core.management.base import BaseCommand

from billing.cod import cod_missing_refresh


class Command(BaseCommand):
    help = (
        "List cash collected on delivery that no carrier remittance has brought in after "
        "COD_REMITTANCE_MISSING_DAYS as missing, for finance's reconciliation page. "
        "Run it daily (cron); it is also run after every remittance."
    )

    def handle(self, *args, **options):
        count = cod_missing_refresh(actor="command:cod_missing_check")
        self.stdout.write(f"{count} collected parcel(s) newly listed as not remitted.")
