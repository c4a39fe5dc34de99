"""Console actions that record money: prepaid payments and cash on delivery."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View

from billing.forms import CodCollectionForm, PaymentConfirmForm
from billing.services import cod_collection_record, payment_confirm
from orders.exceptions import OrderError
from orders.forms import form_errors_text
from orders.models import Order


class OrderPaymentView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """POST only: record money for the order, say how it went, go back to the order."""

    permission_required = "billing.confirm_payment"
    http_method_names = ["post"]
    form_class = None

    def post(self, request, number):
        order = get_object_or_404(Order, number=number)
        form = self.form_class(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect(order)
        try:
            payment = self.record(order, form.cleaned_data)
        except OrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("%(method)s payment of ¥%(amount)s recorded.")
                % {"method": payment.get_method_display(), "amount": payment.amount},
            )
        return redirect(order)

    def record(self, order, data):
        raise NotImplementedError


class PaymentConfirmView(OrderPaymentView):
    form_class = PaymentConfirmForm

    def record(self, order, data):
        return payment_confirm(order=order, actor=self.request.user, **data)


class CodCollectionView(OrderPaymentView):
    form_class = CodCollectionForm

    def record(self, order, data):
        return cod_collection_record(order=order, actor=self.request.user, **data)
