"""Forms of the customer's status page (lookup, self-correction) and the staff scan page."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.forms import OrderCorrectForm
from tracking.models import TrackingStatus

# Clocks of phones and scanners drift; a scan a few minutes ahead is still taken.
FUTURE_TOLERANCE = timedelta(minutes=10)


class TrackLookupForm(forms.Form):
    number = forms.CharField(
        label=_("Order number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=20,
        help_text=_("The full number, or only its last 4 digits."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def clean_number(self):
        return self.cleaned_data["number"].strip()


# What the customer's browser and phone keyboard may fill in for each field.
CUSTOMER_WIDGET_ATTRS = {
    "recipient_name": {"autocomplete": "shipping name"},
    "recipient_phone": {"autocomplete": "shipping tel", "inputmode": "tel"},
    "address_line": {"autocomplete": "off"},
    "province": {"autocomplete": "shipping address-level1"},
    "city": {"autocomplete": "shipping address-level2"},
    "district": {"autocomplete": "shipping address-level3"},
    "address_detail": {"autocomplete": "shipping street-address"},
    "postal_code": {"autocomplete": "shipping postal-code", "inputmode": "numeric"},
}


class CustomerCorrectForm(OrderCorrectForm):
    """The console's correction form as the customer fills it in on the status page.

    ``problems`` (field name → messages) marks the fields the order is held for.
    """

    def __init__(self, *args, problems=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.problems = problems or {}
        for name, field in self.fields.items():
            field.widget.attrs.update(CUSTOMER_WIDGET_ATTRS.get(name, {}))
            if name in self.problems:
                field.widget.attrs["aria-invalid"] = "true"
                field.widget.attrs["aria-describedby"] = f"problem-{name}"

    def rows(self):
        """Return each field with the problem messages shown beside it."""
        return [(self[name], self.problems.get(name, [])) for name in self.fields]


class ScanForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=TrackingStatus.choices,
        initial=TrackingStatus.IN_TRANSIT,
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=300,
        help_text=_("What the customer reads, e.g. “Arrived at Hangzhou hub”."),
    )
    location = forms.CharField(label=_("Location"), max_length=100, required=False)
    occurred_at = forms.DateTimeField(
        label=_("Time"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        now = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["occurred_at"].initial = now

    def clean_occurred_at(self):
        occurred_at = self.cleaned_data["occurred_at"]
        if occurred_at > timezone.now() + FUTURE_TOLERANCE:
            raise forms.ValidationError(_("The time cannot be in the future."))
        return occurred_at
