"""The customer pages (客户关系): list and search, one customer's page, notes, merge, export."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from orders.customer_forms import (
    CustomerContactForm,
    CustomerMergeForm,
    CustomerNoteForm,
    CustomerSearchForm,
)
from orders.customer_selectors import (
    customer_export_table,
    customer_notes,
    customer_notifications,
    customer_orders,
    customer_page,
    customer_returns,
    customer_search,
    customer_totals,
)
from orders.customer_services import customer_note_add, customer_update, customers_merge
from orders.exceptions import OrderError
from orders.exports import csv_streaming_response, xlsx_file_response
from orders.forms import form_errors_text
from orders.models import Customer
from orders.views import ConsoleView


class CustomerListView(ConsoleView, TemplateView):
    permission_required = "orders.view_customer"
    template_name = "orders/customer_list.html"

    def get_context_data(self, **kwargs):
        form = CustomerSearchForm(self.request.GET or None)
        page = customer_page(
            customer_search(form.query()), after=self.request.GET.get("after", "")
        )
        return super().get_context_data(
            search_form=form, q=form.query(), page=page, **kwargs
        )


class CustomerDetailView(ConsoleView, TemplateView):
    permission_required = "orders.view_customer"
    template_name = "orders/customer_detail.html"

    def get_context_data(self, **kwargs):
        customer = get_object_or_404(Customer, pk=self.kwargs["pk"])
        candidates = []
        merge_q = self.request.GET.get("merge_q", "").strip()
        if merge_q and self.request.user.has_perm("orders.merge_customer"):
            candidates = customer_page(
                customer_search(merge_q).exclude(pk=customer.pk)
            ).customers
        return super().get_context_data(
            customer=customer,
            totals=customer_totals(customer),
            orders=customer_orders(customer),
            returns=customer_returns(customer),
            notifications=customer_notifications(customer),
            notes=customer_notes(customer),
            contact_form=CustomerContactForm.for_customer(customer),
            note_form=CustomerNoteForm(),
            merge_q=merge_q,
            merge_candidates=candidates,
            **kwargs,
        )


class CustomerActionView(ConsoleView, View):
    """Run one customer service on a POST, say how it went, and go back to the customer."""

    http_method_names = ["post"]

    def post(self, request, pk):
        customer = get_object_or_404(Customer, pk=pk)
        form = self.form(customer, request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect(customer)
        try:
            customer, text = self.perform(customer, form.cleaned_data)
        except OrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, text)
        return redirect(customer)


class CustomerContactView(CustomerActionView):
    permission_required = "orders.change_customer"

    def form(self, customer, data):
        return CustomerContactForm(data)

    def perform(self, customer, data):
        customer = customer_update(customer=customer, actor=self.request.user, **data)
        return customer, _("Contact details saved.")


class CustomerNoteView(CustomerActionView):
    permission_required = "orders.change_customer"

    def form(self, customer, data):
        return CustomerNoteForm(data)

    def perform(self, customer, data):
        customer_note_add(customer=customer, text=data["text"], actor=self.request.user)
        return customer, _("Note added.")


class CustomerMergeView(CustomerActionView):
    permission_required = "orders.merge_customer"

    def form(self, customer, data):
        return CustomerMergeForm(data)

    def perform(self, customer, data):
        merged = str(data["merge"])
        customer = customers_merge(
            keep=customer, merge=data["merge"], actor=self.request.user
        )
        return customer, _("%(merged)s was merged into this customer.") % {
            "merged": merged
        }


class CustomerExportView(ConsoleView, View):
    """The customer list's current search as CSV, or XLSX with ``?format=xlsx``."""

    permission_required = "orders.export_orders"

    def get(self, request):
        q = CustomerSearchForm(request.GET or None).query()
        header, rows = customer_export_table(customer_search(q))
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        if request.GET.get("format") == "xlsx":
            return xlsx_file_response(
                filename=f"customers-{stamp}.xlsx",
                title="customers",
                header=header,
                rows=rows,
            )
        return csv_streaming_response(
            filename=f"customers-{stamp}.csv", header=header, rows=rows
        )
