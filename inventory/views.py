"""The staff console's stock pages. Each view parses input, calls one service or selector, renders."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from inventory.exceptions import StockError
from inventory.forms import (
    BinLocationForm,
    GoodsInForm,
    StockAdjustForm,
    StockFilterForm,
    StockImportForm,
    StockLevelPlanForm,
    StockReturnForm,
    StocktakeForm,
    WarehousePickForm,
)
from inventory.imports import stock_import_csv
from inventory.models import StockMovement
from inventory.selectors import (
    backorders_owed,
    bin_codes_all,
    bin_codes_for_levels,
    movements_recent,
    replenishment_rows,
    stock_level_for_plan,
    stock_levels_for_export,
    stocktake_preview,
    stocktake_sheet,
)
from inventory.services import (
    bin_location_set,
    stock_adjust,
    stock_level_plan_update,
    stock_receive,
    stock_return,
    stocktake_post,
)
from orders.exports import SafeCsvWriter
from orders.forms import form_errors_text
from orders.views import ConsoleView


class StockView(ConsoleView, View):
    """A stock page: seeing stock needs view_stocklevel."""

    permission_required = "inventory.view_stocklevel"


class StockChangeView(StockView):
    """A page that changes stock: change_stocklevel (the warehouse role)."""

    permission_required = "inventory.change_stocklevel"


def csv_response(filename: str) -> tuple[HttpResponse, object]:
    """Return a CSV download (with a BOM, so Excel reads the Chinese right) and its writer."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    return response, SafeCsvWriter(response)


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


class StockListView(StockView):
    paginate_by = 50

    def get(self, request):
        form = StockFilterForm(request.GET or None)
        rows = replenishment_rows(active_only=False, **form.filters())
        page = Paginator(rows, self.paginate_by).get_page(request.GET.get("page"))
        bins = bin_codes_for_levels(row.level for row in page.object_list)
        for row in page.object_list:
            row.bin = bins.get((row.level.product_id, row.level.warehouse_id), "")
        return render(
            request,
            "inventory/stock_list.html",
            {"filter_form": form, "page_obj": page, "rows": page.object_list},
        )


class BinLocationSetView(StockChangeView):
    """Set or clear a stock level's bin location from the stock list."""

    http_method_names = ["post"]

    def post(self, request):
        form = BinLocationForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
        else:
            level = form.cleaned_data["level"]
            try:
                location = bin_location_set(
                    product=level.product,
                    warehouse=level.warehouse,
                    code=form.cleaned_data["code"],
                    actor=request.user,
                )
            except StockError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    _("%(sku)s in %(warehouse)s: bin %(code)s.")
                    % {
                        "sku": level.product.sku,
                        "warehouse": level.warehouse.name,
                        "code": location.code if location else "—",
                    },
                )
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}
        ):
            back = reverse("stock:list")
        return redirect(back)


class StockExportView(StockView):
    def get(self, request):
        response, writer = csv_response(f"stock-{_stamp()}.csv")
        # Column names are the import's own, so an edited export imports again.
        writer.writerow(["sku", "warehouse", "on_hand", "reserved", "available", "bin"])
        bins = bin_codes_all()
        for level in stock_levels_for_export():
            writer.writerow(
                [
                    level.product.sku,
                    level.warehouse.code,
                    level.on_hand,
                    level.reserved,
                    level.available,
                    bins.get((level.product_id, level.warehouse_id), ""),
                ]
            )
        return response


class GoodsInView(StockChangeView):
    """Goods-in: scan or type a SKU, enter the quantity, receive."""

    def get(self, request):
        initial = {"warehouse": request.GET.get("warehouse")}
        return self.page(GoodsInForm(initial=initial))

    def post(self, request):
        form = GoodsInForm(request.POST)
        if not form.is_valid():
            return self.page(form, status=400)
        data = form.cleaned_data
        try:
            level = stock_receive(
                product=data["product"],
                warehouse=data["warehouse"],
                quantity=data["quantity"],
                actor=request.user,
                reason=data["note"],
                reference=data["reference"],
            )
        except StockError as error:
            messages.error(request, str(error))
            return self.page(form, status=400)
        messages.success(
            request,
            _(
                "Received %(quantity)d × %(sku)s at %(warehouse)s; now %(on_hand)d on hand."
            )
            % {
                "quantity": data["quantity"],
                "sku": level.product.sku,
                "warehouse": level.warehouse.name,
                "on_hand": level.on_hand,
            },
        )
        return redirect(f"{reverse('stock:goods_in')}?warehouse={data['warehouse'].pk}")

    def page(self, form, status=200):
        return render(
            self.request,
            "inventory/goods_in_form.html",
            {
                "form": form,
                "recent": movements_recent(kind=StockMovement.Kind.RECEIVED),
            },
            status=status,
        )


