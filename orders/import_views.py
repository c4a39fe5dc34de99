"""Console screens for marketplace imports: upload, progress, and the report."""

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from orders.exports import SafeCsvWriter
from orders.import_forms import ImportUploadForm
from orders.imports import import_batch_create, rejection_message
from orders.selectors import (
    import_batch_for_console,
    import_batches_recent,
    import_progress,
)
from orders.views import ConsoleView

# Rejected rows shown on the page; the CSV report has them all.
REJECTIONS_SHOWN = 200


class ImportListView(ConsoleView, View):
    """The upload form and the latest imports."""

    permission_required = "orders.add_importbatch"

    def get(self, request):
        return self.page(ImportUploadForm())

    def post(self, request):
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(form, status=400)
        batch = import_batch_create(
            channel=form.cleaned_data["channel"],
            file=form.cleaned_data["file"],
            items_file=form.cleaned_data["items_file"],
            platform=form.cleaned_data["platform"],
            actor=request.user,
        )
        messages.success(request, _("The file is being imported."))
        return redirect("imports:detail", batch_id=batch.pk)

    def page(self, form, status=200):
        return render(
            self.request,
            "orders/import_list.html",
            {"form": form, "batches": import_batches_recent()},
            status=status,
        )


class _BatchView(ConsoleView, View):
    permission_required = "orders.view_importbatch"

    def batch(self, batch_id):
        batch = import_batch_for_console(batch_id)
        if batch is None:
            raise Http404(_("No such import."))
        return batch


class ImportDetailView(_BatchView):
    def get(self, request, batch_id):
        batch = self.batch(batch_id)
        rejections = list(batch.rejections.all()[:REJECTIONS_SHOWN])
        for rejection in rejections:
            rejection.reason = rejection_message(rejection)
        return render(
            request,
            "orders/import_detail.html",
            {
                "batch": batch,
                "progress": import_progress(batch),
                "rejections": rejections,
                "more_rejections": len(rejections) == REJECTIONS_SHOWN,
            },
        )


class ImportProgressView(_BatchView):
    """The progress bar's JSON, polled while the import runs."""

    def get(self, request, batch_id):
        return JsonResponse(import_progress(self.batch(batch_id)))


class ImportReportView(_BatchView):
    """Every rejected row as CSV (with a BOM, so Excel reads the Chinese right)."""

    def get(self, request, batch_id):
        batch = self.batch(batch_id)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="import-{batch.pk}-report.csv"'
        )
        response.write("\ufeff")
        # The reason and detail repeat cells of the uploaded file, which may be formulas.
        writer = SafeCsvWriter(response)
        writer.writerow(
            [_("Row"), _("File"), _("Field"), _("Code"), _("Reason"), _("Detail")]
        )
        for rejection in batch.rejections.iterator(chunk_size=2000):
            writer.writerow(
                [
                    rejection.row,
                    _("Items file") if rejection.file else _("Orders file"),
                    rejection.field,
                    rejection.code,
                    rejection_message(rejection),
                    rejection.message,
                ]
            )
        return response
