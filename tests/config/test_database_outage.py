"""While the database cannot be reached, callers are told to come back (503, Retry-After).

The real outage (PostgreSQL stopped under gunicorn) is in test_postgres_restart.py;
here a view's query fails as it does then, so each kind of page can be checked.
"""

import pytest
from django.db import InterfaceError, OperationalError
from django.utils import translation

import orders.api.views
import tracking.views
from tests.orders.test_api import PAYLOAD, api, post  # noqa: F401  (api is a fixture)

MESSAGE = "The database is not available just now; please try again shortly."


def fail_with(error):
    def failing(*args, **kwargs):
        raise error("server closed the connection unexpectedly")

    return failing


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_an_api_call_during_an_outage_answers_503_with_retry_after(
    api,  # noqa: F811
    monkeypatch,
    error,
):
    monkeypatch.setattr(orders.api.views, "order_intake", fail_with(error))

    with translation.override("en"):
        response = post(api, PAYLOAD, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": MESSAGE}


def test_the_status_page_during_an_outage_says_so_without_a_server_error(
    client, monkeypatch
):
    monkeypatch.setattr(tracking.views, "order_for_lookup", fail_with(OperationalError))

    response = client.post(
        "/track/",
        {"number": "20261129000001", "phone": "13800138000"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert MESSAGE in response.content.decode()


def test_other_errors_are_still_server_errors(api, monkeypatch):  # noqa: F811
    monkeypatch.setattr(orders.api.views, "order_intake", fail_with(RuntimeError))
    api.raise_request_exception = False

    assert post(api, PAYLOAD).status_code == 500
