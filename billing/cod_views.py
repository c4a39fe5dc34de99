"""Console pages for finance: COD reconciliation, remittances, marketplace settlements."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from billing import cod_selectors as selectors
from billing.cod import (
    cod_difference_resolve,
    cod_missing_refresh,
    cod_remittance_create,
    cod_remittance_import,
)
from billing.cod_forms import (
    DifferenceFilterForm,
    DifferenceResolveForm,
    RemittanceImportForm,
    RemittanceManualForm,
    SettlementImportForm,
)
from billing.cod_models import (
    CodDifference,
    CodRemittance,
    MarketplaceSettlement,
    MarketplaceSettlementLine,
)
from billing.settlements import settlement_import, settlement_line_resolve
from orders.exceptions import OrderError
from orders.forms import form_errors_text

PAGE_SIZE = 50


class FinancePage(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = "billing.reconcile_cod"


class ReconciliationView(FinancePage):
    """Open COD differences (missing, short, extra, unknown) until finance resolves each."""

    def get(self, request):
        data = request.GET.copy()
        data.setdefault("status", "open")
        form = DifferenceFilterForm(data)
        filters = form.cleaned_data if form.is_valid() else {"status": "open"}
        differences = selectors.cod_differences_list(
            status=filters.get("status") or "open", kind=filters.get("kind", "")
        )
        counts = selectors.cod_difference_counts()
        page = Paginator(differences, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "billing/cod_reconciliation.html",
            {
                "filter_form": form,
                "page_obj": page,
                "differences": page.object_list,
                "resolve_form": DifferenceResolveForm(),
                "kind_counts": [
                    (kind, label, counts.get(kind, 0))
                    for kind, label in CodDifference.Kind.choices
                ],
                "not_remitted": selectors.cod_not_remitted_total(),
            },
        )


class MissingCheckView(FinancePage):
    http_method_names = ["post"]

    def post(self, request):
        count = cod_missing_refresh(actor=request.user)
        messages.success(
            request,
            _("%(count)d collected parcel(s) newly listed as not remitted.")
            % {"count": count},
        )
        return redirect("finance:cod_reconciliation")


def resolve_post(request, *, resolve, fallback_url: str):
    """Run ``resolve(note)`` from the posted form; message the result, go back."""
    form = DifferenceResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
    else:
        try:
            resolve(form.cleaned_data["note"])
        except OrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Difference resolved."))
    next_url = request.POST.get("next")
    return redirect(next_url if url_is_local(next_url) else fallback_url)


class DifferenceResolveView(FinancePage):
    http_method_names = ["post"]

    def post(self, request, pk):
        difference = get_object_or_404(CodDifference, pk=pk)
        return resolve_post(
            request,
            resolve=lambda note: cod_difference_resolve(
                difference=difference, note=note, actor=request.user
            ),
            fallback_url=reverse("finance:cod_reconciliation"),
        )


def url_is_local(url) -> bool:
    return bool(url) and url.startswith("/") and not url.startswith("//")


class RemittanceListView(FinancePage):
    """Remittances with the forms to import a file or enter one by hand."""

    def get(self, request):
        return self.page(request)

    def page(self, request, *, status=200, **forms):
        page = Paginator(selectors.cod_remittances_list(), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        context = {
            "page_obj": page,
            "remittances": page.object_list,
            "import_form": forms.get("import_form")
            or RemittanceImportForm(prefix="import"),
            "manual_form": forms.get("manual_form")
            or RemittanceManualForm(prefix="manual"),
        }
        return render(
            request, "billing/cod_remittance_list.html", context, status=status
        )


class RemittanceImportView(RemittanceListView):
    http_method_names = ["get", "post"]
    permission_required = ("billing.reconcile_cod", "billing.add_codremittance")

    def post(self, request):
        form = RemittanceImportForm(request.POST, request.FILES, prefix="import")
        if not form.is_valid():
            return self.page(request, status=400, import_form=form)
        data = form.cleaned_data
        try:
            remittance = cod_remittance_import(
                carrier=data["carrier"],
                reference=data["reference"],
                remitted_on=data["remitted_on"],
                data=data["file"].read(),
                file_name=data["file"].name,
                actor=request.user,
            )
        except OrderError as error:
            form.add_error(None, str(error))
            return self.page(request, status=400, import_form=form)
        return self.done(request, remittance)

    @staticmethod
    def done(request, remittance):
        messages.success(
            request,
            _(
                "Remittance %(reference)s recorded: %(rows)d row(s), %(rejected)d rejected."
            )
            % {
                "reference": remittance.reference,
                "rows": remittance.lines.count(),
                "rejected": len(remittance.rejected_rows),
            },
        )
        return redirect("finance:cod_remittance_detail", pk=remittance.pk)


class RemittanceManualView(RemittanceImportView):
    def post(self, request):
        form = RemittanceManualForm(request.POST, prefix="manual")
        if not form.is_valid():
            return self.page(request, status=400, manual_form=form)
        data = form.cleaned_data
        try:
            remittance = cod_remittance_create(
                carrier=data["carrier"],
                reference=data["reference"],
                remitted_on=data["remitted_on"],
                rows=data["rows"],
                actor=request.user,
            )
        except OrderError as error:
            form.add_error(None, str(error))
            return self.page(request, status=400, manual_form=form)
        return self.done(request, remittance)


class RemittanceDetailView(FinancePage):
    def get(self, request, pk):
        remittance = get_object_or_404(
            CodRemittance.objects.select_related("carrier", "created_by"), pk=pk
        )
        lines = remittance.lines.select_related(
            "collection__order", "collection__shipment"
        ).prefetch_related("differences")
        return render(
            request,
            "billing/cod_remittance_detail.html",
            {
                "remittance": remittance,
                "lines": lines,
                "resolve_form": DifferenceResolveForm(),
            },
        )


class SettlementListView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """Marketplace settlement imports, and the form to import one."""

    permission_required = "billing.view_marketplacesettlement"

    def get(self, request, form=None, status=200):
        page = Paginator(selectors.settlements_list(), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        return render(
            request,
            "billing/settlement_list.html",
            {
                "page_obj": page,
                "settlements": page.object_list,
                "form": form or SettlementImportForm(),
            },
            status=status,
        )

    def post(self, request):
        if not request.user.has_perm("billing.add_marketplacesettlement"):
            return self.handle_no_permission()
        form = SettlementImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        upload = form.cleaned_data["file"]
        try:
            settlement = settlement_import(
                channel=form.cleaned_data["channel"],
                data=upload.read(),
                file_name=upload.name,
                actor=request.user,
            )
        except OrderError as error:
            form.add_error(None, str(error))
            return self.get(request, form=form, status=400)
        messages.success(
            request,
            _("Settlement imported: %(rows)d row(s), %(rejected)d rejected.")
            % {
                "rows": settlement.lines.count(),
                "rejected": len(settlement.rejected_rows),
            },
        )
        return redirect("finance:settlement_detail", pk=settlement.pk)


class SettlementDetailView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = "billing.view_marketplacesettlement"

    def get(self, request, pk):
        settlement = get_object_or_404(
            MarketplaceSettlement.objects.select_related("channel", "imported_by"),
            pk=pk,
        )
        show = request.GET.get("show", "problems")
        lines = settlement.lines.select_related("order", "resolved_by")
        if show == "problems":
            lines = lines.exclude(status="matched").filter(resolved_at__isnull=True)
        return render(
            request,
            "billing/settlement_detail.html",
            {
                "settlement": settlement,
                "lines": lines,
                "show": show,
                "can_resolve": request.user.has_perm(
                    "billing.change_marketplacesettlementline"
                ),
            },
        )


class SettlementLineResolveView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = "billing.change_marketplacesettlementline"
    http_method_names = ["post"]

    def post(self, request, pk):
        line = get_object_or_404(MarketplaceSettlementLine, pk=pk)
        return resolve_post(
            request,
            resolve=lambda note: settlement_line_resolve(
                line=line, note=note, actor=request.user
            ),
            fallback_url=reverse(
                "finance:settlement_detail", args=[line.settlement_id]
            ),
        )
