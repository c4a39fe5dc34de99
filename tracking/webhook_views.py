"""Console: outbound webhook endpoints, their deliveries with the answers, test and replay."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from tracking import outbound_webhooks as services
from tracking.webhook_forms import WebhookEndpointForm
from tracking.webhook_models import WebhookDelivery, WebhookEndpoint

# The secret of a new or rotated endpoint waits here for the one page that shows it.
SECRET_SESSION_KEY = "webhook_secret_once"


class WebhookPermissionMixin(LoginRequiredMixin, PermissionRequiredMixin):
    permission_required = "tracking.manage_webhooks"


def _show_secret_once(request, endpoint, secret):
    request.session[SECRET_SESSION_KEY] = {"endpoint": endpoint.pk, "secret": secret}


def _form_errors_apply(form, error: ValidationError):
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class EndpointListView(WebhookPermissionMixin, View):
    def get(self, request):
        endpoints = WebhookEndpoint.objects.order_by("url", "pk")
        return render(
            request,
            "tracking/webhook_endpoint_list.html",
            {"endpoints": services.webhook_endpoints_overview(endpoints)},
        )


class EndpointCreateView(WebhookPermissionMixin, View):
    def get(self, request):
        return self.page(WebhookEndpointForm())

    def post(self, request):
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint = services.webhook_endpoint_create(
                    **form.cleaned_data, actor=request.user
                )
            except ValidationError as exc:
                _form_errors_apply(form, exc)
            else:
                _show_secret_once(request, endpoint, endpoint.secret)
                return redirect("tracking:webhook_endpoint", pk=endpoint.pk)
        return self.page(form, status=400)

    def page(self, form, status=200):
        return render(
            self.request,
            "tracking/webhook_endpoint_form.html",
            {"form": form, "endpoint": None},
            status=status,
        )


class EndpointDetailView(WebhookPermissionMixin, View):
    """The endpoint's settings form and its deliveries, newest first."""

    def get(self, request, pk):
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        return self.page(endpoint, WebhookEndpointForm.for_endpoint(endpoint))

    def post(self, request, pk):
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                services.webhook_endpoint_update(endpoint=endpoint, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors_apply(form, exc)
            else:
                messages.success(request, _("The endpoint is saved."))
                return redirect("tracking:webhook_endpoint", pk=endpoint.pk)
        return self.page(endpoint, form, status=400)

    def page(self, endpoint, form, status=200):
        shown = self.request.session.pop(SECRET_SESSION_KEY, None)
        secret = shown["secret"] if shown and shown["endpoint"] == endpoint.pk else ""
        only = self.request.GET.get("status", "")
        deliveries = Paginator(
            services.webhook_deliveries_for_endpoint(endpoint=endpoint, status=only),
            50,
        ).get_page(self.request.GET.get("page"))
        return render(
            self.request,
            "tracking/webhook_endpoint_form.html",
            {
                "endpoint": endpoint,
                "form": form,
                "secret": secret,
                "deliveries": deliveries,
                "only": only,
                "statuses": WebhookDelivery.Status.choices,
                "given_up": endpoint.deliveries.filter(
                    status=WebhookDelivery.Status.GIVEN_UP, replays__isnull=True
                ).count(),
                "page_obj": deliveries,
                "replayable": {
                    WebhookDelivery.Status.DELIVERED,
                    WebhookDelivery.Status.FAILED,
                    WebhookDelivery.Status.GIVEN_UP,
                },
            },
            status=status,
        )


class EndpointRotateView(WebhookPermissionMixin, View):
    def post(self, request, pk):
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        secret = services.webhook_endpoint_secret_rotate(endpoint=endpoint)
        _show_secret_once(request, endpoint, secret)
        return redirect("tracking:webhook_endpoint", pk=endpoint.pk)


class EndpointTestView(WebhookPermissionMixin, View):
    def post(self, request, pk):
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        services.webhook_endpoint_test(endpoint=endpoint, actor=request.user)
        messages.success(
            request, _("A test event is on its way; its answer appears below.")
        )
        return redirect("tracking:webhook_endpoint", pk=endpoint.pk)


class DeliveryReplayView(WebhookPermissionMixin, View):
    def post(self, request, pk):
        delivery = get_object_or_404(
            WebhookDelivery.objects.select_related("endpoint"), pk=pk
        )
        try:
            services.webhook_delivery_replay(delivery=delivery)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("Event %(event)s is sent again with the same event id.")
                % {"event": delivery.event_type},
            )
        return redirect("tracking:webhook_endpoint", pk=delivery.endpoint_id)


class EndpointReplayGivenUpView(WebhookPermissionMixin, View):
    def post(self, request, pk):
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        try:
            count = services.webhook_deliveries_replay_given_up(endpoint=endpoint)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d given-up event is sent again.",
                    "%(count)d given-up events are sent again.",
                    count,
                )
                % {"count": count},
            )
        return redirect("tracking:webhook_endpoint", pk=endpoint.pk)
