"""Console forms for COD remittances, their differences, and marketplace settlements."""

from decimal import InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.cod import MAX_UPLOAD_BYTES, cell, parse_amount
from billing.cod_models import CodDifference
from fulfillment.models import Carrier
from orders.models import Channel
from orders.uploads import upload_kind_check


def csv_upload_clean(upload):
    """Refuse a file that is huge or not CSV, with a message saying so."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(
            _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES >> 20}
        )
    if not upload.name.lower().endswith((".csv", ".txt")):
        raise forms.ValidationError(
            _("This is not a CSV file; save it as CSV and try again.")
        )
    return upload_kind_check(upload)


class RemittanceHeadForm(forms.Form):
    carrier = forms.ModelChoiceField(
        label=_("Carrier"), queryset=Carrier.objects.filter(supports_cod=True)
    )
    reference = forms.CharField(label=_("Remittance reference"), max_length=64)
    remitted_on = forms.DateField(
        label=_("Remitted on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class RemittanceImportForm(RemittanceHeadForm):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns 运单号 (tracking number) and 金额 (amount), or those two without"
            " a header; UTF-8 or GBK."
        ),
    )

    def clean_file(self):
        return csv_upload_clean(self.cleaned_data["file"])


class RemittanceManualForm(RemittanceHeadForm):
    rows = forms.CharField(
        label=_("Parcels"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "One parcel a line: tracking number and amount, e.g. SF1234567890123 128.00"
        ),
    )

    def clean_rows(self):
        rows, errors = [], []
        for number, text in enumerate(self.cleaned_data["rows"].splitlines(), 1):
            parts = text.replace(",", " ").replace("\t", " ").split()
            if not parts:
                continue
            try:
                if len(parts) != 2:
                    raise ValueError
                amount = parse_amount(parts[1])
                if amount <= 0:
                    raise ValueError
            except (ValueError, InvalidOperation):
                errors.append(
                    _("Line %(n)d: give a tracking number and an amount.")
                    % {"n": number}
                )
                continue
            rows.append((number, cell(parts[0]), amount))
        if errors:
            raise forms.ValidationError(errors)
        if not rows:
            raise forms.ValidationError(_("Enter at least one parcel."))
        return rows


class DifferenceFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("open", _("Open")),
            ("resolved", _("Resolved")),
            ("all", _("All")),
        ],
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Every kind")), *CodDifference.Kind.choices],
    )


class DifferenceResolveForm(forms.Form):
    note = forms.CharField(label=_("How it was resolved"), max_length=300)


class SettlementImportForm(forms.Form):
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.filter(kind=Channel.Kind.MARKETPLACE),
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "The platform's settlement: 订单编号, 实收金额, 佣金 (fee), 结算时间; UTF-8 or GBK."
        ),
    )

    def clean_file(self):
        return csv_upload_clean(self.cleaned_data["file"])
