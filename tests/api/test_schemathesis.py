"""Schemathesis against the OpenAPI schema: no generated request makes the server fail.

The schema is read from the running app (``/api/schema/``) and every operation is called
in-process through WSGI with a few seeded examples, as a channel (``Token``) or a staff
user (``Bearer staff_…``) as the operation's security asks; an order push is signed with
the channel's webhook secret, so its generated bodies get past the signature to intake.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from orders.services import channel_token_issue
from orders.signing import signature_header
from orders.staff_tokens import staff_token_issue
from tests.factories.orders import ChannelFactory, UserFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
PUSH_SECRET = "push-secret"


@pytest.fixture(autouse=True)
def connection_kept_open():
    """Keep the test's database connection across requests, as Django's test client does.

    The app is called through WSGI, whose start and end of request would close a connection that
    is inside the test's transaction (on PostgreSQL).
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def credentials(db):
    """Return the Authorization header for each security scheme of the schema."""
    channel = ChannelFactory(code="api", name="API shop", webhook_secret=PUSH_SECRET)
    admin = UserFactory(username="api-admin", is_superuser=True, is_staff=True)
    return {
        "channelToken": f"Token {channel_token_issue(channel=channel)}",
        "staffToken": f"Bearer {staff_token_issue(user=admin, name='fuzz')[1]}",
    }


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_makes_a_server_error(case, credentials):
    headers = {"Accept-Language": "en"}
    extra = {}
    for requirement in case.operation.definition.raw.get("security", []):
        for name in requirement:
            if name in credentials:
                headers["Authorization"] = credentials[name]
            elif name == "channelSignature" and case.body is not NOT_SET:
                # Signed as the platform would, so the generated order reaches intake.
                case.path_parameters["code"] = "api"
                body = case.body
                extra["data"] = (
                    body if isinstance(body, bytes) else json.dumps(body).encode()
                )
                headers["X-Signature"] = signature_header(
                    secret=PUSH_SECRET, body=extra["data"]
                )
    case.call_and_validate(
        headers=headers,
        checks=[not_a_server_error, response_schema_conformance],
        **extra,
    )
