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


class StaffTokenScheme(OpenApiAuthenticationExtension):
    target_class = "orders.api.authentication.StaffTokenAuthentication"
    name = "staffToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A staff user's key, `Bearer staff_…`; "
            "`manage.py staff_token <username> --name …` or the admin issues one. "
            "The key can do what its user may, narrowed by its scopes.",
        }
