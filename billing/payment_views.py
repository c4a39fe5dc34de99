"""Payment provider webhooks, and the finance review queue of held payments."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from billing.models import Payment
from billing.payment_selectors import payments_in_review
from billing.payments import (
    payment_notification_receive,
    payment_notification_reject,
    payment_review_accept,
    payment_review_reject,
)
from billing.providers import NotificationRejected, provider_get
from orders.exceptions import OrderError

PAGE_SIZE = 50


@method_decorator(csrf_exempt, name="dispatch")  # signed by the provider instead
class PaymentWebhookView(View):
    """POST from a payment provider: verify, apply once, answer as the provider expects."""

    http_method_names = ["post"]
    provider_code = ""

    def post(self, request):
        provider = provider_get(self.provider_code)
        try:
            notification = provider.verify(request)
        except NotificationRejected as error:
            payment_notification_reject(provider=self.provider_code, error=error)
            return provider.reply_fail(str(error))
        payment_notification_receive(
            provider=self.provider_code,
            method=provider.method,
            notification=notification,
        )
        return provider.reply_ok()


class PaymentReviewListView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """Payments held for finance: wrong amount, cancelled order; accept or reject each."""

    permission_required = "billing.confirm_payment"

    def get(self, request):
        page = Paginator(payments_in_review(), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        return render(
            request,
            "billing/payment_review_list.html",
            {"page_obj": page, "payments": page.object_list},
        )


class PaymentReviewActionView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """POST only: accept (apply) or reject a held payment, back to the queue."""

    permission_required = "billing.confirm_payment"
    http_method_names = ["post"]
    action = ""

    def post(self, request, pk):
        payment = get_object_or_404(Payment, pk=pk)
        note = request.POST.get("note", "").strip()[:300]
        try:
            if self.action == "accept":
                payment_review_accept(payment=payment, actor=request.user, note=note)
                messages.success(request, _("Payment accepted."))
            else:
                payment_review_reject(payment=payment, actor=request.user, reason=note)
                messages.success(request, _("Payment rejected."))
        except OrderError as error:
            messages.error(request, str(error))
        return redirect("billing:review_list")
