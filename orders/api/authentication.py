"""Who is calling the API: a sales channel, proven by its key or by a signed push, or a
staff user's key (the shop's other systems)."""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import authentication, exceptions, permissions

from orders.models import Channel
from orders.selectors import channel_for_token
from orders.services import webhook_receipt_record
from orders.signing import SignatureError, signature_verify
from orders.staff_tokens import (
    staff_token_allows,
    staff_token_for_key,
    staff_token_used,
)
from orders.token_models import StaffToken


class ChannelPrincipal:
    """The authenticated caller: one channel, never a staff user."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, channel: Channel):
        self.channel = channel

    def __str__(self):
        return f"channel:{self.channel.code}"


class ChannelTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>``; a missing or wrong key answers 401."""

    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid API key header."))
        channel = channel_for_token(parts[1].decode(errors="replace"))
        if channel is None:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        return ChannelPrincipal(channel), None

    def authenticate_header(self, request):
        return self.keyword


class ChannelSignatureAuthentication(authentication.BaseAuthentication):
    """A push to ``/webhooks/channels/<code>/`` signed with the channel's secret, used once."""

    def authenticate(self, request):
        code = request.parser_context["kwargs"].get("code", "")
        channel = Channel.objects.filter(code=code, active=True).first()
        if channel is None:
            raise exceptions.AuthenticationFailed(_("Unknown channel."))
        try:
            signature = signature_verify(
                header=request.headers.get("X-Signature", ""),
                body=request.body,
                secret=channel.webhook_secret,
                tolerance=settings.WEBHOOK_TOLERANCE_SECONDS,
            )
        except SignatureError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        if not webhook_receipt_record(channel=channel, signature=signature):
            raise exceptions.AuthenticationFailed(
                _("This push was already received (replay).")
            )
        return ChannelPrincipal(channel), None

    def authenticate_header(self, request):
        return "Signature"


class StaffTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer staff_<key>``: the request acts as the key's staff user.

    A channel's key is never accepted here (another keyword, another table), and a
    staff key is never accepted by the channel endpoints.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid API key header."))
        token = staff_token_for_key(parts[1].decode(errors="replace"))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        staff_token_used(token=token)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class StaffKeyAllows(permissions.BasePermission):
    """The view's ``required_permission`` is the key user's and in the key's scopes."""

    message = gettext_lazy(
        "This API key may not do this: its user lacks the permission or the key is not scoped for it."
    )

    def has_permission(self, request, view):
        return isinstance(request.auth, StaffToken) and staff_token_allows(
            request.auth, view.required_permission
        )
