"""Console forms for handing parcels to carriers."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from fulfillment.carriers import (
    carrier_choose,
    tracking_number_error,
    tracking_number_normalise,
)
from fulfillment.selectors import carriers_active
from fulfillment.services import demo_tracking_number
from orders.uploads import upload_kind_check

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

    def __init__(self, *args, shipment=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.shipment = shipment
        self.fields["carrier"].queryset = carriers_active()

    @classmethod
    def for_shipment(cls, shipment):
        """Return the form with the parcel's carrier (or the rules' pick) and number."""
        carrier = shipment.carrier or carrier_choose(shipment.order).carrier
        return cls(
            shipment=shipment,
            initial={
                "carrier": carrier.pk if carrier else None,
                "tracking_number": shipment.tracking_number,
                "weight_kg": shipment.weight_kg or None,
            },
        )

    def clean(self):
        cleaned = super().clean()
        carrier = cleaned.get("carrier")
        number = tracking_number_normalise(cleaned.get("tracking_number") or "")
        if carrier is None:
            return cleaned
        if (
            not number
            and self.shipment is not None
            and self.shipment.carrier_id == carrier.pk
        ):
            number = self.shipment.tracking_number  # given before the label printed
        if not number:
            if carrier.code != DEMO_CARRIER:
                self.add_error("tracking_number", _("Enter the tracking number."))
                return cleaned
            number = demo_tracking_number()
        error = tracking_number_error(carrier=carrier, number=number)
        if error:
            self.add_error("tracking_number", error)
        cleaned["tracking_number"] = number
        return cleaned


class OrderCarrierForm(forms.Form):
    """Staff override the carrier selection rules for one order."""

    carrier = forms.ModelChoiceField(
        label=_("Carrier"),
        queryset=carriers_active(),
        required=False,
        empty_label=_("Let the rules choose"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = carriers_active()

    @classmethod
    def for_order(cls, order):
        """Return the form with the order's carrier and, as help, what the rules pick."""
        form = cls(
            initial={
                "carrier": order.carrier_id
                if order.carrier_chosen_by == order.CarrierChoice.STAFF
                else None
            }
        )
        choice = carrier_choose(order)
        if choice.carrier is not None:
            form.fields["carrier"].help_text = _("Now: %(carrier)s (%(reason)s).") % {
                "carrier": choice.carrier.name,
                "reason": choice.reason,
            }
        else:
            form.fields["carrier"].help_text = choice.reason
        if choice.passed_over:
            form.fields["carrier"].help_text += " " + " ".join(choice.passed_over)
        return form


class TrackingUploadForm(forms.Form):
    """批量发货: a CSV of order number, carrier, tracking number."""

    MAX_BYTES = 2 * 1024 * 1024

    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Three columns: order number, carrier (code or name, e.g. sf or 顺丰),"
            " tracking number. A header row is allowed. UTF-8 or Excel's GBK."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB; split it."))
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError(_("Upload a .csv file."))
        return upload_kind_check(upload)
