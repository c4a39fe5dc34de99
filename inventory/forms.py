"""Console forms for stock: list filters, goods-in, stocktake, CSV import."""

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.models import Warehouse
from inventory.selectors import product_by_code


def _warehouses():
    return Warehouse.objects.filter(active=True).order_by("priority", "code")


class StockFilterForm(forms.Form):
    """The stock list's filters, sent as GET parameters."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("SKU, name or barcode")}),
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        required=False,
        queryset=Warehouse.objects.order_by("priority", "code"),
        empty_label=_("All warehouses"),
    )
    low_only = forms.BooleanField(label=_("Low stock only"), required=False)

    def filters(self) -> dict:
        """Return the valid filters as arguments for ``replenishment_rows``."""
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value}


class GoodsInForm(forms.Form):
    """Units arriving at a warehouse: scan or type the SKU or barcode."""

    code = forms.CharField(
        label=_("SKU or barcode"),
        max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
        help_text=_("A scanner types the barcode and presses Enter."),
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100000)
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=_warehouses(), empty_label=None
    )
    reference = forms.CharField(
        label=_("Supplier or delivery note"), max_length=100, required=False
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def clean_code(self):
        product = product_by_code(self.cleaned_data["code"])
        if product is None:
            raise forms.ValidationError(_("No product has this SKU or barcode."))
        self.cleaned_data["product"] = product
        return self.cleaned_data["code"]


class WarehousePickForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=_warehouses(), empty_label=None
    )


class StocktakeForm(forms.Form):
    """One optional count per product on the sheet; empty means not counted."""

    reference = forms.CharField(
        label=_("Count sheet or note"), max_length=100, required=False
    )

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = products
        for product in products:
            self.fields[f"count_{product.pk}"] = forms.IntegerField(
                label=product.sku,
                min_value=0,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )

    def rows(self):
        """Return (product, bound count field) pairs for the sheet."""
        return [(p, self[f"count_{p.pk}"]) for p in self.products]

    def counts(self) -> dict[int, int]:
        """Return the counted units per product id, leaving out products not counted."""
        return {
            p.pk: self.cleaned_data[f"count_{p.pk}"]
            for p in self.products
            if self.cleaned_data.get(f"count_{p.pk}") is not None
        }

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.counts():
            raise forms.ValidationError(_("Enter at least one counted quantity."))
        return cleaned


class StockImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: sku, warehouse (code), counted. An edited stock export "
            "works too (its on_hand column is taken as counted)."
        ),
    )
    reference = forms.CharField(label=_("Note"), max_length=100, required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload
