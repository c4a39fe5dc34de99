"""Who may open what: every console URL and API endpoint, tried as each staff role and anonymously.

``CONSOLE`` and ``API`` are the spec, written out by hand from each view's permission; a URL
added without an entry fails ``test_every_console_and_api_url_has_an_entry``. A role the table
allows must get past the gate (the page, a redirect, 405 for a GET on a POST-only action, 404 for
an object the small shop below lacks, 400 for an empty form); a role it leaves out must get 403,
and anyone not signed in the login page (console) or 401/403 (API). Actions are POSTed with the
CSRF token to objects that do not exist, so an allowed role is stopped at the lookup and nothing
changes.
"""

import re

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from billing.services import payment_confirm
from inventory.models import StockLevel
from orders.analytics import STAGE_KEYS
from orders.roles import CUSTOMER_SERVICE, FINANCE, OWNER, WAREHOUSE
from orders.services import channel_token_issue
from orders.staff_tokens import staff_token_issue
from tracking.models import ParcelException
from tracking.services import tracking_event_record

CS, WH, FIN = CUSTOMER_SERVICE, WAREHOUSE, FINANCE
ROLES = (OWNER, CS, WH, FIN)
GET, POST = "GET", "POST"
PUBLIC = "public"

# URL name → (how it is used, the roles that may use it).
CONSOLE = {
    "console:login": (GET, PUBLIC),
    "console:logout": (POST, PUBLIC),
    "imports:list": (GET, {OWNER, CS}),
    "imports:detail": (GET, {OWNER, CS}),
    "imports:progress": (GET, {OWNER, CS}),
    "imports:report": (GET, {OWNER, CS}),
    "stock:list": (GET, {OWNER, CS, WH}),
    "stock:export": (GET, {OWNER, CS, WH}),
    "stock:import": (GET, {OWNER, WH}),
    "stock:goods_in": (GET, {OWNER, WH}),
    "stock:adjust": (GET, {OWNER, WH}),
    "stock:bin_set": (POST, {OWNER, WH}),
    "stock:returns": (GET, {OWNER, WH}),
    "stock:level_plan": (GET, {OWNER, WH}),
    "stock:stocktake": (GET, {OWNER, WH}),
    "stock:backorders": (GET, {OWNER, CS, WH}),
    "stock:replenishment": (GET, {OWNER, CS, WH}),
    "stock:replenishment_export": (GET, {OWNER, CS, WH}),
    "analytics:peaks": (GET, {OWNER, FIN}),
    "analytics:products": (GET, {OWNER, FIN}),
    "analytics:channels": (GET, {OWNER, FIN}),
    "analytics:process": (GET, {OWNER, FIN}),
    "analytics:stage": (GET, {OWNER, FIN}),
    "analytics:exception_rates": (GET, {OWNER, FIN}),
    "console:dashboard": (GET, {OWNER, CS, WH, FIN}),
    "console:order_list": (GET, {OWNER, CS, WH, FIN}),
    "console:order_new": (GET, {OWNER, CS}),
    "console:order_export": (GET, {OWNER, FIN}),
    "console:customer_lookup": (GET, {OWNER, CS}),
    "customers:list": (GET, {OWNER, CS, FIN}),
    "customers:export": (GET, {OWNER, FIN}),
    "customers:detail": (GET, {OWNER, CS, FIN}),
    "customers:contact": (POST, {OWNER, CS}),
    "customers:note": (POST, {OWNER, CS}),
    "customers:merge": (POST, {OWNER, CS}),
    "console:product_search": (GET, {OWNER, CS}),
    "console:address_split": (GET, {OWNER, CS}),
    "console:order_detail": (GET, {OWNER, CS, WH, FIN}),
    "console:order_correct": (POST, {OWNER, CS}),
    "console:order_process": (POST, {OWNER, CS}),
    "console:order_complete": (POST, {OWNER, FIN}),
    "console:order_cancel": (POST, {OWNER, CS}),
    "console:order_note": (POST, {OWNER, CS}),
    "console:order_approve": (POST, {OWNER, CS}),
    "console:order_reallocate": (POST, {OWNER, WH}),
    "console:backorder_wait": (POST, {OWNER, CS}),
    "console:backorder_split": (POST, {OWNER, CS}),
    "console:backorder_substitute": (POST, {OWNER, CS}),
    "console:backorder_fill": (POST, {OWNER, CS}),
    "console:backorder_cancel_lines": (POST, {OWNER, CS}),
    "fulfillment:start": (POST, {OWNER, WH}),
    "fulfillment:ship": (POST, {OWNER, WH}),
    "fulfillment:pick_lists": (GET, {OWNER, WH}),
    "fulfillment:wave": (GET, {OWNER, WH}),
    "fulfillment:pick_list_bulk": (POST, {OWNER, WH}),
    "fulfillment:pick_list_detail": (GET, {OWNER, WH}),
    "fulfillment:pick_list_print": (GET, {OWNER, WH}),
    "fulfillment:pick_list_pdf": (GET, {OWNER, WH}),
    "fulfillment:short_pick": (POST, {OWNER, WH}),
    "fulfillment:pick_list_close": (POST, {OWNER, WH}),
    "fulfillment:pack": (GET, {OWNER, WH}),
    "fulfillment:pack_scan": (POST, {OWNER, WH}),
    "fulfillment:pack_complete": (POST, {OWNER, WH}),
    "fulfillment:pack_reset": (POST, {OWNER, WH}),
    "fulfillment:packing_slip": (GET, {OWNER, CS, WH, FIN}),
    "fulfillment:shipment_label": (GET, {OWNER, WH}),
    "fulfillment:labels_bulk": (POST, {OWNER, WH}),
    "fulfillment:ship_bulk": (POST, {OWNER, WH}),
    "fulfillment:tracking_upload": (GET, {OWNER, WH}),
    "fulfillment:ship_by": (GET, {OWNER, CS, WH, FIN}),
    "fulfillment:pack_tracking": (POST, {OWNER, WH}),
    "fulfillment:order_carrier": (POST, {OWNER, CS}),
    "returns:list": (GET, {OWNER, CS, WH, FIN}),
    "returns:new": (GET, {OWNER, CS}),
    "returns:detail": (GET, {OWNER, CS, WH, FIN}),
    "returns:approve": (POST, {OWNER, CS}),
    "returns:reject": (POST, {OWNER, CS}),
    "returns:inspect": (POST, {OWNER, WH}),
    "returns:complete": (POST, {OWNER, WH}),
    "billing:confirm": (POST, {OWNER, FIN}),
    "billing:cod": (POST, {OWNER, FIN}),
    "billing:refund_request": (POST, {OWNER, CS, FIN}),
    "billing:refund_approve": (POST, {OWNER, FIN}),
    "billing:refund_reject": (POST, {OWNER, FIN}),
    "billing:refund_paid": (POST, {OWNER, FIN}),
    "billing:refund_provider": (POST, {OWNER, FIN}),
    "billing:review_list": (GET, {OWNER, FIN}),
    "billing:review_accept": (POST, {OWNER, FIN}),
    "billing:review_reject": (POST, {OWNER, FIN}),
    "finance:cod_reconciliation": (GET, {OWNER, FIN}),
    "finance:cod_missing_check": (POST, {OWNER, FIN}),
    "finance:cod_difference_resolve": (POST, {OWNER, FIN}),
    "finance:cod_remittances": (GET, {OWNER, FIN}),
    "finance:cod_remittance_import": (GET, {OWNER, FIN}),
    "finance:cod_remittance_new": (GET, {OWNER, FIN}),
    "finance:cod_remittance_detail": (GET, {OWNER, FIN}),
    "finance:settlements": (GET, {OWNER, FIN}),
    "finance:settlement_detail": (GET, {OWNER, FIN}),
    "finance:settlement_line_resolve": (POST, {OWNER, FIN}),
    "finance_reports:sales": (GET, {OWNER, FIN}),
    "tracking:scan_add": (GET, {OWNER, CS, WH}),
    "tracking:exceptions": (GET, {OWNER, CS, WH, FIN}),
    "tracking:exception_detail": (GET, {OWNER, CS, WH, FIN}),
    "tracking:exception_note": (POST, {OWNER, CS, WH}),
    "tracking:exception_notify": (POST, {OWNER, CS, WH}),
    "tracking:exception_reship": (POST, {OWNER, WH}),
    "tracking:exception_claim": (POST, {OWNER, CS}),
    "tracking:exception_refund": (POST, {OWNER, CS}),
    "tracking:exception_close": (POST, {OWNER, CS, WH}),
    "tracking:claim_update": (POST, {OWNER, FIN}),
    "tracking:standards": (GET, {OWNER, CS, WH}),
    "tracking:notification_templates": (GET, {OWNER, CS}),
    "tracking:notification_template": (GET, {OWNER, CS}),
    "tracking:order_notification_choices": (POST, {OWNER, CS}),
    "tracking:standard_delete": (POST, {OWNER, WH}),
    "tracking:webhook_endpoints": (GET, {OWNER}),
    "tracking:webhook_endpoint_new": (GET, {OWNER}),
    "tracking:webhook_endpoint": (GET, {OWNER}),
    "tracking:webhook_endpoint_rotate": (POST, {OWNER}),
    "tracking:webhook_endpoint_test": (POST, {OWNER}),
    "tracking:webhook_endpoint_replay_given_up": (POST, {OWNER}),
    "tracking:webhook_delivery_replay": (POST, {OWNER}),
}

