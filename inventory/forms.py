"""Console forms for stock: list filters, goods-in, adjustments, returns, stocktake,
CSV import, replenishment figures."""

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.models import StockLevel, Warehouse
from inventory.selectors import order_for_return, product_by_code
from orders.uploads import upload_kind_check


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
        return upload_kind_check(upload)


class _ProductCodeMixin:
    def clean_code(self):
        product = product_by_code(self.cleaned_data["code"])
        if product is None:
            raise forms.ValidationError(_("No product has this SKU or barcode."))
        self.cleaned_data["product"] = product
        return self.cleaned_data["code"]


class StockAdjustForm(_ProductCodeMixin, forms.Form):
    """A correction of units on hand outside goods-in and stocktake, always with a reason."""

    REASONS = [
        ("damaged", _("Damaged")),
        ("lost", _("Lost or stolen")),
        ("found", _("Found")),
        ("expired", _("Expired")),
        ("sample", _("Used as a sample or gift")),
        ("other", _("Other")),
    ]

    code = forms.CharField(
        label=_("SKU or barcode"),
        max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=_warehouses(), empty_label=None
    )
    delta = forms.IntegerField(
        label=_("Change in units"),
        min_value=-100000,
        max_value=100000,
        help_text=_("Positive adds units, negative takes them out (e.g. -2)."),
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=REASONS)
    note = forms.CharField(
        label=_("Details"),
        max_length=150,
        required=False,
        help_text=_("Required for “Other”."),
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)

    def clean_delta(self):
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError(
                _("An adjustment must change the stock by at least one unit.")
            )
        return delta

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == "other" and not cleaned.get("note", "").strip():
            self.add_error("note", _("Say why the stock is adjusted."))
        return cleaned

    def reason_text(self) -> str:
        """Return the reason as stored on the movement: the choice, then the details."""
        label = str(dict(self.REASONS)[self.cleaned_data["reason"]])
        note = self.cleaned_data["note"].strip()
        return f"{label}: {note}" if note else label


class StockReturnForm(_ProductCodeMixin, forms.Form):
    """Goods a customer sent back, put on hand again (restocked)."""

    order_number = forms.CharField(
        label=_("Order number"),
        max_length=20,
        required=False,
        help_text=_("The order the goods came from, when known."),
    )
    code = forms.CharField(
        label=_("SKU or barcode"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100000)
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=_warehouses(), empty_label=None
    )
    reference = forms.CharField(
        label=_("Return number"), max_length=100, required=False
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def clean_order_number(self):
        number = self.cleaned_data["order_number"].strip()
        if not number:
            self.cleaned_data["order"] = None
            return ""
        order = order_for_return(number)
        if order is None:
            raise forms.ValidationError(_("No order has this number."))
        self.cleaned_data["order"] = order
        return number


class StockLevelPlanForm(forms.Form):
    """The replenishment figures of one SKU in one warehouse; empty means calculated or the product's."""

    reorder_point = forms.IntegerField(
        label=_("Reorder point"),
        min_value=0,
        max_value=10**6,
        required=False,
        help_text=_("Empty: sales per day × lead time + safety stock."),
    )
    safety_stock = forms.IntegerField(
        label=_("Safety stock"), min_value=0, max_value=10**6, required=False
    )
    lead_time_days = forms.IntegerField(
        label=_("Supplier lead time (days)"),
        min_value=0,
        max_value=365,
        required=False,
    )

    def __init__(self, *args, level, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "reorder_point": level.reorder_point,
                "safety_stock": level.safety_stock,
                "lead_time_days": level.lead_time_days,
            },
        )
        super().__init__(*args, **kwargs)
        product = level.product
        self.fields["safety_stock"].help_text = _("Empty: the product's %(units)d.") % {
            "units": product.safety_stock
        }
        self.fields["lead_time_days"].help_text = _(
            "Empty: the product's %(days)d days."
        ) % {"days": product.lead_time_days}
        self.fields["safety_stock"].widget.attrs["placeholder"] = product.safety_stock
        self.fields["lead_time_days"].widget.attrs["placeholder"] = (
            product.lead_time_days
        )


class BinLocationForm(forms.Form):
    """Where a stock level's product sits in its warehouse; empty clears it."""

    level = forms.ModelChoiceField(
        queryset=StockLevel.objects.select_related("product", "warehouse"),
        widget=forms.HiddenInput,
    )
    code = forms.CharField(label=_("Bin location"), max_length=32, required=False)
