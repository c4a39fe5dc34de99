"""The customer's order-status page and the staff page for recording parcel scans."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from orders.exceptions import OrderError
from orders.models import Order
from orders.selectors import order_problem_messages, order_problems_by_field
from orders.services import order_correct
from tracking.forms import CustomerCorrectForm, ScanForm, TrackLookupForm
from tracking.models import TrackingStatus
from tracking.notification_forms import NotificationChoicesForm
from tracking.notifications import (
    customer_notification_choices_set,
    quiet_hours_label,
)
from tracking.selectors import (
    order_for_lookup,
    order_for_tracking,
    order_lookup_matches,
    order_progress,
    phone_masked,
    shipment_estimated_delivery,
    shipment_for_scans,
)
from tracking.services import tracking_event_record

# The session remembers the orders whose phone this visitor has proved.
SESSION_KEY = "track_orders"
SESSION_MAX_ORDERS = 20
# How a customer's own correction is recorded on the order's timeline (see
# orders.events.Actor): the visitor proved the phone but has no account.
CUSTOMER_ACTOR = "customer"


def _client_address(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client wants it to be.
    return request.META.get("REMOTE_ADDR", "")


def lookup_allowed(request) -> bool:
    """Count this lookup against the client's window; return whether it is within the limit."""
    return _attempt_allowed(request, "track-lookup")


def correction_allowed(request) -> bool:
    """Count this correction like a lookup, in a window of its own."""
    return _attempt_allowed(request, "track-correct")


def _attempt_allowed(request, scope: str) -> bool:
    key = f"{scope}:{_client_address(request)}"
    cache.add(key, 0, timeout=settings.TRACK_LOOKUP_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, timeout=settings.TRACK_LOOKUP_WINDOW_SECONDS)
        count = 1
    return count <= settings.TRACK_LOOKUP_LIMIT


def proven_orders(request) -> list[str]:
    return request.session.get(SESSION_KEY, [])


def remember_proven(request, number: str):
    numbers = [n for n in proven_orders(request) if n != number]
    request.session[SESSION_KEY] = [*numbers, number][-SESSION_MAX_ORDERS:]


def lookup_url(number: str = "") -> str:
    url = reverse("track:lookup")
    return f"{url}?{urlencode({'number': number})}" if number else url


@method_decorator(never_cache, name="dispatch")
class TrackLookupView(View):
    """Order number and phone in; the status page out, or one message for any mismatch."""

    template_name = "tracking/track_form.html"

    def get(self, request):
        number = request.GET.get("number", "").strip()
        if number and number in proven_orders(request):
            return redirect("track:order", number=number)
        form = TrackLookupForm(initial={"number": number})
        return self.page(form)

    def post(self, request):
        form = TrackLookupForm(request.POST)
        if not lookup_allowed(request):
            return self.page(form, limited=True, status=429)
        if form.is_valid():
            number = form.cleaned_data["number"]
            order = order_for_lookup(number)
            if order_lookup_matches(order, form.cleaned_data["phone"]):
                remember_proven(request, order.number)
                return redirect("track:order", number=order.number)
            # The same words whether the number or the phone was wrong.
            form.add_error(
                None,
                _(
                    "We could not find an order with this number and phone number. "
                    "Please check both and try again."
                ),
            )
        return self.page(form)

    def page(self, form, *, limited=False, status=200):
        context = {"form": form, "limited": limited}
        return render(self.request, self.template_name, context, status=status)


@method_decorator(never_cache, name="dispatch")
class TrackOrderView(View):
    """The status of an order this visitor has proved the phone of."""

    template_name = "tracking/track_detail.html"

    def get(self, request, number):
        if number not in proven_orders(request):
            return redirect(lookup_url(number))
        order = order_for_tracking(number)
        if order is None:
            return redirect(lookup_url())
        return status_page(request, order)