# API endpoints: channel endpoints take a channel key (that a channel sees only its own orders is
# tests/orders/test_api.py::test_a_channel_sees_only_its_own_orders); staff endpoints take a
# staff key whose user must hold the view's permission (scopes: tests/orders/test_staff_tokens.py).
CHANNEL = "channel key"
API = {
    "api:order_create": (POST, CHANNEL),
    "api:order_batch": (POST, CHANNEL),
    "api:order_detail": (GET, CHANNEL),
    "api:order_cancel": (POST, CHANNEL),
    "api:order_returns": (GET, CHANNEL),
    "api:sync_orders": (GET, {OWNER, CS, WH, FIN}),
    "api:stock_levels": (GET, {OWNER, CS, WH}),
    "api:products": (GET, {OWNER, CS, WH}),
    "api:stock_adjustments": (POST, {OWNER, WH}),
}

ALLOWED = {200, 302, 400, 404, 405}
CSRF_TOKEN = "accessmatrix" * 2 + "01234567"  # any 32 letters and digits will do


def _routes():
    """(route, namespaced name) of every URL under /console/ and /api/v1/."""

    def walk(patterns, prefix, namespaces):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = (pattern.namespace,) if pattern.namespace else ()
                yield from walk(
                    pattern.url_patterns, prefix + str(pattern.pattern), namespaces + ns
                )
            else:
                yield (
                    prefix + str(pattern.pattern),
                    ":".join((*namespaces, pattern.name or "")),
                )

    return [
        (route, name)
        for route, name in walk(get_resolver().url_patterns, "", ())
        if route.startswith(("console/", "api/v1/"))
    ]


