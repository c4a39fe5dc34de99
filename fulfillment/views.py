"""Console actions in the warehouse: start picking an order, ship a parcel."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View

from fulfillment.forms import ShipmentShipForm
from fulfillment.selectors import shipment_get
from fulfillment.services import fulfillment_start, shipment_ship
from orders.exceptions import OrderError
from orders.forms import form_errors_text
from orders.models import Order


class WarehouseActionView(LoginRequiredMixin, PermissionRequiredMixin, View):
    http_method_names = ["post"]


class FulfillmentStartView(WarehouseActionView):
    permission_required = "fulfillment.add_shipment"

    def post(self, request, number):
        order = get_object_or_404(Order, number=number)
        try:
            shipments = fulfillment_start(order=order, actor=request.user)
        except OrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Picking started: %(count)d parcel(s).") % {"count": len(shipments)},
            )
        return redirect(order)


class ShipmentShipView(WarehouseActionView):
    permission_required = "fulfillment.change_shipment"

    def post(self, request, pk):
        shipment = shipment_get(pk)
        if shipment is None:
            raise Http404(_("No such parcel."))
        form = ShipmentShipForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect(shipment.order)
        try:
            shipment = shipment_ship(
                shipment=shipment,
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
                weight_kg=form.cleaned_data["weight_kg"],
                actor=request.user,
            )
        except OrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Parcel shipped with %(carrier)s, tracking number %(number)s.")
                % {
                    "carrier": shipment.carrier.name,
                    "number": shipment.tracking_number,
                },
            )
        return redirect(shipment.order)
