"""Console forms for waves, short picks and the pack station's box."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fulfillment.models import ShortPick
from fulfillment.picking_selectors import box_presets_active
from fulfillment.selectors import carriers_active
from inventory.models import Warehouse
from inventory.selectors import product_by_code


class WaveForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=Warehouse.objects.filter(active=True)
    )
    carrier = forms.ModelChoiceField(
        label=_("Carrier"),
        queryset=carriers_active(),
        required=False,
        empty_label=_("Any carrier"),
        help_text=_("Only parcels already given this carrier."),
    )
    ship_by = forms.DateField(
        label=_("Ship by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only orders due to ship by the end of this day."),
    )
    single_first = forms.BooleanField(
        label=_("Single-item orders first"), required=False, initial=True
    )
    limit = forms.IntegerField(
        label=_("Orders at most"), min_value=1, max_value=200, initial=30
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = carriers_active()

    def ship_by_until(self):
        """The end of the chosen day in the shop's time zone, or None."""
        day = self.cleaned_data.get("ship_by")
        if day is None:
            return None
        start = timezone.make_aware(datetime.combine(day, time.min))
        return start + timedelta(days=1)


class ShortPickForm(forms.Form):
    code = forms.CharField(
        label=_("SKU or barcode"), max_length=64, help_text=_("Scan or type it.")
    )
    quantity = forms.IntegerField(label=_("Units short"), min_value=1)
    reason = forms.ChoiceField(label=_("Reason"), choices=ShortPick.Reason.choices)

    def clean_code(self):
        product = product_by_code(self.cleaned_data["code"])
        if product is None:
            raise forms.ValidationError(_("No product has this SKU or barcode."))
        return product


class PackBoxForm(forms.Form):
    box_preset = forms.ModelChoiceField(
        label=_("Box"),
        queryset=box_presets_active(),
        required=False,
        empty_label=_("Measure by hand"),
    )
    length_cm = forms.CharField(label=_("Length (cm)"), required=False)
    width_cm = forms.CharField(label=_("Width (cm)"), required=False)
    height_cm = forms.CharField(label=_("Height (cm)"), required=False)
    weight_kg = forms.CharField(
        label=_("Weight (kg)"),
        required=False,
        help_text=_("From the scale; empty: the items' catalogue weight plus the box."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["box_preset"].queryset = box_presets_active()


class BinLocationForm(forms.Form):
    code = forms.CharField(label=_("Bin location"), max_length=32, required=False)
