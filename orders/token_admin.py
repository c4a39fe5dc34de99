"""Staff API keys in the admin: issued through the service, shown once, revoked by an action."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.staff_tokens import (
    API_SCOPES,
    StaffTokenError,
    staff_token_check,
    staff_token_issue,
    staff_token_revoke,
)
from orders.token_models import StaffToken


class StaffTokenAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("scopes"),
        choices=list(API_SCOPES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "None ticked: everything the API offers, as far as the user may."
        ),
    )

    class Meta:
        model = StaffToken
        fields = ("user", "name", "scopes", "expires_at")

    def clean(self):
        data = super().clean()
        try:
            staff_token_check(
                name=data.get("name", ""),
                scopes=data.get("scopes", ()),
                expires_at=data.get("expires_at"),
            )
        except StaffTokenError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


@admin.register(StaffToken)
class StaffTokenAdmin(admin.ModelAdmin):
    """A key is made by the service and shown once in a message; only its digest is stored."""

    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username")
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = StaffTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "user",
            "name",
            "prefix",
            "scopes",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        )

    def get_exclude(self, request, obj=None):
        return ("digest",)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        token, raw = staff_token_issue(
            user=data["user"],
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data["expires_at"],
        )
        # The admin goes on with ``obj`` (its log entry, the redirect): make it the key.
        obj.__dict__.update(token.__dict__)
        messages.warning(
            request,
            _("The key, shown only now: Authorization: Bearer %(key)s") % {"key": raw},
        )

    @admin.action(description=gettext_lazy("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for token in queryset:
            staff_token_revoke(token=token)
        messages.success(
            request, _("%(count)d keys revoked.") % {"count": queryset.count()}
        )
