"""Staff API keys: issued once, checked against their user's permissions and scopes."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from orders.roles import CUSTOMER_SERVICE, FINANCE, WAREHOUSE
from orders.selectors import token_digest
from orders.services import channel_token_issue
from orders.staff_tokens import staff_token_issue, staff_token_revoke
from orders.token_models import StaffToken

STOCK = "/api/v1/stock/"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def client_with(header=None):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


@pytest.fixture
def clerk(member):
    return member(WAREHOUSE)


def key_for(user, **kwargs):
    return staff_token_issue(user=user, name="WMS", **kwargs)[1]


def test_the_command_prints_the_key_once_and_stores_only_its_digest(clerk):
    out = StringIO()

    call_command("staff_token", clerk.username, "--name", "WMS sync", stdout=out)

    raw = out.getvalue().split("Bearer ", 1)[1].split()[0]
    token = StaffToken.objects.get(user=clerk)
    assert raw.startswith("staff_")
    assert token.name == "WMS sync"
    assert token.digest == token_digest(raw)
    assert raw not in str(token.__dict__.values())
    assert client_with(f"Bearer {raw}").get(STOCK).status_code == 200


def test_the_command_lists_and_revokes_a_users_keys(clerk):
    token, _raw = staff_token_issue(user=clerk, name="WMS")
    out = StringIO()

    call_command("staff_token", clerk.username, "--list", stdout=out)
    call_command("staff_token", clerk.username, "--revoke", token.prefix, stdout=out)

    assert f"{token.prefix}…  WMS  live" in out.getvalue()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_no_key_answers_401_asking_for_a_bearer_key(db):
    response = client_with().get(STOCK)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_channel_key_cannot_use_the_staff_endpoints(channel):
    raw = channel_token_issue(channel=channel)

    assert client_with(f"Token {raw}").get(STOCK).status_code == 401
    assert client_with(f"Bearer {raw}").get(STOCK).status_code == 401


def test_a_staff_key_cannot_send_orders_as_a_channel(clerk):
    raw = key_for(clerk)

    response = client_with(f"Token {raw}").post("/api/v1/orders/", {}, format="json")

    assert response.status_code == 401


def test_a_key_whose_user_lacks_the_permission_answers_403(member):
    raw = key_for(member(FINANCE))  # finance does not see stock levels

    response = client_with(f"Bearer {raw}").get(STOCK)

    assert response.status_code == 403
    assert "may not do this" in response.json()["detail"]


def test_a_key_can_do_no_more_than_its_user_even_with_the_scope(member):
    raw = key_for(member(CUSTOMER_SERVICE), scopes=["inventory.change_stocklevel"])

    response = client_with(f"Bearer {raw}").post(
        "/api/v1/stock/adjustments/", {}, format="json"
    )

    assert response.status_code == 403


def test_a_key_scoped_to_orders_cannot_read_stock_its_user_may_read(clerk):
    raw = key_for(clerk, scopes=["orders.view_order"])
    client = client_with(f"Bearer {raw}")

    assert client.get(STOCK).status_code == 403
    assert client.get("/api/v1/sync/orders/").status_code == 200


@pytest.mark.parametrize("why", ["revoked", "expired", "user inactive"])
def test_a_dead_key_answers_401(clerk, why):
    token, raw = staff_token_issue(
        user=clerk, name="WMS", expires_at=timezone.now() + timedelta(days=1)
    )
    if why == "revoked":
        staff_token_revoke(token=token)
    elif why == "expired":
        StaffToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    else:
        clerk.is_active = False
        clerk.save()

    assert client_with(f"Bearer {raw}").get(STOCK).status_code == 401


def test_using_a_key_notes_when_it_was_last_used(clerk):
    token, raw = staff_token_issue(user=clerk, name="WMS")

    client_with(f"Bearer {raw}").get(STOCK)

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_key_cannot_be_issued_with_an_unknown_scope_or_a_past_expiry(clerk):
    from orders.staff_tokens import StaffTokenError

    with pytest.raises(StaffTokenError, match="Unknown scopes: billing.view_payment"):
        staff_token_issue(user=clerk, name="x", scopes=["billing.view_payment"])
    with pytest.raises(StaffTokenError, match="expiry must lie in the future"):
        staff_token_issue(user=clerk, name="x", expires_at=timezone.now())


def test_the_admin_issues_a_key_shown_once_and_revokes_it(admin_client, clerk):
    response = admin_client.post(
        reverse("admin:orders_stafftoken_add"),
        {"user": clerk.pk, "name": "ERP", "scopes": ["orders.view_order"]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    token = StaffToken.objects.get(user=clerk)
    shown = [str(m) for m in response.context["messages"]]
    raw = shown[0].split("Bearer ", 1)[1]
    assert token.digest == token_digest(raw)
    assert token.scopes == ["orders.view_order"]

    admin_client.post(
        reverse("admin:orders_stafftoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
