"""How the channel authentications appear in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ChannelTokenScheme(OpenApiAuthenticationExtension):
    target_class = "orders.api.authentication.ChannelTokenAuthentication"
    name = "channelToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; `manage.py channel_token <channel code>` issues one.",
        }


class ChannelSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "orders.api.authentication.ChannelSignatureAuthentication"
    name = "channelSignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Signature",
            "description": '`t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">` with the '
            "channel's webhook secret; 5 minutes tolerance; each signature is accepted once.",
        }
