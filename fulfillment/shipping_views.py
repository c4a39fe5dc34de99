"""Console pages for shipping: labels, bulk labels and shipping, 批量发货 upload,
the carrier override on the order page, and orders due to ship.

Each view parses input, calls one service in ``fulfillment.shipping`` or
``fulfillment.carriers``, and renders.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from fulfillment.carriers import carrier_choose, order_carrier_set
from fulfillment.forms import OrderCarrierForm, TrackingUploadForm
from fulfillment.labels import labels_pdf
from fulfillment.models import Shipment
from fulfillment.shipping import (
    orders_labels_prepare,
    orders_ship,
    shipment_label_prepare,
    shipment_tracking_assign,
    tracking_upload,
)
from fulfillment.shipping_selectors import orders_due_to_ship, shipments_with_labels
from orders.exceptions import OrderError
from orders.forms import form_errors_text
from orders.models import Order


class ShippingPage(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = "fulfillment.change_shipment"


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class ShipmentLabelView(ShippingPage):
    """One parcel's 4×6 label; a parcel without a number gets one first, if it can."""

    def get(self, request, pk):
        shipment = Shipment.objects.select_related("order").filter(pk=pk).first()
        if shipment is None:
            raise Http404(_("No such parcel."))
        if shipment.status in (Shipment.Status.CANCELLED, Shipment.Status.REPLACED):
            messages.error(request, _("This parcel was cancelled or replaced."))
            return redirect(shipment.order)
        try:
            shipment = shipment_label_prepare(shipment=shipment, actor=request.user)
        except OrderError as error:
            messages.error(request, str(error))
            return redirect(shipment.order)
        (shipment,) = shipments_with_labels([shipment.pk])
        return _pdf_response(
            labels_pdf([shipment]), f"label-{shipment.tracking_number}.pdf"
        )


def _selected_orders(request) -> list[Order]:
    numbers = request.POST.getlist("orders")
    found = {o.number: o for o in Order.objects.filter(number__in=numbers)}
    return [found[n] for n in dict.fromkeys(numbers) if n in found]


class LabelsBulkView(ShippingPage):
    """The order list's bulk action: every selected order's labels in one PDF."""

    http_method_names = ["post"]

    def post(self, request):
        orders = _selected_orders(request)
        if not orders:
            messages.error(request, _("Select the orders first."))
            return redirect("console:order_list")
        result = orders_labels_prepare(orders=orders, actor=request.user)
        for error in result.errors:
            messages.error(request, error)
        if not result.shipments:
            return redirect("console:order_list")
        shipments = shipments_with_labels([s.pk for s in result.shipments])
        return _pdf_response(
            labels_pdf(shipments), f"labels-{timezone.localdate():%Y%m%d}.pdf"
        )


class ShipBulkView(ShippingPage):
    """The order list's bulk action: mark every selected order's parcels shipped."""

    http_method_names = ["post"]

    def post(self, request):
        orders = _selected_orders(request)
        if not orders:
            messages.error(request, _("Select the orders first."))
            return redirect("console:order_list")
        result = orders_ship(orders=orders, actor=request.user)
        shipped_orders = {s.order_id for s in result.shipments}
        if shipped_orders:
            messages.success(
                request,
                _("%(orders)d order(s) shipped in %(parcels)d parcel(s).")
                % {"orders": len(shipped_orders), "parcels": len(result.shipments)},
            )
        for error in result.errors:
            messages.error(request, error)
        return redirect("console:order_list")


class OrderCarrierView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """Staff override the carrier the rules would pick, from the order page."""

    permission_required = "orders.change_order"
    http_method_names = ["post"]

    def post(self, request, number):
        order = get_object_or_404(Order, number=number)
        form = OrderCarrierForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect(order)
        carrier = form.cleaned_data["carrier"]
        try:
            order_carrier_set(order=order, carrier=carrier, actor=request.user)
        except OrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Carrier set to %(carrier)s.") % {"carrier": carrier.name}
                if carrier
                else _("Carrier left to the rules."),
            )
        return redirect(order)


class TrackingUploadView(ShippingPage):
    """批量发货: upload order number, carrier, tracking number; see every bad row."""

    template_name = "fulfillment/tracking_upload.html"

    def get(self, request):
        return render(request, self.template_name, {"form": TrackingUploadForm()})

    def post(self, request):
        form = TrackingUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        result = tracking_upload(
            data=form.cleaned_data["file"].read(), actor=request.user
        )
        return render(
            request,
            self.template_name,
            {"form": TrackingUploadForm(), "result": result},
        )


class ShipByView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """Orders due to ship by the end of today; late ones first, in red."""

    permission_required = "fulfillment.view_shipment"

    def get(self, request):
        orders = list(orders_due_to_ship())
        return render(
            request,
            "fulfillment/ship_by.html",
            {
                "orders": orders,
                "overdue": sum(1 for o in orders if o.overdue),
                "now": timezone.now(),
            },
        )


class PackTrackingView(ShippingPage):
    """The pack station: the waybill's number typed or scanned for the packed parcel (JSON)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        shipment = (
            Shipment.objects.select_related("order", "carrier").filter(pk=pk).first()
        )
        if shipment is None:
            raise Http404(_("No such parcel."))
        carrier = shipment.carrier
        if carrier is None:
            choice = carrier_choose(shipment.order)
            if choice.carrier is None:
                return JsonResponse({"ok": False, "message": str(choice.reason)}, 400)
            carrier = choice.carrier
        try:
            shipment = shipment_tracking_assign(
                shipment=shipment,
                carrier=carrier,
                tracking_number=request.POST.get("tracking_number", ""),
                actor=request.user,
            )
        except OrderError as error:
            return JsonResponse({"ok": False, "message": str(error)}, status=400)
        return JsonResponse(
            {
                "ok": True,
                "message": _("%(carrier)s %(number)s: print the label.")
                % {"carrier": carrier.name, "number": shipment.tracking_number},
                "carrier": carrier.name,
                "tracking_number": shipment.tracking_number,
                "label_url": reverse("fulfillment:shipment_label", args=[shipment.pk]),
            }
        )
