"""Console actions that record money: prepaid payments, cash on delivery, refunds."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View

from billing.forms import (
    CodCollectionForm,
    PaymentConfirmForm,
    RefundPaidForm,
    RefundRejectForm,
    RefundRequestForm,
)
from billing.models import Refund
from billing.provider_refunds import refund_provider_send
from billing.services import (
    cod_collection_record,
    payment_confirm,
    refund_approve,
    refund_mark_paid,
    refund_reject,
    refund_request,
)
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


class RefundActionView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """POST only: move a refund on (approve, reject, paid), go back to its order."""

    permission_required = "billing.approve_refund"
    http_method_names = ["post"]
    form_class = None

    def post(self, request, pk):
        refund = get_object_or_404(Refund.objects.select_related("order"), pk=pk)
        form = self.form_class(request.POST) if self.form_class else None
        if form is not None and not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect(refund.order)
        try:
            text = self.perform(refund, form.cleaned_data if form else {})
        except OrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, text)
        return redirect(refund.order)

    def perform(self, refund, data):
        raise NotImplementedError


class RefundApproveView(RefundActionView):
    def perform(self, refund, data):
        refund_approve(refund=refund, actor=self.request.user)
        return _("Refund of ¥%(amount)s approved.") % {"amount": refund.amount}


class RefundRejectView(RefundActionView):
    form_class = RefundRejectForm

    def perform(self, refund, data):
        refund_reject(refund=refund, actor=self.request.user, note=data["note"])
        return _("Refund of ¥%(amount)s rejected.") % {"amount": refund.amount}


class RefundPaidView(RefundActionView):
    form_class = RefundPaidForm

    def perform(self, refund, data):
        refund_mark_paid(
            refund=refund, reference=data["reference"], actor=self.request.user
        )
        return _("Refund of ¥%(amount)s marked paid.") % {"amount": refund.amount}


class RefundProviderView(RefundActionView):
    """Pay the refund back through Alipay or WeChat Pay, as the order was paid."""

    def perform(self, refund, data):
        refund = refund_provider_send(refund=refund, actor=self.request.user)
        values = {
            "amount": refund.amount,
            "provider": refund.payment.get_method_display(),
        }
        if refund.status == Refund.Status.PAID:
            return _("Refund of ¥%(amount)s paid back through %(provider)s.") % values
        return (
            _(
                "%(provider)s has not confirmed the refund of ¥%(amount)s yet; it is"
                " checked again and marked paid when it does."
            )
            % values
        )


class RefundRequestView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """POST only: ask finance for a goodwill refund on the order."""

    permission_required = "billing.add_refund"
    http_method_names = ["post"]

    def post(self, request, number):
        order = get_object_or_404(Order, number=number)
        form = RefundRequestForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect(order)
        try:
            refund = refund_request(
                order=order,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                source=Refund.Source.GOODWILL,
                actor=request.user,
            )
        except OrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Refund of ¥%(amount)s requested from finance.")
                % {"amount": refund.amount},
            )
        return redirect(order)
