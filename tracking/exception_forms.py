"""Forms of the exceptions queue and the transit-standard screen."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from fulfillment.models import Carrier
from tracking.models import CarrierClaim, ParcelException
from tracking.parcel_exceptions import CONTACT_CHANNELS

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0.01")}


class ExceptionFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("Tracking number, order number or name")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All"))] + ParcelException.Status.choices,
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All"))] + ParcelException.Kind.choices,
    )
    carrier = forms.ModelChoiceField(
        label=_("Carrier"),
        required=False,
        queryset=Carrier.objects.order_by("name"),
        empty_label=_("All"),
    )


class ExceptionNoteForm(forms.Form):
    contact = forms.ChoiceField(
        label=_("Kind of record"),
        required=False,
        choices=list(CONTACT_CHANNELS.items()),
    )
    text = forms.CharField(
        label=_("Note"), max_length=400, widget=forms.Textarea(attrs={"rows": 3})
    )


class ClaimForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount claimed"), **MONEY)
    evidence = forms.CharField(
        label=_("Evidence"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was in the parcel, its value, photos or documents sent."),
    )
    reference = forms.CharField(
        label=_("Carrier's claim number"), max_length=60, required=False
    )


class ClaimUpdateForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            c for c in CarrierClaim.Status.choices if c[0] != CarrierClaim.Status.FILED
        ],
    )
    settlement_amount = forms.DecimalField(
        label=_("Settlement amount"),
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
    )
    reference = forms.CharField(
        label=_("Carrier's claim number"), max_length=60, required=False
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("status") == CarrierClaim.Status.SETTLED
            and data.get("settlement_amount") is None
        ):
            self.add_error(
                "settlement_amount", _("Enter what the carrier paid to settle.")
            )
        return data


class RefundForm(forms.Form):
    amount = forms.DecimalField(label=_("Refund amount"), **MONEY)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class CloseForm(forms.Form):
    resolution = forms.CharField(
        label=_("Resolution"),
        max_length=300,
        help_text=_("How it ended: delivered late, replaced, refunded, claim settled…"),
    )


class TransitStandardForm(forms.Form):
    carrier = forms.ModelChoiceField(
        label=_("Carrier"), queryset=Carrier.objects.order_by("name")
    )
    origin_province = forms.CharField(
        label=_("From province"),
        max_length=32,
        required=False,
        help_text=_("The shipping warehouse's province; empty for any."),
    )
    destination_province = forms.CharField(
        label=_("To province"),
        max_length=32,
        required=False,
        help_text=_("The customer's province; empty for any."),
    )
    hours = forms.IntegerField(
        label=_("Hours in transit"), min_value=1, max_value=24 * 60
    )
