from django import forms
from django.utils.translation import gettext_lazy as _

from tracking.webhook_models import WebhookEvent


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where the other system receives events (https:// recommended)."),
    )
    description = forms.CharField(
        label=_("Description"), max_length=200, required=False
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @classmethod
    def for_endpoint(cls, endpoint, **kwargs):
        return cls(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "event_types": endpoint.event_types,
                "active": endpoint.active,
            },
            **kwargs,
        )
