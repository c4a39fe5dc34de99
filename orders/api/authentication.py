"""Who is calling the API: a sales channel, proven by its key or by a signed push."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from orders.models import Channel
from orders.selectors import channel_for_token
from orders.services import webhook_receipt_record
from orders.signing import SignatureError, signature_verify


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