ROUTES = dict((name, route) for route, name in _routes())

# Values for path arguments where the shop has none: nothing with these keys exists.
ARGS = {"int": 999999, "slug": "orders", "str": "NO-SUCH"}
# Path arguments a view checks before the permission (a message that exists at all).
ARGS_BY_NAME = {
    "tracking:notification_template": {
        "event": "order_received",
        "channel": "sms",
        "language": "en",
    },
}


def url_for(name, route, *, shop=None):
    """The URL with its path arguments: the shop's objects if given, else ones that do not exist."""
    kwargs = dict(ARGS_BY_NAME.get(name, {}))
    if shop:
        kwargs.update(shop.get(name, {}))
    for converter, key in re.findall(r"<(\w+):(\w+)>", route):
        if key == "number" and shop:
            kwargs.setdefault(key, shop["number"])
        kwargs.setdefault(key, ARGS[converter])
    return reverse(name, kwargs=kwargs)


@pytest.fixture
def shop(place_order, ship):
    """A small shop to open the pages with: an order just placed, and a parcel the carrier lost."""
    order = place_order()
    lost = place_order(quantity=2)
    payment_confirm(order=lost, method="alipay", amount=lost.total, actor="test")
    (parcel,) = ship(lost)
    tracking_event_record(
        shipment=parcel,
        status="expired",
        description="快件长时间无物流更新，已登记丢失",
        occurred_at=timezone.now(),
        actor="carrier:test",
    )
    exception = ParcelException.objects.get(shipment=parcel)
    return {
        "number": order.number,
        "fulfillment:packing_slip": {"pk": parcel.pk},
        "fulfillment:shipment_label": {"pk": parcel.pk},
        "tracking:scan_add": {"shipment_id": parcel.pk},
        "tracking:exception_detail": {"pk": exception.pk},
        "stock:level_plan": {"pk": StockLevel.objects.first().pk},
        "analytics:stage": {"stage": STAGE_KEYS[0]},
    }


