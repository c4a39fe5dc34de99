"""Console forms for handing parcels to carriers."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from fulfillment.selectors import carriers_active
from fulfillment.services import demo_tracking_number

# The demo carrier makes up its own numbers, so staff may leave the field empty.
DEMO_CARRIER = "demo"


class ShipmentShipForm(forms.Form):
    carrier = forms.ModelChoiceField(
        label=_("Carrier"), queryset=carriers_active(), empty_label=None
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=40,
        required=False,
        help_text=_("Leave empty with the demo carrier to get a number made up."),
    )
    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"),
        max_digits=8,
        decimal_places=3,
        min_value=Decimal("0"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = carriers_active()

    def clean(self):
        cleaned = super().clean()
        carrier = cleaned.get("carrier")
        number = (cleaned.get("tracking_number") or "").strip()
        if carrier is not None and not number:
            if carrier.code != DEMO_CARRIER:
                self.add_error("tracking_number", _("Enter the tracking number."))
            else:
                cleaned["tracking_number"] = demo_tracking_number()
        return cleaned