class StockAdjustView(StockChangeView):
    """Correct units on hand (damaged, lost, found…), always with a reason."""

    def get(self, request):
        initial = {"warehouse": request.GET.get("warehouse")}
        return self.page(StockAdjustForm(initial=initial))

    def post(self, request):
        form = StockAdjustForm(request.POST)
        if not form.is_valid():
            return self.page(form, status=400)
        data = form.cleaned_data
        try:
            level = stock_adjust(
                product=data["product"],
                warehouse=data["warehouse"],
                delta=data["delta"],
                reason=form.reason_text(),
                reference=data["reference"],
                actor=request.user,
            )
        except StockError as error:
            form.add_error("delta", str(error))
            return self.page(form, status=400)
        messages.success(
            request,
            _(
                "Adjusted %(sku)s at %(warehouse)s by %(delta)+d; now %(on_hand)d on hand."
            )
            % {
                "sku": level.product.sku,
                "warehouse": level.warehouse.name,
                "delta": data["delta"],
                "on_hand": level.on_hand,
            },
        )
        return redirect(f"{reverse('stock:adjust')}?warehouse={data['warehouse'].pk}")

    def page(self, form, status=200):
        return render(
            self.request,
            "inventory/adjust_form.html",
            {
                "form": form,
                "recent": movements_recent(kind=StockMovement.Kind.ADJUSTED),
            },
            status=status,
        )


class StockReturnView(StockChangeView):
    """Customer returns: goods sent back are put on hand again, tied to their order."""

    def get(self, request):
        initial = {
            "warehouse": request.GET.get("warehouse"),
            "order_number": request.GET.get("order", ""),
        }
        return self.page(StockReturnForm(initial=initial))

    def post(self, request):
        form = StockReturnForm(request.POST)
        if not form.is_valid():
            return self.page(form, status=400)
        data = form.cleaned_data
        try:
            level = stock_return(
                product=data["product"],
                warehouse=data["warehouse"],
                quantity=data["quantity"],
                order=data["order"],
                reason=data["note"],
                reference=data["reference"],
                actor=request.user,
            )
        except StockError as error:
            form.add_error("code", str(error))
            return self.page(form, status=400)
        messages.success(
            request,
            _(
                "Restocked %(quantity)d × %(sku)s at %(warehouse)s; now %(on_hand)d on hand."
            )
            % {
                "quantity": data["quantity"],
                "sku": level.product.sku,
                "warehouse": level.warehouse.name,
                "on_hand": level.on_hand,
            },
        )
        return redirect(f"{reverse('stock:returns')}?warehouse={data['warehouse'].pk}")

    def page(self, form, status=200):
        return render(
            self.request,
            "inventory/return_form.html",
            {
                "form": form,
                "recent": movements_recent(kind=StockMovement.Kind.RETURNED),
            },
            status=status,
        )


class StocktakeView(StockChangeView):
    """Count a warehouse: enter counted units, preview the differences, post them."""

    def get(self, request):
        pick = WarehousePickForm(request.GET or None)
        if not pick.is_valid():
            return self.page(pick, None)
        warehouse = pick.cleaned_data["warehouse"]
        sheet = StocktakeForm(products=stocktake_sheet(warehouse=warehouse))
        return self.page(pick, sheet)

    def post(self, request):
        pick = WarehousePickForm(request.POST)
        if not pick.is_valid():
            return self.page(pick, None, status=400)
        warehouse = pick.cleaned_data["warehouse"]
        sheet = StocktakeForm(
            request.POST, products=stocktake_sheet(warehouse=warehouse)
        )
        if not sheet.is_valid():
            return self.page(pick, sheet, status=400)
        if request.POST.get("action") != "post":
            preview = stocktake_preview(warehouse=warehouse, counts=sheet.counts())
            return self.page(pick, sheet, preview=preview)
        try:
            movements = stocktake_post(
                warehouse=warehouse,
                counts=sheet.counts(),
                actor=request.user,
                reference=sheet.cleaned_data["reference"],
            )
        except StockError as error:
            messages.error(request, str(error))
            preview = stocktake_preview(warehouse=warehouse, counts=sheet.counts())
            return self.page(pick, sheet, preview=preview, status=400)
        messages.success(
            request,
            _("Stocktake posted at %(warehouse)s: %(count)d differences.")
            % {"warehouse": warehouse.name, "count": len(movements)},
        )
        return redirect(f"{reverse('stock:stocktake')}?warehouse={warehouse.pk}")

    def page(self, pick, sheet, *, preview=None, status=200):
        return render(
            self.request,
            "inventory/stocktake_form.html",
            {"pick": pick, "sheet": sheet, "preview": preview},
            status=status,
        )


