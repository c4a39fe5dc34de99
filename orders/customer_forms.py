"""Forms of the customer pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import Customer


class CustomerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"placeholder": _("Name, phone, last 4 digits or email")}
        ),
    )

    def query(self) -> str:
        return self.cleaned_data["q"] if self.is_valid() else ""


class CustomerContactForm(forms.Form):
    """Name, phone and email; the service normalises the phone and checks it is free."""

    name = forms.CharField(label=_("Name"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    email = forms.EmailField(label=_("Email"), required=False)

    @classmethod
    def for_customer(cls, customer: Customer):
        return cls(
            initial={
                "name": customer.name,
                "phone": customer.phone,
                "email": customer.email,
            }
        )


class CustomerNoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CustomerMergeForm(forms.Form):
    merge = forms.ModelChoiceField(
        label=_("Customer to merge into this one"),
        queryset=Customer.objects.all(),
        widget=forms.HiddenInput,
    )
