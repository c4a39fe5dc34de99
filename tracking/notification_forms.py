from django import forms
from django.utils.translation import gettext_lazy as _


class NotificationTemplateForm(forms.Form):
    subject = forms.CharField(
        label=_("Subject (email and app push)"), max_length=200, required=False
    )
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=2000,
        error_messages={"required": _("Write the message.")},
    )
    sms_template_code = forms.CharField(
        label=_("Aliyun template code"),
        max_length=40,
        required=False,
        help_text=_(
            "SMS through Aliyun only: the code (SMS_…) of the template Aliyun approved "
            "for this text; its variables are the placeholders used here."
        ),
    )


class NotificationChoicesForm(forms.Form):
    email = forms.BooleanField(label=_("Email"), required=False)
    sms = forms.BooleanField(label=_("SMS"), required=False)
    push = forms.BooleanField(label=_("App notifications"), required=False)

    @classmethod
    def for_customer(cls, customer, **kwargs):
        return cls(
            initial={
                "email": customer.notify_email,
                "sms": customer.notify_sms,
                "push": customer.notify_push,
            },
            **kwargs,
        )
