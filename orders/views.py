"""The staff console's order pages. Each view parses input, calls one service, renders."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from billing.forms import CodCollectionForm, PaymentConfirmForm
from billing.selectors import payments_for_order, refundable_amount, refunds_for_order
from fulfillment.forms import OrderCarrierForm, ShipmentShipForm
from fulfillment.returns import RETURNABLE_ORDER
from fulfillment.selectors import shipments_for_order
from inventory.selectors import products_search
from orders.exceptions import OrderError
from orders.forms import (
    BackorderSubstituteForm,
    ConsoleLoginForm,
    OrderCancelForm,
    OrderCorrectForm,
    OrderFilterForm,
    OrderLineFormSet,
    OrderNoteForm,
    OrderReallocateForm,
    PhoneOrderForm,
    address_line_split,
    form_errors_text,
)
from orders.models import Order
from orders.phones import phone_display
from orders.selectors import (
    customers_for_phone_order,
    dashboard_summary,
    order_actions,
    order_for_console,
    order_list,
    order_page,
    order_problem_messages,
    phone_channel,
    products_for_sale,
)
from orders.services import (
    order_backorder_cancel_lines,
    order_backorder_remainder_fill,
    order_backorder_split,
    order_backorder_substitute,
    order_backorder_wait,
    order_cancel,
    order_complete,
    order_correct,
    order_create,
    order_note_add,
    order_process,
    order_reallocate,
    order_review_approve,
)
from orders.templatetags.console import money


class ConsoleLoginView(auth_views.LoginView):
    """Sign-in; once the attempts are used up it answers 429 without checking the password."""

    form_class = ConsoleLoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", "locked"):
            response.status_code = 429
        return response


class ConsoleView(LoginRequiredMixin, PermissionRequiredMixin):
    """A console page: signed-in staff only; without the permission, 403."""

    permission_required = "orders.view_order"


class DashboardView(ConsoleView, TemplateView):
    template_name = "orders/dashboard.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            summary=dashboard_summary(),
            call_after_hours=settings.CORRECTION_CALL_AFTER_HOURS,
            **kwargs,
        )


class OrderListView(ConsoleView, TemplateView):
    """The orders matching the filters, a keyset page at a time (see order_page)."""

    template_name = "orders/order_list.html"

    def get_context_data(self, **kwargs):
        filter_form = OrderFilterForm(self.request.GET or None)
        filters = filter_form.filters()
        page = order_page(
            order_list(**filters),
            after=self.request.GET.get("after", ""),
            before=self.request.GET.get("before", ""),
        )
        return super().get_context_data(
            filter_form=filter_form,
            page=page,
            orders=page.orders,
            waiting_call=filters.get("waiting") == "call",
            call_after_hours=settings.CORRECTION_CALL_AFTER_HOURS,
            **kwargs,
        )


# How the order page shows each action's form; actions not listed are a bare button.
ACTION_FORMS = {
    "confirm_payment": lambda order, action: PaymentConfirmForm.for_order(order),
    "cod": lambda order, action: CodCollectionForm.for_order(order),
    "ship": lambda order, action: ShipmentShipForm.for_shipment(action.shipment),
    "carrier": lambda order, action: OrderCarrierForm.for_order(order),
    "correct": lambda order, action: OrderCorrectForm.for_order(order),
    "cancel": lambda order, action: OrderCancelForm(),
    "note": lambda order, action: OrderNoteForm(),
    "reallocate": lambda order, action: OrderReallocateForm.for_order(order),
    "backorder_substitute": lambda order, action: BackorderSubstituteForm.for_order(
        order
    ),
}


class OrderDetailView(ConsoleView, TemplateView):
    template_name = "orders/order_detail.html"

    def get_context_data(self, **kwargs):
        order = order_for_console(self.kwargs["number"])
        if order is None:
            raise Http404(_("No such order."))
        shipments = list(shipments_for_order(order))
        actions = order_actions(order, self.request.user, shipments=shipments)
        panels = []
        for action in actions:
            form = None
            if action.name in ACTION_FORMS:
                form = ACTION_FORMS[action.name](order, action)
                form.auto_id = (
                    f"{action.name}{action.shipment.pk if action.shipment else ''}_%s"
                )
            panels.append({"action": action, "form": form})
        return super().get_context_data(
            order=order,
            shipments=shipments,
            payments=payments_for_order(order),
            refunds=refunds_for_order(order),
            can_approve_refund=self.request.user.has_perm("billing.approve_refund"),
            refundable=refundable_amount(order),
            can_open_return=order.status in RETURNABLE_ORDER
            and self.request.user.has_perm("fulfillment.add_returnrequest"),
            problems=order_problem_messages(order),
            actions=panels,
            **kwargs,
        )


class OrderActionView(ConsoleView, View):
    """Run one order service on a POST, say how it went, and go back to the order."""

    http_method_names = ["post"]
    form_class = None

    def post(self, request, number):
        order = get_object_or_404(Order, number=number)
        form = self.form_class(request.POST) if self.form_class else None
        if form is not None and not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect(order)
        try:
            text = self.perform(order, form.cleaned_data if form else {})
        except OrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, text)
        return redirect(order)

    def perform(self, order, data) -> str:
        """Call the service; return the success message."""
        raise NotImplementedError


def _now_status(order) -> str:
    return _("Order %(number)s is now “%(status)s”.") % {
        "number": order.number,
        "status": order.get_status_display(),
    }


class OrderCorrectView(OrderActionView):
    permission_required = "orders.change_order"
    form_class = OrderCorrectForm

    def perform(self, order, data):
        order = order_correct(order=order, changes=data, actor=self.request.user)
        return _now_status(order)


class OrderProcessView(OrderActionView):
    permission_required = "orders.change_order"

    def perform(self, order, data):
        order = order_process(order=order, actor=self.request.user)
        if order.status == Order.Status.BACKORDERED:
            return _("Still not enough stock; the order stays backordered.")
        return _now_status(order)


class OrderCompleteView(OrderActionView):
    permission_required = "orders.complete_order"

    def perform(self, order, data):
        return _now_status(order_complete(order=order, actor=self.request.user))


class OrderCancelView(OrderActionView):
    permission_required = "orders.cancel_order"
    form_class = OrderCancelForm

    def perform(self, order, data):
        order = order_cancel(
            order=order, actor=self.request.user, reason=data["reason"]
        )
        return _now_status(order)


class OrderNoteView(OrderActionView):
    permission_required = "orders.change_order"
    form_class = OrderNoteForm

    def perform(self, order, data):
        order_note_add(order=order, text=data["text"], actor=self.request.user)
        return _("Note added.")


class OrderReallocateView(OrderActionView):
    permission_required = "inventory.change_stocklevel"
    form_class = OrderReallocateForm

    def perform(self, order, data):
        product = data.get("product")
        order_reallocate(
            order=order,
            warehouse=data["warehouse"],
            actor=self.request.user,
            product_ids=[product.pk] if product else None,
        )
        return _("Reservation moved to %(warehouse)s.") % {
            "warehouse": data["warehouse"].name
        }


class OrderApproveView(OrderActionView):
    permission_required = "orders.change_order"

    def perform(self, order, data):
        return _now_status(order_review_approve(order=order, actor=self.request.user))


class BackorderWaitView(OrderActionView):
    permission_required = "orders.change_order"

    def perform(self, order, data):
        order_backorder_wait(order=order, actor=self.request.user)
        return _("The order waits for stock; the customer is told.")


class BackorderSplitView(OrderActionView):
    permission_required = "orders.change_order"

    def perform(self, order, data):
        return _now_status(order_backorder_split(order=order, actor=self.request.user))


class BackorderSubstituteView(OrderActionView):
    permission_required = "orders.change_order"
    form_class = BackorderSubstituteForm

    def perform(self, order, data):
        order = order_backorder_substitute(
            order=order,
            line=data["line"],
            product=data["sku"],
            unit_price=data.get("unit_price"),
            actor=self.request.user,
        )
        return _now_status(order)


class BackorderFillView(OrderActionView):
    permission_required = "orders.change_order"

    def perform(self, order, data):
        units = order_backorder_remainder_fill(order=order, actor=self.request.user)
        if not units:
            return _("Still not enough stock for the owed items.")
        return _("%(units)d owed unit(s) reserved.") % {"units": units}


class BackorderCancelLinesView(OrderActionView):
    permission_required = "orders.change_order"

    def perform(self, order, data):
        order = order_backorder_cancel_lines(order=order, actor=self.request.user)
        return _now_status(order)


class PhoneOrderCreateView(ConsoleView, TemplateView):
    """A clerk books an order while the customer is on the phone."""

    permission_required = "orders.add_order"
    template_name = "orders/order_form.html"

    def get(self, request):
        return self.show(PhoneOrderForm(), OrderLineFormSet(prefix="lines"))

    def post(self, request):
        form = PhoneOrderForm(request.POST)
        lines = OrderLineFormSet(request.POST, prefix="lines")
        channel = phone_channel()
        if channel is not None and form.is_valid() and lines.is_valid():
            try:
                order = order_create(
                    data=form.order_input(channel=channel, lines=lines),
                    actor=request.user,
                )
            except OrderError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    _("Order %(number)s created: %(status)s.")
                    % {"number": order.number, "status": order.get_status_display()},
                )
                return redirect(order)
        return self.show(form, lines)

    def show(self, form, lines):
        channel = phone_channel()
        if channel is None:
            messages.error(
                self.request,
                _(
                    "There is no active phone channel. Ask an administrator to add a channel of kind “Phone”."
                ),
            )
        return self.render_to_response(
            self.get_context_data(
                form=form,
                lines=lines,
                channel=channel,
                products=products_for_sale(),
            )
        )


# --- Phone-order aids: small JSON answers for the form's scripts ----------------


class PhoneOrderAidView(ConsoleView, View):
    """A JSON answer for the phone-order form; same permission as booking the order."""

    permission_required = "orders.add_order"
    http_method_names = ["get"]


class CustomerLookupView(PhoneOrderAidView):
    """Customers matching the name or phone (or its last 4 digits) the clerk types."""

    def get(self, request):
        customers = customers_for_phone_order(request.GET.get("q", ""))
        return JsonResponse({"customers": [_customer_json(c) for c in customers]})


def _customer_json(customer) -> dict:
    latest = customer.recent_orders[0] if customer.recent_orders else None
    return {
        "name": customer.name,
        "phone": phone_display(customer.phone),
        "email": customer.email,
        "address": {name: getattr(latest, name) for name in PhoneOrderForm.PARTS}
        if latest
        else None,
        "orders": [
            {
                "number": order.number,
                "url": order.get_absolute_url(),
                "placed_at": timezone.localtime(order.placed_at).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "status": order.status,
                "status_label": str(order.get_status_display()),
                "total": str(order.total),
                "total_display": money(order.total),
            }
            for order in customer.recent_orders
        ],
    }


class ProductSearchView(PhoneOrderAidView):
    """Products on sale by SKU, name or barcode, with price and free stock."""

    def get(self, request):
        products = products_search(request.GET.get("q", ""))
        return JsonResponse(
            {
                "products": [
                    {
                        "sku": product.sku,
                        "name": product.name,
                        "barcode": product.barcode,
                        "price": str(product.price),
                        "price_display": money(product.price),
                        "available": product.available,
                    }
                    for product in products
                ]
            }
        )


class AddressSplitView(PhoneOrderAidView):
    """A pasted one-line address split into its parts, as the form does on submit."""

    def get(self, request):
        text = request.GET.get("text", "").strip()[:300]
        return JsonResponse({"parts": address_line_split(text) if text else {}})
