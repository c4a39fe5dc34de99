from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.analytics import Period
from orders.models import Channel

DEFAULT_DAYS = 30
LONGEST_DAYS = 366


class AnalyticsFilterForm(forms.Form):
    """Every analytics page's filters: shop days from–to (both included) and a channel."""

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        required=False,
        queryset=Channel.objects.order_by("name"),
        to_field_name="code",
        empty_label=_("All channels"),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        if start and end and (end - start).days >= LONGEST_DAYS:
            raise forms.ValidationError(
                _("Choose at most %(days)d days.") % {"days": LONGEST_DAYS}
            )
        return data

    def period(self) -> Period:
        """Return the chosen period; the last DEFAULT_DAYS shop days when none (or wrong)."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        date_to = data.get("date_to") or today
        date_from = data.get("date_from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
        return Period(date_from, date_to, data.get("channel"))
