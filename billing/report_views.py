"""Console pages for financial reports, with CSV and XLSX export."""

import csv
import io
from datetime import date

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from billing.reports import receivables, report_totals, sales_report
from inventory.models import Warehouse
from orders.exports import safe_cell
from orders.models import Channel

COLUMNS = (
    ("goods", gettext_lazy("Sales (goods, net of tax)")),
    ("shipping_income", gettext_lazy("Shipping income")),
    ("discounts", gettext_lazy("Discounts")),
    ("net_sales", gettext_lazy("Net sales")),
    ("tax", gettext_lazy("Tax collected")),
    ("cost_of_goods", gettext_lazy("Cost of goods")),
    ("shipping_cost", gettext_lazy("Shipping cost")),
    ("platform_fees", gettext_lazy("Platform fees")),
    ("refunds", gettext_lazy("Refunds")),
    ("gross_margin", gettext_lazy("Gross margin")),
)


def _date(value, default):
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


class SalesReportView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """Daily or monthly sales, margin, tax and receivables, from the journal.

    A fixed number of queries whatever the period: one grouped query for the rows.
    """

    permission_required = "billing.view_finance_reports"

    def get(self, request):
        today = timezone.localdate()
        date_from = _date(request.GET.get("from"), today.replace(day=1))
        date_to = _date(request.GET.get("to"), today)
        by = "month" if request.GET.get("by") == "month" else "day"
        channel = request.GET.get("channel") or None
        sku = request.GET.get("sku", "").strip() or None
        warehouse = request.GET.get("warehouse") or None
        rows = sales_report(
            date_from=date_from,
            date_to=date_to,
            by=by,
            channel=channel,
            sku=sku,
            warehouse=warehouse,
        )
        columns = [(name, str(label)) for name, label in COLUMNS]
        fmt = request.GET.get("format")
        if fmt in ("csv", "xlsx"):
            return self.export(fmt, rows, columns, by, date_from, date_to)
        return render(
            request,
            "billing/report_sales.html",
            {
                "rows": [
                    (row.period, [getattr(row, n) for n, _l in columns]) for row in rows
                ],
                "totals": [getattr(report_totals(rows), n) for n, _l in columns],
                "columns": columns,
                "receivables": receivables(date_to=date_to),
                "channels": Channel.objects.order_by("name"),
                "warehouses": Warehouse.objects.order_by("name"),
                "filters": {
                    "from": date_from,
                    "to": date_to,
                    "by": by,
                    "channel": channel or "",
                    "sku": sku or "",
                    "warehouse": warehouse or "",
                },
                "whole_orders": not (sku or warehouse),
                "query": request.GET.urlencode(),
            },
        )

    def export(self, fmt, rows, columns, by, date_from, date_to):
        header = [_("Month") if by == "month" else _("Day")] + [
            label for _n, label in columns
        ]
        body = [
            [row.period.strftime("%Y-%m" if by == "month" else "%Y-%m-%d")]
            + [getattr(row, n) for n, _l in columns]
            for row in rows
        ]
        name = f"sales-{date_from}-{date_to}"
        if fmt == "csv":
            out = io.StringIO()
            out.write("\ufeff")  # Excel reads UTF-8 with a BOM
            writer = csv.writer(out)
            for values in [header, *body]:
                writer.writerow([safe_cell(v) for v in values])
            response = HttpResponse(out.getvalue(), content_type="text/csv")
        else:
            from openpyxl import Workbook

            book = Workbook()
            sheet = book.active
            for values in [header, *body]:
                sheet.append([safe_cell(v) for v in values])
            out = io.BytesIO()
            book.save(out)
            response = HttpResponse(
                out.getvalue(),
                content_type="application/vnd.openxmlformats-officedocument"
                ".spreadsheetml.sheet",
            )
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response