def status_page(request, order, *, form=None, notice="", status=200):
    """Render the status page; an order held for correction gets the correction form.

    ``form`` is a submitted correction form to show again with its errors;
    ``notice`` a refusal to show above it.
    """
    held = order.status == Order.Status.NEEDS_CORRECTION
    if held and form is None:
        form = CustomerCorrectForm.for_order(
            order, problems=order_problems_by_field(order)
        )
    shipments = list(order.shipments.all())
    for shipment in shipments:
        shipment.estimated_delivery = shipment_estimated_delivery(shipment)
    context = {
        "order": order,
        "steps": order_progress(order),
        "shipments": shipments,
        "messages_form": NotificationChoicesForm.for_customer(order.customer),
        "quiet_hours": quiet_hours_label(),
        "phone": phone_masked(order.recipient_phone),
        "problems": order_problem_messages(order),
        "correction_form": form if held else None,
        "notice": notice,
    }
    return render(request, TrackOrderView.template_name, context, status=status)


@method_decorator(never_cache, name="dispatch")
class TrackCorrectView(View):
    """The customer corrects the recipient and address of an order held for correction.

    Only a visitor who proved the phone may, only while the order is held, and as
    often as the lookup's rate limit allows.
    """

    def get(self, request, number):
        # The form is on the status page, which checks the proof itself.
        return redirect("track:order", number=number)

    def post(self, request, number):
        if number not in proven_orders(request):
            return redirect(lookup_url(number))
        order = order_for_tracking(number)
        if order is None:
            return redirect(lookup_url())
        if order.status != Order.Status.NEEDS_CORRECTION:
            notice = _(
                "This order is not waiting for a correction; nothing was changed."
            )
            return status_page(request, order, notice=notice, status=409)
        problems = order_problems_by_field(order)
        form = CustomerCorrectForm(request.POST, problems=problems)
        if not correction_allowed(request):
            notice = _(
                "Too many attempts from your network. Please wait a few minutes and try again."
            )
            return status_page(request, order, form=form, notice=notice, status=429)
        if form.is_valid():
            try:
                order_correct(
                    order=order, changes=form.cleaned_data, actor=CUSTOMER_ACTOR
                )
            except OrderError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, _("Thank you. We have checked your details again.")
                )
                return redirect("track:order", number=order.number)
        return status_page(request, order, form=form)


@method_decorator(never_cache, name="dispatch")
class TrackMessagesView(View):
    """The customer turns messages on or off per channel, once they proved the phone."""

    def get(self, request, number):
        return redirect("track:order", number=number)

    def post(self, request, number):
        if number not in proven_orders(request):
            return redirect(lookup_url(number))
        order = order_for_tracking(number)
        if order is None:
            return redirect(lookup_url())
        form = NotificationChoicesForm(request.POST)
        form.is_valid()  # booleans: always valid
        customer_notification_choices_set(
            customer=order.customer,
            actor=CUSTOMER_ACTOR,
            order=order,
            **form.cleaned_data,
        )
        messages.success(request, _("Your message settings are saved."))
        return redirect("track:order", number=order.number)


class ScanAddView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """Staff type in a scan the carrier reported (by phone, on its site, on a slip)."""

    permission_required = "tracking.add_trackingevent"
    template_name = "tracking/scan_form.html"

    def dispatch(self, request, *args, **kwargs):
        # Checked before the parcel is read, so strangers learn nothing about it.
        if not request.user.is_authenticated or not self.has_permission():
            return self.handle_no_permission()
        self.shipment = shipment_for_scans(kwargs["shipment_id"])
        if self.shipment is None:
            raise Http404(_("No such parcel."))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, shipment_id):
        return self.page(ScanForm())

    def post(self, request, shipment_id):
        form = ScanForm(request.POST)
        if not form.is_valid():
            return self.page(form)
        data = form.cleaned_data
        try:
            event = tracking_event_record(
                shipment=self.shipment,
                status=data["status"],
                description=data["description"],
                location=data["location"],
                occurred_at=data["occurred_at"],
                actor=request.user,
                source="manual",
            )
        except OrderError as error:
            messages.error(request, str(error))
        else:
            if event is None:
                messages.info(request, _("This scan was already recorded."))
            else:
                messages.success(
                    request,
                    _("Scan recorded: %(status)s.")
                    % {"status": TrackingStatus(event.status).label},
                )
        return redirect("tracking:scan_add", shipment_id=self.shipment.pk)

    def page(self, form):
        shipment = self.shipment
        context = {
            "shipment": shipment,
            "order": shipment.order,
            "scans": shipment.tracking_events.all(),
            "can_scan": shipment.status
            in (shipment.Status.SHIPPED, shipment.Status.DELIVERED),
            "form": form,
        }
        return render(self.request, self.template_name, context)
