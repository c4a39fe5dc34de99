"""Forms for returns: the customer's request, staff's request, decisions, inspection."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from fulfillment.return_models import ReturnRequest
from inventory.models import Product, Warehouse

STATUS_OPEN = "open"


class ReturnFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("Return or order number, phone"), "type": "search"}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), (STATUS_OPEN, _("Open"))]
        + list(ReturnRequest.Status.choices),
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        choices=[("", _("All"))] + list(ReturnRequest.Reason.choices),
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        required=False,
        queryset=Warehouse.objects.none(),
        empty_label=_("All"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.order_by("name")


class ReturnRequestForm(forms.Form):
    """Which shipped items come back, how many, and why; one quantity field per line.

    ``returnable`` maps order line ids to the units that may still come back; only
    those lines get a field. Staff (``exchange_other_sku``) may also pick another
    SKU to send in exchange.
    """

    reason = forms.ChoiceField(label=_("Reason"), choices=ReturnRequest.Reason.choices)
    resolution = forms.ChoiceField(
        label=_("What would you like"),
        choices=ReturnRequest.Resolution.choices,
        initial=ReturnRequest.Resolution.REFUND,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label=_("Tell us more"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, order, returnable, exchange_other_sku=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.line_fields = []
        for line in order.lines.all():
            most = returnable.get(line.pk, 0)
            if not most:
                continue
            name = f"qty_{line.pk}"
            self.fields[name] = forms.IntegerField(
                label=f"{line.name} ({line.sku})",
                min_value=0,
                max_value=most,
                initial=0,
                help_text=_("Up to %(most)d") % {"most": most},
            )
            replace = None
            if exchange_other_sku:
                replace = f"replace_{line.pk}"
                self.fields[replace] = forms.ModelChoiceField(
                    label=_("Exchange for (another SKU)"),
                    queryset=Product.objects.filter(active=True).order_by("sku"),
                    required=False,
                    empty_label=_("The same item"),
                )
            self.line_fields.append((line, name, replace))

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(name) for _line, name, _r in self.line_fields):
            raise forms.ValidationError(_("Choose at least one item to return."))
        return cleaned

    def rows(self):
        """Yield (order line, quantity field, replacement field or None) for the template."""
        for line, name, replace in self.line_fields:
            yield line, self[name], self[replace] if replace else None

    def lines(self):
        """Return the service's ``lines``: (order line, quantity[, replacement])."""
        chosen = []
        for line, name, replace in self.line_fields:
            quantity = self.cleaned_data.get(name) or 0
            if not quantity:
                continue
            other = self.cleaned_data.get(replace) if replace else None
            chosen.append((line, quantity, other) if other else (line, quantity))
        return chosen


class ReturnRejectForm(forms.Form):
    note = forms.CharField(label=_("Why not"), max_length=300)


class ReturnInspectForm(forms.Form):
    restock = forms.IntegerField(label=_("Restock"), min_value=0, initial=0)
    write_off = forms.IntegerField(label=_("Write off"), min_value=0, initial=0)
    note = forms.CharField(label=_("Condition"), max_length=300, required=False)

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not (cleaned.get("restock") or 0) + (
            cleaned.get("write_off") or 0
        ):
            raise forms.ValidationError(
                _("Enter how many units are restocked or written off.")
            )
        return cleaned


class ReturnCompleteForm(forms.Form):
    shipping_refund = forms.DecimalField(
        label=_("Also refund shipping (¥)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        initial=Decimal("0"),
        help_text=_("For a wrong or damaged item, the shipping the customer paid."),
    )
