"""Console pages for returns, and the customer's return request on the status page.

Each view parses input, calls one service in ``fulfillment.returns``, renders.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from fulfillment import returns as services
from fulfillment.return_forms import (
    ReturnCompleteForm,
    ReturnFilterForm,
    ReturnInspectForm,
    ReturnRejectForm,
    ReturnRequestForm,
)
from fulfillment.return_models import ReturnLine
from fulfillment.return_selectors import (
    return_for_console,
    returnable_quantities,
    returns_list,
)
from orders.exceptions import OrderError
from orders.forms import form_errors_text
from orders.models import Order

PAGE_SIZE = 50
# How a customer's own request is recorded (see orders.events.Actor).
CUSTOMER_ACTOR = "customer"


class ReturnsPage(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = "fulfillment.view_returnrequest"


class ReturnListView(ReturnsPage):
    """Returns, open ones first by default, filterable by status, reason, warehouse, search."""

    def get(self, request):
        data = request.GET.copy()
        if "status" not in data:
            data["status"] = "open"
        form = ReturnFilterForm(data)
        filters = form.cleaned_data if form.is_valid() else {"status": "open"}
        rows = returns_list(
            status=filters.get("status", ""),
            reason=filters.get("reason", ""),
            warehouse=filters.get("warehouse"),
            query=filters.get("q", ""),
        )
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "fulfillment/return_list.html",
            {"filter_form": form, "page_obj": page, "returns": page.object_list},
        )


class ReturnDetailView(ReturnsPage):
    """One return: its lines, what inspection found, and the next step's buttons."""

    def get(self, request, number):
        rma = return_for_console(number)
        if rma is None:
            raise Http404(_("No such return."))
        return render(
            request,
            "fulfillment/return_detail.html",
            {
                "rma": rma,
                "order": rma.order,
                "reject_form": ReturnRejectForm(),
                "complete_form": ReturnCompleteForm(),
                "inspect_forms": [
                    (line, ReturnInspectForm(prefix=f"line{line.pk}"))
                    for line in rma.lines.all()
                ],
            },
        )


class ReturnCreateView(ReturnsPage):
    """Staff open a return for a customer who called or wrote."""

    permission_required = "fulfillment.add_returnrequest"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated or not self.has_permission():
            return self.handle_no_permission()
        self.order = get_object_or_404(Order, number=kwargs["number"])
        return super().dispatch(request, *args, **kwargs)

    def form(self, data=None):
        return ReturnRequestForm(
            data,
            order=self.order,
            returnable=returnable_quantities(self.order),
            exchange_other_sku=True,
        )

    def get(self, request, number):
        return self.page(self.form())

    def post(self, request, number):
        form = self.form(request.POST)
        if form.is_valid():
            try:
                rma = services.return_request_create(
                    order=self.order,
                    lines=form.lines(),
                    reason=form.cleaned_data["reason"],
                    resolution=form.cleaned_data["resolution"],
                    description=form.cleaned_data["description"],
                    actor=request.user,
                )
            except OrderError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, _("Return %(rma)s opened.") % {"rma": rma.number}
                )
                return redirect(rma)
        return self.page(form, status=400)

    def page(self, form, status=200):
        return render(
            self.request,
            "fulfillment/return_form.html",
            {"order": self.order, "form": form},
            status=status,
        )


class ReturnActionView(ReturnsPage):
    """POST only: one step of a return, then back to its page with what happened."""

    http_method_names = ["post"]
    form_class = None
    form_prefix = None

    def post(self, request, number, **kwargs):
        rma = return_for_console(number)
        if rma is None:
            raise Http404(_("No such return."))
        form = (
            self.form_class(request.POST, prefix=self.prefix(kwargs))
            if self.form_class
            else None
        )
        if form is not None and not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect(rma)
        try:
            text = self.perform(rma, form.cleaned_data if form else {}, **kwargs)
        except OrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, text)
        return redirect(rma)

    def prefix(self, kwargs):
        return None

    def perform(self, rma, data, **kwargs):
        raise NotImplementedError


class ReturnApproveView(ReturnActionView):
    permission_required = "fulfillment.decide_return"

    def perform(self, rma, data):
        services.return_approve(return_request=rma, actor=self.request.user)
        return _("Return %(rma)s approved; the customer is told to send it.") % {
            "rma": rma.number
        }


class ReturnRejectView(ReturnActionView):
    permission_required = "fulfillment.decide_return"
    form_class = ReturnRejectForm

    def perform(self, rma, data):
        services.return_reject(
            return_request=rma, actor=self.request.user, note=data["note"]
        )
        return _("Return %(rma)s rejected.") % {"rma": rma.number}


class ReturnInspectView(ReturnActionView):
    permission_required = "fulfillment.inspect_return"
    form_class = ReturnInspectForm

    def prefix(self, kwargs):
        return f"line{kwargs['line_id']}"

    def perform(self, rma, data, line_id):
        line = get_object_or_404(ReturnLine, pk=line_id, return_request=rma)
        line = services.return_line_inspect(
            line=line,
            restock=data["restock"],
            write_off=data["write_off"],
            note=data["note"],
            actor=self.request.user,
        )
        return _("%(sku)s: %(restock)d restocked, %(off)d written off.") % {
            "sku": line.order_line.sku,
            "restock": data["restock"],
            "off": data["write_off"],
        }


class ReturnCompleteView(ReturnActionView):
    permission_required = "fulfillment.inspect_return"
    form_class = ReturnCompleteForm

    def perform(self, rma, data):
        rma = services.return_complete(
            return_request=rma,
            actor=self.request.user,
            shipping_refund=data.get("shipping_refund") or 0,
        )
        return _("Return %(rma)s completed.") % {"rma": rma.number}


@method_decorator(never_cache, name="dispatch")
class CustomerReturnView(View):
    """The customer asks to send items back, from the status page, after proving the phone."""

    template_name = "fulfillment/return_customer.html"

    def dispatch(self, request, *args, **kwargs):
        # The proof is the status page's: order number and phone, remembered in the session.
        from tracking.views import lookup_url, proven_orders

        number = kwargs["number"]
        if number not in proven_orders(request):
            return redirect(lookup_url(number))
        self.order = Order.objects.filter(number=number).first()
        if self.order is None:
            return redirect(lookup_url())
        return super().dispatch(request, *args, **kwargs)

    def form(self, data=None):
        return ReturnRequestForm(
            data, order=self.order, returnable=returnable_quantities(self.order)
        )

    def get(self, request, number):
        return self.page(self.form())

    def post(self, request, number):
        from tracking.views import correction_allowed

        form = self.form(request.POST)
        if not correction_allowed(request):
            form.add_error(
                None,
                _(
                    "Too many attempts from your network. Please wait a few minutes"
                    " and try again."
                ),
            )
            return self.page(form, status=429)
        if form.is_valid():
            try:
                rma = services.return_request_create(
                    order=self.order,
                    lines=form.lines(),
                    reason=form.cleaned_data["reason"],
                    resolution=form.cleaned_data["resolution"],
                    description=form.cleaned_data["description"],
                    actor=CUSTOMER_ACTOR,
                )
            except OrderError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _(
                        "Thank you. Your return request %(rma)s has been sent; we"
                        " will tell you how to send the items back."
                    )
                    % {"rma": rma.number},
                )
                return redirect("track:order", number=self.order.number)
        return self.page(form, status=400)

    def page(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"order": self.order, "form": form},
            status=status,
        )
