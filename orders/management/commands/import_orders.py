import sys
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from orders.imports import import_batch_create, import_batch_run, rejection_message
from orders.models import Channel, ImportBatch

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Import marketplace order exports (Taobao/Tmall, JD, Pinduoduo; CSV or XLSX, "
        "UTF-8 or GBK) into a channel. Importing a file again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--channel", required=True, help="channel code, e.g. taobao"
        )
        parser.add_argument(
            "--items", help="Taobao 宝贝报表 to join to the (single) 订单报表 given"
        )
        parser.add_argument(
            "--platform",
            choices=["taobao", "jd", "pinduoduo"],
            help="the export's platform (default: the channel's, else from the headers)",
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help="queue the imports for the Celery worker instead of running them here",
        )

    def handle(self, *args, files, channel, items, platform, background, **options):
        found = Channel.objects.filter(code=channel).first()
        if found is None:
            raise CommandError(f"No channel with code {channel!r}.")
        if items and len(files) != 1:
            raise CommandError("--items goes with exactly one orders file.")
        failed = False
        for name in files:
            batch = self._create(found, name, items, platform or "", background)
            if background:
                self.stdout.write(f"{name}: queued as import {batch.pk}")
                continue
            batch = import_batch_run(batch_id=batch.pk, progress=self._progress)
            sys.stderr.write("\n")
            failed |= batch.status != ImportBatch.Status.DONE
            self._report(name, batch)
        if failed:
            raise CommandError("Some files could not be imported.")

    def _create(self, channel, name, items, platform, background):
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"No such file: {name}")
        with path.open("rb") as upload:
            items_file = Path(items).open("rb") if items else None  # noqa: SIM115
            try:
                return import_batch_create(
                    channel=channel,
                    file=File(upload, name=path.name),
                    items_file=items_file and File(items_file, Path(items).name),
                    platform=platform,
                    actor=f"command:{channel.code}",
                    queue=background,
                )
            finally:
                if items_file:
                    items_file.close()

    def _progress(self, batch):
        total = max(batch.rows_total, batch.rows_done, 1)
        done = batch.rows_done / total
        filled = int(done * BAR_WIDTH)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done:6.1%} "
            f"{batch.rows_done}/{total} rows"
        )
        sys.stderr.flush()

    def _report(self, name, batch):
        if batch.status == ImportBatch.Status.FAILED:
            self.stderr.write(f"{name}: not imported: {batch.error}")
            return
        self.stdout.write(
            f"{name}: {batch.rows_done} rows; created {batch.created_count}, "
            f"updated {batch.updated_count}, unchanged {batch.unchanged_count}, "
            f"rejected rows {batch.rejected_count}"
        )
        for rejection in batch.rejections.all():
            detail = rejection.message
            self.stdout.write(
                f"  row {rejection.row}: {rejection_message(rejection)}"
                + (f" ({detail})" if detail != rejection_message(rejection) else "")
            )
