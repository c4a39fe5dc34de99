"""Console: the exceptions queue (late, failed, refused, returned and lost parcels) and transit standards."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from orders.exceptions import OrderError
from tracking import exception_selectors as selectors
from tracking import parcel_exceptions as services
from tracking.exception_forms import (
    ClaimForm,
    ClaimUpdateForm,
    CloseForm,
    ExceptionFilterForm,
    ExceptionNoteForm,
    RefundForm,
    TransitStandardForm,
)
from tracking.models import CarrierClaim, ParcelException, TransitStandard

PAGE_SIZE = 50


class ConsolePage(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = "tracking.view_parcelexception"


class ExceptionListView(ConsolePage):
    """The queue: open exceptions first, filterable by status, kind, carrier and search."""

    def get(self, request):
        data = request.GET.copy()
        if "status" not in data:
            data["status"] = ParcelException.Status.OPEN
        form = ExceptionFilterForm(data)
        filters = form.cleaned_data if form.is_valid() else {"status": "open"}
        queue = selectors.exceptions_queue(
            status=filters.get("status", ""),
            kind=filters.get("kind", ""),
            carrier_id=filters["carrier"].pk if filters.get("carrier") else None,
            q=filters.get("q", ""),
        )
        counts = selectors.exception_counts()
        page = Paginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "tracking/exception_list.html",
            {
                "filter_form": form,
                "page_obj": page,
                "exceptions": page.object_list,
                "kind_counts": [
                    (kind, label, counts[kind])
                    for kind, label in ParcelException.Kind.choices
                ],
            },
        )


def _forms(**bound):
    forms = {
        "note_form": ExceptionNoteForm(prefix="note"),
        "claim_form": ClaimForm(prefix="claim"),
        "refund_form": RefundForm(prefix="refund"),
        "close_form": CloseForm(prefix="close"),
        "claim_update_form": ClaimUpdateForm(prefix="settle"),
    }
    forms.update(bound)
    return forms


def exception_page(request, exception_id, *, status=200, **bound):
    exception = selectors.exception_for_console(exception_id)
    if exception is None:
        raise Http404(_("No such exception."))
    context = {
        "exception": exception,
        "shipment": exception.shipment,
        "order": exception.shipment.order,
        "is_open": exception.status == ParcelException.Status.OPEN,
        **_forms(**bound),
    }
    return render(request, "tracking/exception_detail.html", context, status=status)


class ExceptionDetailView(ConsolePage):
    def get(self, request, pk):
        return exception_page(request, pk)


class ExceptionActionView(ConsolePage):
    """One action on an exception: a bound form in, one service call, back to the page."""

    http_method_names = ["post"]
    permission_required = "tracking.handle_parcelexception"
    form_class = None
    prefix = ""

    def post(self, request, pk):
        exception = get_object_or_404(ParcelException, pk=pk)
        data = {}
        if self.form_class is not None:
            form = self.form_class(request.POST, prefix=self.prefix)
            if not form.is_valid():
                return exception_page(
                    request, pk, status=400, **{f"{self.prefix}_form": form}
                )
            data = form.cleaned_data
        try:
            done = self.perform(exception, data)
        except OrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, done)
        return redirect("tracking:exception_detail", pk=pk)

    def perform(self, exception, data) -> str:
        raise NotImplementedError


class ExceptionNoteView(ExceptionActionView):
    form_class, prefix = ExceptionNoteForm, "note"

    def perform(self, exception, data):
        services.exception_note_add(
            exception=exception,
            text=data["text"],
            contact=data.get("contact") or "",
            actor=self.request.user,
        )
        return _("Note added to the order.")


class ExceptionNotifyView(ExceptionActionView):
    def perform(self, exception, data):
        count = services.exception_customer_notify(
            exception=exception, actor=self.request.user
        )
        return _("The customer is being told (%(count)d message(s)).") % {
            "count": count
        }


class ExceptionReshipView(ExceptionActionView):
    permission_required = (
        "tracking.handle_parcelexception",
        "fulfillment.add_shipment",
    )

    def perform(self, exception, data):
        parcels = services.exception_reship(
            exception=exception, actor=self.request.user
        )
        return _(
            "Stock reserved again; replacement parcel %(parcels)s is ready to pick."
        ) % {"parcels": ", ".join(f"#{p.pk}" for p in parcels)}


class ExceptionClaimView(ExceptionActionView):
    permission_required = "tracking.add_carrierclaim"
    form_class, prefix = ClaimForm, "claim"

    def perform(self, exception, data):
        services.carrier_claim_file(
            exception=exception,
            amount=data["amount"],
            evidence=data["evidence"],
            reference=data["reference"],
            actor=self.request.user,
        )
        return _("Claim filed with the carrier.")


class ExceptionRefundView(ExceptionActionView):
    # Handling the parcel is not enough: a refund is money, asked for by the
    # roles that may ask for refunds anywhere else (not the warehouse).
    permission_required = ("tracking.handle_parcelexception", "billing.add_refund")
    form_class, prefix = RefundForm, "refund"

    def perform(self, exception, data):
        services.exception_refund(
            exception=exception,
            amount=data["amount"],
            reason=data["reason"],
            actor=self.request.user,
        )
        return _("Refund handed to finance for approval.")


class ExceptionCloseView(ExceptionActionView):
    form_class, prefix = CloseForm, "close"

    def perform(self, exception, data):
        services.exception_close(
            exception=exception, resolution=data["resolution"], actor=self.request.user
        )
        return _("Exception closed.")


class ClaimUpdateView(ConsolePage):
    http_method_names = ["post"]
    permission_required = "tracking.change_carrierclaim"

    def post(self, request, pk):
        claim = get_object_or_404(CarrierClaim, pk=pk)
        form = ClaimUpdateForm(request.POST, prefix="settle")
        if not form.is_valid():
            return exception_page(
                request, claim.exception_id, status=400, claim_update_form=form
            )
        try:
            services.carrier_claim_update(
                claim=claim,
                status=form.cleaned_data["status"],
                settlement_amount=form.cleaned_data["settlement_amount"],
                reference=form.cleaned_data["reference"],
                actor=request.user,
            )
        except OrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Claim updated."))
        return redirect("tracking:exception_detail", pk=claim.exception_id)


class TransitStandardListView(ConsolePage):
    """Staff's standards per carrier and route, beside the ones learned from deliveries."""

    permission_required = "tracking.view_transitstandard"

    def get(self, request):
        return self.page(TransitStandardForm())

    def post(self, request):
        if not request.user.has_perm("tracking.change_transitstandard"):
            return self.handle_no_permission()
        form = TransitStandardForm(request.POST)
        if not form.is_valid():
            return self.page(form, status=400)
        try:
            services.transit_standard_set(**form.cleaned_data, actor=request.user)
        except OrderError as error:
            form.add_error("hours", str(error))
            return self.page(form, status=400)
        messages.success(request, _("Transit-time standard saved."))
        return redirect("tracking:standards")

    def page(self, form, status=200):
        return render(
            self.request,
            "tracking/standard_list.html",
            {"form": form, "standards": selectors.transit_standards()},
            status=status,
        )


class TransitStandardDeleteView(ConsolePage):
    http_method_names = ["post"]
    permission_required = "tracking.change_transitstandard"

    def post(self, request, pk):
        standard = get_object_or_404(
            TransitStandard, pk=pk, source=TransitStandard.Source.STAFF
        )
        services.transit_standard_delete(standard=standard, actor=request.user)
        messages.success(request, _("Transit-time standard removed."))
        return redirect("tracking:standards")