@pytest.fixture
def clients(member):
    """A CSRF-enforcing client signed in for each role, with its CSRF token."""
    made = {}
    for role in ROLES:
        client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(member(role))
        client.cookies["csrftoken"] = CSRF_TOKEN
        made[role] = client
    return made


def post_with_token(client, url):
    return client.post(url, {"csrfmiddlewaretoken": CSRF_TOKEN})


def test_every_console_and_api_url_has_an_entry():
    names = set(ROUTES)
    assert names - set(CONSOLE) - set(API) == set(), "add the new URL to the table"
    assert (set(CONSOLE) | set(API)) - names == set(), "a URL in the table is gone"


@pytest.mark.parametrize("name", sorted(CONSOLE))
def test_each_role_gets_exactly_the_console_urls_the_table_gives_it(
    name, clients, shop
):
    method, allowed = CONSOLE[name]
    route = ROUTES[name]
    login = reverse("console:login")
    for role, client in clients.items():
        may = allowed == PUBLIC or role in allowed
        get = client.get(url_for(name, route, shop=shop))
        if may:
            assert get.status_code in ALLOWED, (role, "GET", get.status_code)
            assert not get.get("Location", "").startswith(login), (role, "GET")
        else:
            assert get.status_code == 403, (role, "GET", get.status_code)
        if method == POST:
            post = post_with_token(client, url_for(name, route))
            expected = ALLOWED if may else {403}
            assert post.status_code in expected, (role, "POST", post.status_code)


@pytest.mark.parametrize(
    "name", sorted(n for n, (_m, a) in CONSOLE.items() if a != PUBLIC)
)
def test_anyone_not_signed_in_is_sent_to_the_login_page(name, db):
    response = Client().get(url_for(name, ROUTES[name]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))


@pytest.mark.parametrize("name", sorted(API))
def test_the_api_answers_401_or_403_without_a_key(name, db):
    client = APIClient()
    url = url_for(name, ROUTES[name])
    response = (
        client.post(url, {}, format="json") if API[name][0] == POST else client.get(url)
    )
    assert response.status_code in {401, 403}


@pytest.mark.parametrize(
    "name", sorted(n for n, (_m, a) in API.items() if a != CHANNEL)
)
def test_a_staff_key_reaches_the_endpoints_its_role_may_use_and_no_others(name, member):
    method, allowed = API[name]
    for role in ROLES:
        client = APIClient()
        key = staff_token_issue(user=member(role), name="access matrix")[1]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        url = url_for(name, ROUTES[name])
        response = (
            client.post(url, {}, format="json") if method == POST else client.get(url)
        )
        if role in allowed:
            assert response.status_code in {200, 400}, (role, response.status_code)
        else:
            assert response.status_code == 403, (role, response.status_code)


POST_FORM = re.compile(r"<form\b[^>]*method=[\"']?post[^>]*>(.*?)</form>", re.I | re.S)


def test_every_post_form_on_the_console_pages_carries_the_csrf_token(clients, shop):
    owner = clients[OWNER]
    forms_seen = 0
    for name, (method, _allowed) in CONSOLE.items():
        if method != GET:
            continue
        response = owner.get(url_for(name, ROUTES[name], shop=shop))
        if response.status_code != 200 or "html" not in response.get(
            "Content-Type", ""
        ):
            continue
        for form in POST_FORM.findall(response.content.decode()):
            forms_seen += 1
            assert 'name="csrfmiddlewaretoken"' in form, name
    assert forms_seen > 100  # 118 when written: the order page has a form per action


@pytest.mark.parametrize(
    "name", sorted(n for n, (m, _a) in CONSOLE.items() if m == POST)
)
def test_a_post_without_the_csrf_token_is_refused_with_403(name, clients):
    response = clients[OWNER].post(url_for(name, ROUTES[name]))

    assert response.status_code == 403
    assert b"CSRF" in response.content  # refused by the CSRF check, not a permission


@pytest.mark.parametrize("name", sorted(API))
def test_a_key_of_the_other_kind_is_refused(name, member, channel):
    """A channel key opens no staff endpoint, and a staff key (even the owner's) no channel one."""
    method, allowed = API[name]
    if allowed == CHANNEL:
        key = f"Bearer {staff_token_issue(user=member(OWNER), name='matrix')[1]}"
    else:
        key = f"Token {channel_token_issue(channel=channel)}"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=key)
    url = url_for(name, ROUTES[name])

    response = (
        client.post(url, {}, format="json") if method == POST else client.get(url)
    )

    assert response.status_code in {401, 403}
