"""The order list's export buttons: the same filters as the list, another output."""

from django.http import Http404
from django.utils import timezone
from django.views import View

from orders.exports import csv_streaming_response, xlsx_file_response
from orders.forms import OrderFilterForm
from orders.order_exports import EXPORTS, export_table
from orders.selectors import order_list
from orders.views import ConsoleView


class OrderExportView(ConsoleView, View):
    """``?format=xlsx`` or CSV; every other parameter is the order list's filter."""

    permission_required = "orders.export_orders"

    def get(self, request, kind):
        if kind not in EXPORTS:
            raise Http404
        filters = OrderFilterForm(request.GET or None).filters()
        header, rows = export_table(kind=kind, orders=order_list(**filters))
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        if request.GET.get("format") == "xlsx":
            return xlsx_file_response(
                filename=f"{kind}-{stamp}.xlsx", title=kind, header=header, rows=rows
            )
        return csv_streaming_response(
            filename=f"{kind}-{stamp}.csv", header=header, rows=rows
        )
