"""The upload form of the console's marketplace import screen."""

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import Channel
from orders.uploads import upload_kind_check

# Largest export accepted from the browser; bigger files go through the command.
MAX_UPLOAD_BYTES = 200 << 20


class ImportUploadForm(forms.Form):
    channel = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Channel.objects.filter(
            kind=Channel.Kind.MARKETPLACE, active=True
        ).order_by("name"),
        empty_label=None,
    )
    platform = forms.ChoiceField(
        label=_("Export format"),
        required=False,
        choices=[
            ("", _("Recognise from the headers")),
            ("taobao", _("Taobao / Tmall 订单报表")),
            ("jd", _("JD")),
            ("pinduoduo", _("Pinduoduo")),
        ],
    )
    file = forms.FileField(
        label=_("Order export"),
        help_text=_("CSV or XLSX, UTF-8 or GBK, as the platform exports it."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )
    items_file = forms.FileField(
        label=_("Taobao 宝贝报表 (optional)"),
        required=False,
        help_text=_(
            "With it, every item of a Taobao order is imported; without it, only "
            "orders of one kind of item."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )

    def clean(self):
        data = super().clean()
        for name in ("file", "items_file"):
            upload = data.get(name)
            if upload and upload.size > MAX_UPLOAD_BYTES:
                self.add_error(
                    name,
                    _("The file is larger than %(mb)d MB; import it with the command.")
                    % {"mb": MAX_UPLOAD_BYTES >> 20},
                )
            elif upload:
                try:
                    upload_kind_check(upload, spreadsheet=True)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        return data
