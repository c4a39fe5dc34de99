"""Console: staff's wording of customer messages (with a preview), and a customer's channels."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from orders.models import Order
from tracking import notifications as services
from tracking import selectors
from tracking.models import Notification, NotificationTemplate
from tracking.notification_forms import (
    NotificationChoicesForm,
    NotificationTemplateForm,
)


class TemplateListView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """Every event's message per channel and language: staff's wording or the default."""

    permission_required = "tracking.view_notificationtemplate"

    def get(self, request):
        return render(
            request,
            "tracking/notification_template_list.html",
            {"events": selectors.notification_templates_overview()},
        )


class TemplateEditView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """Edit one message; 'Preview' shows it with sample values without saving."""

    permission_required = "tracking.change_notificationtemplate"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        event, channel, language = (
            kwargs["event"],
            kwargs["channel"],
            kwargs["language"],
        )
        if (
            event not in services.EVENTS
            or channel not in Notification.Channel.values
            or language not in NotificationTemplate.Language.values
        ):
            raise Http404(_("No such message."))
        self.key = {"event": event, "channel": channel, "language": language}

    def get(self, request, **kwargs):
        row = services.template_for(**self.key)
        if row is not None:
            initial = {
                "subject": row.subject,
                "body": row.body,
                "sms_template_code": row.sms_template_code,
            }
        else:
            subject, body = services.template_default(**self.key)
            initial = {"subject": subject, "body": body}
        form = NotificationTemplateForm(initial=initial)
        return self.page(form, row=row, preview=self.preview(initial))

    def post(self, request, **kwargs):
        if "reset" in request.POST:
            services.notification_template_reset(**self.key, actor=request.user)
            messages.success(request, _("The message is back to the shipped wording."))
            return redirect(request.path)
        form = NotificationTemplateForm(request.POST)
        row = services.template_for(**self.key)
        if not form.is_valid():
            return self.page(form, row=row, status=400)
        preview = self.preview(form.cleaned_data)
        if "preview" in request.POST:
            return self.page(form, row=row, preview=preview)
        try:
            services.notification_template_save(
                **self.key, **form.cleaned_data, actor=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.page(form, row=row, status=400)
        messages.success(request, _("Message saved."))
        return redirect("tracking:notification_templates")

    def preview(self, data):
        row = NotificationTemplate(
            **self.key, subject=data.get("subject", ""), body=data.get("body", "")
        )
        unknown = services.placeholders_unknown(
            self.key["event"], f"{row.subject} {row.body}"
        )
        subject, text = services.message_render(
            **self.key,
            context=services.template_sample_context(
                self.key["event"], self.key["language"]
            ),
            row=row,
        )
        return {"subject": subject, "text": text, "unknown": unknown}

    def page(self, form, *, row, preview=None, status=200):
        context = {
            "form": form,
            "row": row,
            "preview": preview,
            "event_label": services.EVENTS[self.key["event"]][0],
            "channel_label": Notification.Channel(self.key["channel"]).label,
            "language_label": NotificationTemplate.Language(self.key["language"]).label,
            "placeholders": services.event_placeholders(self.key["event"]),
            **self.key,
        }
        return render(
            self.request,
            "tracking/notification_template_form.html",
            context,
            status=status,
        )


class OrderNotificationChoicesView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """Staff set which channels the order's customer gets messages on (as the customer asked)."""

    permission_required = "orders.change_customer"

    def post(self, request, number):
        order = get_object_or_404(
            Order.objects.select_related("customer"), number=number
        )
        form = NotificationChoicesForm(request.POST)
        form.is_valid()  # booleans: always valid
        services.customer_notification_choices_set(
            customer=order.customer,
            actor=request.user,
            order=order,
            **form.cleaned_data,
        )
        messages.success(request, _("The customer's message channels are saved."))
        return redirect("console:order_detail", number=order.number)
