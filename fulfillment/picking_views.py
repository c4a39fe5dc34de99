"""Console pages for picking (waves, pick lists, short picks) and the pack station.

Each view parses input, calls one service in ``fulfillment.picking`` or
``fulfillment.packing``, and renders. The pack station's scans are POSTed (with
the CSRF token) to a JSON endpoint, so its state lives in the database.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views import View

from fulfillment.models import PickList, Shipment
from fulfillment.packing import (
    pack_complete,
    pack_find,
    pack_reset,
    pack_scan,
    pack_state,
)
from fulfillment.pdf import code128_svg
from fulfillment.picking import (
    pick_list_close,
    pick_list_create,
    pick_lists_for_orders,
    short_pick_report,
)
from fulfillment.picking_forms import PackBoxForm, ShortPickForm, WaveForm
from fulfillment.picking_pdf import packing_slip_pdf, pick_list_pdf
from fulfillment.picking_selectors import (
    box_presets_active,
    pick_list_entries,
    pick_list_get,
    pick_list_rows,
    pick_lists_recent,
    wave_candidates,
)
from orders.exceptions import OrderError
from orders.forms import form_errors_text
from orders.models import Order


class PickingPage(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = "fulfillment.view_picklist"


class PickingAction(PickingPage):
    permission_required = "fulfillment.add_picklist"
    http_method_names = ["post"]


class PackingPage(PickingPage):
    permission_required = "fulfillment.change_shipment"


def _pick_list_or_404(number) -> PickList:
    pick_list = pick_list_get(number)
    if pick_list is None:
        raise Http404(_("No such pick list."))
    return pick_list


class PickListListView(PickingPage):
    def get(self, request):
        status = request.GET.get("status", "")
        return render(
            request,
            "fulfillment/picklist_list.html",
            {
                "pick_lists": pick_lists_recent(status=status),
                "status": status,
                "statuses": PickList.Status.choices,
            },
        )


class WaveView(PickingPage):
    """Choose orders for a wave by filters, see them, then make the pick list."""

    def get(self, request):
        form = WaveForm(request.GET or None)
        candidates = None
        if form.is_bound and form.is_valid():
            candidates = self._candidates(form)
        return render(
            request,
            "fulfillment/wave_form.html",
            {"form": form, "candidates": candidates},
        )

    def post(self, request):
        if not request.user.has_perm("fulfillment.add_picklist"):
            return self.handle_no_permission()
        form = WaveForm(request.POST)
        if not form.is_valid():
            return render(
                request,
                "fulfillment/wave_form.html",
                {"form": form, "candidates": None},
                status=400,
            )
        data = form.cleaned_data
        try:
            pick_list = pick_list_create(
                warehouse=data["warehouse"],
                orders=self._candidates(form),
                actor=request.user,
                filters={
                    "carrier": data["carrier"].code if data["carrier"] else "",
                    "ship_by": data["ship_by"].isoformat() if data["ship_by"] else "",
                    "single_first": data["single_first"],
                    "limit": data["limit"],
                },
            )
        except OrderError as error:
            messages.error(request, str(error))
            return redirect(f"{reverse('fulfillment:wave')}?{request.POST.urlencode()}")
        messages.success(
            request, _("Pick list %(number)s made.") % {"number": pick_list.number}
        )
        return redirect(pick_list)

    @staticmethod
    def _candidates(form):
        data = form.cleaned_data
        return wave_candidates(
            warehouse=data["warehouse"],
            carrier=data["carrier"],
            ship_by_until=form.ship_by_until(),
            single_first=data["single_first"],
            limit=data["limit"],
        )


class PickListDetailView(PickingPage):
    template_name = "fulfillment/picklist_detail.html"

    def get(self, request, number, form=None, status=200):
        pick_list = _pick_list_or_404(number)
        entries = pick_list_entries(pick_list)
        return render(
            request,
            self.template_name,
            {
                "pick_list": pick_list,
                "entries": entries,
                "rows": pick_list_rows(pick_list, entries),
                "short_picks": pick_list.short_picks.select_related("product"),
                "short_form": form or ShortPickForm(),
            },
            status=status,
        )


class PickListPrintView(PickingPage):
    """The pick list as a page to print (print CSS), with barcodes as inline SVG."""

    def get(self, request, number):
        pick_list = _pick_list_or_404(number)
        entries = pick_list_entries(pick_list)
        rows = pick_list_rows(pick_list, entries)
        for row in rows:
            row.svg = code128_svg(row.barcode or row.sku)
        return render(
            request,
            "fulfillment/picklist_print.html",
            {
                "pick_list": pick_list,
                "entries": entries,
                "rows": rows,
                "number_barcode": code128_svg(pick_list.number),
            },
        )


class PickListPdfView(PickingPage):
    def get(self, request, number):
        pick_list = _pick_list_or_404(number)
        entries = pick_list_entries(pick_list)
        pdf = pick_list_pdf(
            pick_list=pick_list,
            rows=pick_list_rows(pick_list, entries),
            entries=entries,
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{pick_list.number}.pdf"'
        return response


class ShortPickView(PickingAction):
    permission_required = "fulfillment.add_shortpick"

    def post(self, request, number):
        pick_list = _pick_list_or_404(number)
        form = ShortPickForm(request.POST)
        if not form.is_valid():
            return PickListDetailView().get(request, number, form=form, status=400)
        data = form.cleaned_data
        try:
            short = short_pick_report(
                pick_list=pick_list,
                product=data["code"],
                quantity=data["quantity"],
                reason=data["reason"],
                actor=request.user,
            )
        except OrderError as error:
            form.add_error(None, str(error))
            return PickListDetailView().get(request, number, form=form, status=400)
        messages.success(
            request,
            _("Short pick recorded; sent back to allocation: %(orders)s.")
            % {"orders": ", ".join(short.orders)},
        )
        return redirect(pick_list)


class PickListCloseView(PickingAction):
    def post(self, request, number):
        pick_list = pick_list_close(
            pick_list=_pick_list_or_404(number), actor=request.user
        )
        messages.success(request, _("Pick list marked as picked."))
        return redirect(pick_list)


class PickListBulkView(PickingAction):
    """The order list's bulk action: pick lists for the selected orders."""

    def post(self, request):
        numbers = request.POST.getlist("orders")
        orders = list(Order.objects.filter(number__in=numbers))
        if not orders:
            messages.error(request, _("Select the orders to pick first."))
            return redirect("console:order_list")
        try:
            pick_lists = pick_lists_for_orders(orders=orders, actor=request.user)
        except OrderError as error:
            messages.error(request, str(error))
            return redirect("console:order_list")
        messages.success(
            request,
            _("Pick list(s) made: %(numbers)s.")
            % {"numbers": ", ".join(p.number for p in pick_lists)},
        )
        if len(pick_lists) == 1:
            return redirect("fulfillment:pick_list_print", pick_lists[0].number)
        return redirect("fulfillment:pick_lists")


