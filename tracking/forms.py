"""Forms of the customer's status lookup and the staff scan page."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