class StockImportView(StockChangeView):
    """Counts from a CSV file; bad rows are listed with their row number."""

    def get(self, request):
        return self.page(StockImportForm())

    def post(self, request):
        form = StockImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(form, status=400)
        try:
            result = stock_import_csv(
                data=form.cleaned_data["file"].read(),
                actor=request.user,
                reference=form.cleaned_data["reference"]
                or form.cleaned_data["file"].name[:100],
            )
        except (StockError, UnicodeDecodeError) as error:
            messages.error(request, str(error))
            return self.page(form, status=400)
        return self.page(StockImportForm(), result=result)

    def page(self, form, *, result=None, status=200):
        return render(
            self.request,
            "inventory/stock_import.html",
            {"form": form, "result": result},
            status=status,
        )


class BackorderListView(StockView):
    """缺货: what is owed to whom, oldest first."""

    def get(self, request):
        return render(
            request, "inventory/backorder_list.html", {"groups": backorders_owed()}
        )


class ReplenishmentView(StockView):
    def get(self, request):
        form = StockFilterForm(request.GET or None)
        return render(
            request,
            "inventory/replenishment_list.html",
            {"filter_form": form, "rows": replenishment_rows(**form.filters())},
        )


class ReplenishmentExportView(StockView):
    def get(self, request):
        form = StockFilterForm(request.GET or None)
        response, writer = csv_response(f"replenishment-{_stamp()}.csv")
        writer.writerow(
            [
                "sku",
                "name",
                "warehouse",
                "on_hand",
                "reserved",
                "available",
                "owed_to_backorders",
                "sold_in_window",
                "velocity_per_day",
                "lead_time_days",
                "safety_stock",
                "reorder_point",
                "low",
                "suggested_quantity",
            ]
        )
        for row in replenishment_rows(**form.filters()):
            level, product = row.level, row.level.product
            writer.writerow(
                [
                    product.sku,
                    product.name,
                    level.warehouse.code,
                    level.on_hand,
                    level.reserved,
                    level.available,
                    row.owed,
                    row.sold,
                    row.velocity,
                    level.lead_time_effective,
                    level.safety_stock_effective,
                    row.reorder_point,
                    int(row.low),
                    row.suggested,
                ]
            )
        return response


class StockLevelPlanView(StockChangeView):
    """Edit one SKU's reorder point, safety stock and lead time in one warehouse."""

    def _level(self, pk):
        level = stock_level_for_plan(pk)
        if level is None:
            raise Http404
        return level

    def _back(self):
        target = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}
        ):
            return target
        return reverse("stock:replenishment")

    def get(self, request, pk):
        level = self._level(pk)
        return self.page(level, StockLevelPlanForm(level=level))

    def post(self, request, pk):
        level = self._level(pk)
        form = StockLevelPlanForm(request.POST, level=level)
        if not form.is_valid():
            return self.page(level, form, status=400)
        try:
            stock_level_plan_update(
                level=level, actor=request.user, **form.cleaned_data
            )
        except StockError as error:
            messages.error(request, str(error))
            return self.page(level, form, status=400)
        messages.success(
            request,
            _("Replenishment figures of %(sku)s at %(warehouse)s saved.")
            % {"sku": level.product.sku, "warehouse": level.warehouse.name},
        )
        return redirect(self._back())

    def page(self, level, form, status=200):
        return render(
            self.request,
            "inventory/level_plan_form.html",
            {"level": level, "form": form, "next": self._back()},
            status=status,
        )
