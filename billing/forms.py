"""Console forms for recording money received."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.cod import cod_amount_left
from billing.models import Payment

AMOUNT = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0.01")}


class PaymentConfirmForm(forms.Form):
    """Money a prepaid order's customer paid, as finance sees it arrive."""

    method = forms.ChoiceField(
        label=_("Method"),
        # Cash on delivery is recorded as a collection, marketplace money by import.
        choices=[
            (value, label)
            for value, label in Payment.Method.choices
            if value not in (Payment.Method.COD, Payment.Method.MARKETPLACE)
        ],
    )
    amount = forms.DecimalField(label=_("Amount (¥)"), **AMOUNT)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("Transaction number from Alipay, WeChat Pay or the bank."),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    @classmethod
    def for_order(cls, order, **kwargs):
        return cls(initial={"amount": order.total}, **kwargs)


class CodCollectionForm(forms.Form):
    """Cash the courier collected when the parcel was delivered."""

    amount = forms.DecimalField(label=_("Amount collected (¥)"), **AMOUNT)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    @classmethod
    def for_order(cls, order, **kwargs):
        # What the parcels not yet recorded carry (a split order's scans may have
        # recorded some already).
        return cls(initial={"amount": cod_amount_left(order)}, **kwargs)


class RefundRejectForm(forms.Form):
    note = forms.CharField(label=_("Why not"), max_length=300)


class RefundPaidForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        help_text=_("Transaction number of the money sent back."),
    )


class RefundRequestForm(forms.Form):
    """A goodwill refund staff ask finance to pay (a late parcel, a small fault)."""

    amount = forms.DecimalField(label=_("Amount (¥)"), **AMOUNT)
    reason = forms.CharField(label=_("Reason"), max_length=300)