def _label_url(shipment_pk) -> str:
    # The shipping label is another part of fulfillment; until it exists the
    # station works without the link.
    try:
        return reverse("fulfillment:shipment_label", args=[shipment_pk])
    except NoReverseMatch:
        return ""


def _state_json(state, *, ok=True, message="") -> dict:
    data = state.as_json()
    data.update(
        ok=ok,
        message=message,
        slip_url=reverse("fulfillment:packing_slip", args=[state.shipment.pk]),
        label_url=_label_url(state.shipment.pk) if state.packed else "",
    )
    return data


def _parcel(pk) -> Shipment:
    shipment = Shipment.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if shipment is None:
        raise Http404(_("No such parcel."))
    return shipment


class PackStationView(PackingPage):
    def get(self, request):
        state = None
        if request.GET.get("parcel"):
            state = _state_json(pack_state(_parcel(request.GET["parcel"])))
        return render(
            request,
            "fulfillment/pack_station.html",
            {
                "state": state,
                "box_form": PackBoxForm(),
                "presets": box_presets_active(),
            },
        )


def _is_parcel_code(code: str) -> bool:
    code = code.strip()
    return (
        PickList.objects.filter(number__iexact=code).exists()
        or Order.objects.filter(number__iexact=code).exists()
    )


class PackScanView(PackingPage):
    """One scan: a pick list or order number opens its parcel, anything else is an item."""

    http_method_names = ["post"]

    def post(self, request):
        code = request.POST.get("code", "").strip()
        parcel = request.POST.get("parcel", "")
        try:
            if not parcel or _is_parcel_code(code):
                state = pack_state(pack_find(code))
                return JsonResponse(
                    _state_json(
                        state,
                        ok=not state.cancelled,
                        message=(
                            _("Order %(number)s was cancelled: do not pack it.")
                            % {"number": state.shipment.order.number}
                            if state.cancelled
                            else _("Scan the items of order %(number)s.")
                            % {"number": state.shipment.order.number}
                        ),
                    )
                )
            result = pack_scan(shipment=_parcel(parcel), code=code, actor=request.user)
        except OrderError as error:
            return JsonResponse({"ok": False, "message": str(error)}, status=400)
        return JsonResponse(
            _state_json(result.state, ok=result.ok, message=result.message),
            status=200 if result.ok else 409,
        )


class PackCompleteView(PackingPage):
    http_method_names = ["post"]

    def post(self, request, pk):
        shipment = _parcel(pk)
        form = PackBoxForm(request.POST)
        if not form.is_valid():
            return JsonResponse(
                {"ok": False, "message": form_errors_text(form)}, status=400
            )
        data = form.cleaned_data
        try:
            pack_complete(
                shipment=shipment,
                box_preset=data["box_preset"],
                length_cm=data["length_cm"],
                width_cm=data["width_cm"],
                height_cm=data["height_cm"],
                weight_kg=data["weight_kg"],
                actor=request.user,
            )
        except OrderError as error:
            return JsonResponse({"ok": False, "message": str(error)}, status=400)
        state = pack_state(shipment)
        return JsonResponse(
            _state_json(
                state,
                message=_("Parcel packed: print the slip and the label."),
            )
        )


class PackResetView(PackingPage):
    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            state = pack_reset(shipment=_parcel(pk), actor=request.user)
        except OrderError as error:
            return JsonResponse({"ok": False, "message": str(error)}, status=400)
        return JsonResponse(_state_json(state, message=_("Box emptied: scan again.")))


class PackingSlipPdfView(PackingPage):
    permission_required = "fulfillment.view_shipment"

    def get(self, request, pk):
        state = pack_state(_parcel(pk))
        pdf = packing_slip_pdf(shipment=state.shipment, items=state.items)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="slip-{state.shipment.order.number}.pdf"'
        )
        return response
