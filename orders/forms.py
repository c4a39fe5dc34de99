"""Console forms for orders: the list filters, the order actions, phone order entry."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from inventory.models import Product, Warehouse
from orders.addresses import address_parse
from orders.login_throttle import (
    login_failure_record,
    login_failures_clear,
    login_locked,
)
from orders.models import Channel, Order, OrderLine
from orders.phones import phone_is_valid
from orders.selectors import product_for_code
from orders.services import LineInput, OrderInput


class ConsoleLoginForm(AuthenticationForm):
    """The console sign-in, refused unchecked after too many failures (see login_throttle)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _(
            "Too many failed sign-in attempts for this username. "
            "Try again in %(minutes)d minutes."
        ),
    }

    def clean(self):
        attempt = {
            "username": self.cleaned_data.get("username") or "",
            # REMOTE_ADDR only: X-Forwarded-For is whatever the client wants it to be.
            "address": self.request.META.get("REMOTE_ADDR", "") if self.request else "",
        }
        if login_locked(**attempt):
            raise ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": -(-settings.LOGIN_FAIL_WINDOW_SECONDS // 60)},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            login_failure_record(**attempt)
            raise
        login_failures_clear(**attempt)
        return cleaned


class AdminLoginForm(ConsoleLoginForm, AdminAuthenticationForm):
    """The admin's sign-in, throttled like the console's so it is no way around the limit."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked": ConsoleLoginForm.error_messages["locked"],
    }


class OrderFilterForm(forms.Form):
    """The order list's filters, sent as GET parameters."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.SearchInput(
            attrs={"placeholder": _("Order number, name, phone or last 4 digits")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *Order.Status.choices],
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        required=False,
        queryset=Channel.objects.order_by("name"),
        empty_label=_("All channels"),
    )
    payment_status = forms.ChoiceField(
        label=_("Payment"),
        required=False,
        choices=[("", _("Any payment")), *Order.PaymentStatus.choices],
    )
    date_from = forms.DateField(
        label=_("Placed from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=_("Placed until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    waiting = forms.ChoiceField(
        label=_("Follow-up"),
        required=False,
        choices=[("", _("Any")), ("call", _("Call the customer"))],
    )

    def filters(self) -> dict:
        """Return the valid filters as arguments for ``orders.selectors.order_list``."""
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value}


def address_line_split(text: str) -> dict:
    """Return the address parts (order field names) found in a one-line address.

    A postal code is only returned when the line has one.
    """
    parsed = address_parse(text)
    parts = {
        "province": parsed.province,
        "city": parsed.city,
        "district": parsed.district,
        "address_detail": parsed.detail,
    }
    if parsed.postal_code:
        parts["postal_code"] = parsed.postal_code
    return parts


class AddressFields(forms.Form):
    """The address parts, or one pasted line that is split into them on the server."""

    # The order's fields; ``address_line`` is only a way to fill them.
    PARTS = ("province", "city", "district", "address_detail", "postal_code")

    address_line = forms.CharField(
        label=_("Full address"),
        max_length=300,
        required=False,
        help_text=_(
            "Paste the whole address on one line; it replaces the fields below."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    province = forms.CharField(label=_("Province"), max_length=32, required=False)
    city = forms.CharField(label=_("City"), max_length=32, required=False)
    district = forms.CharField(label=_("District"), max_length=32, required=False)
    address_detail = forms.CharField(
        label=_("Street address"), max_length=200, required=False
    )
    postal_code = forms.CharField(label=_("Postal code"), max_length=6, required=False)

    def clean(self):
        data = super().clean()
        # The pasted line is the whole address: its parts replace the typed ones
        # (the postal code only when the line has one). It is then dropped, so
        # callers see the parts alone.
        line = (data.pop("address_line", "") or "").strip()
        if line:
            for name, value in address_line_split(line).items():
                if len(value) > self.fields[name].max_length:
                    self.add_error(
                        "address_line",
                        _("The %(part)s is too long; please check the address.")
                        % {"part": self.fields[name].label},
                    )
                data[name] = value
        return data

    def address(self) -> dict:
        """Return the cleaned address parts by order field name."""
        return {name: self.cleaned_data[name] for name in self.PARTS}


class OrderCorrectForm(AddressFields):
    """Recipient and address as corrected by staff; checked again by the order service."""

    field_order = ["recipient_name", "recipient_phone"]

    recipient_name = forms.CharField(label=_("Recipient"), max_length=100)
    recipient_phone = forms.CharField(label=_("Recipient phone"), max_length=20)

    @classmethod
    def for_order(cls, order: Order, **kwargs):
        fields = ("recipient_name", "recipient_phone", *AddressFields.PARTS)
        return cls(initial={name: getattr(order, name) for name in fields}, **kwargs)


class OrderCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("Why is it cancelled?")}),
    )


class OrderNoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class PhoneOrderForm(AddressFields):
    """The customer, address and payment of an order taken on the phone."""

    field_order = ["customer_name", "phone", "email"]

    customer_name = forms.CharField(
        label=_("Customer name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    payment_method = forms.ChoiceField(
        label=_("Payment"),
        choices=Order.PaymentMethod.choices,
        initial=Order.PaymentMethod.PREPAID,
        widget=forms.RadioSelect,
    )
    shipping_fee = forms.DecimalField(
        label=_("Shipping fee (¥)"),
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        initial=Decimal("0.00"),
    )
    buyer_note = forms.CharField(
        label=_("Buyer note"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        if not phone_is_valid(phone):
            raise forms.ValidationError(
                _("Enter a valid phone number, such as 13800138000.")
            )
        return phone

    def order_input(self, *, channel: Channel, lines) -> OrderInput:
        """Return the service input for this form and its valid line formset."""
        data = self.cleaned_data
        return OrderInput(
            channel=channel,
            customer_name=data["customer_name"],
            customer_phone=data["phone"],
            customer_email=data["email"],
            lines=[
                LineInput(line["product"], line["quantity"])
                for line in lines.cleaned_data
                if line
            ],
            payment_method=data["payment_method"],
            address=self.address(),
            buyer_note=data["buyer_note"],
            shipping_fee=data["shipping_fee"],
        )


class OrderLineForm(forms.Form):
    """One line of a phone order: a product by SKU or barcode, and how many."""

    code = forms.CharField(
        label=_("SKU or barcode"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"list": "products", "autocomplete": "off", "class": "code"}
        ),
    )
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        initial=1,
        widget=forms.NumberInput(attrs={"class": "qty"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        most = settings.ORDER_LINE_MAX_QUANTITY
        self.fields["quantity"].validators.append(MaxValueValidator(most))
        self.fields["quantity"].widget.attrs["max"] = most

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        product = product_for_code(code)
        if product is None:
            raise forms.ValidationError(
                _("No product on sale has SKU or barcode “%(code)s”."),
                code="unknown_sku",
                params={"code": code},
            )
        self.cleaned_data["product"] = product
        return code

    def has_changed(self):
        # A row is filled in when it names a product; a quantity alone is the default.
        return bool(self.data.get(self.add_prefix("code"), "").strip())


class BaseOrderLineFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not any(form.cleaned_data for form in self.forms):
            raise forms.ValidationError(_("Add at least one product."), code="no_lines")


OrderLineFormSet = forms.formset_factory(
    OrderLineForm, formset=BaseOrderLineFormSet, extra=5, max_num=50
)


def form_errors_text(form) -> str:
    """Return a form's errors as one line for a message."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        text = " ".join(str(error) for error in errors)
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts)


class OrderReallocateForm(forms.Form):
    """Another warehouse for the order's reserved stock, or for one product of it."""

    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=Warehouse.objects.filter(active=True)
    )
    product = forms.ModelChoiceField(
        label=_("Only this product"),
        queryset=Product.objects.all(),
        required=False,
        empty_label=_("All products"),
    )

    @classmethod
    def for_order(cls, order):
        form = cls()
        form.fields["product"].queryset = Product.objects.filter(
            pk__in=order.reservations.values("product_id")
        )
        return form


class BackorderSubstituteForm(forms.Form):
    """A product in stock to put on a short line, and its price if it changes."""

    line = forms.ModelChoiceField(label=_("Line"), queryset=OrderLine.objects.all())
    sku = forms.CharField(label=_("Replace with SKU or barcode"), max_length=64)
    unit_price = forms.DecimalField(
        label=_("New unit price (empty: keep the price)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
    )

    @classmethod
    def for_order(cls, order):
        form = cls()
        form.fields["line"].queryset = order.lines.all()
        return form

    def clean_sku(self):
        product = product_for_code(self.cleaned_data["sku"])
        if product is None:
            raise forms.ValidationError(
                _("No product on sale has this SKU or barcode."), code="unknown_sku"
            )
        return product
