"""Console sign-in: after LOGIN_FAIL_LIMIT failures for a username from one address, refused unchecked."""

import time

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from tests.factories.orders import UserFactory

LOGIN = "/console/login/"


@pytest.fixture(autouse=True)
def english_and_fresh_counters():
    cache.clear()
    with translation.override("en"):
        yield
    cache.clear()


@pytest.fixture
def clerk(db):
    user = UserFactory(username="clerk")
    user.set_password("right-password")
    user.save()
    return user


def sign_in(client, password, *, username="clerk", address="10.0.0.1"):
    return client.post(
        LOGIN,
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def fail(client, times, **kwargs):
    for _attempt in range(times):
        assert sign_in(client, "wrong", **kwargs).status_code == 200


def test_the_right_password_signs_in(client, clerk):
    response = sign_in(client, "right-password")

    assert response.status_code == 302
    assert response["Location"] == reverse("console:dashboard")


def test_past_the_limit_even_the_right_password_is_refused_with_429(
    client, clerk, settings
):
    settings.LOGIN_FAIL_LIMIT = 5
    settings.LOGIN_FAIL_WINDOW_SECONDS = 900
    fail(client, 5)

    response = sign_in(client, "right-password")

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "Try again in 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_locked_out_attempt_does_not_check_the_password(
    client, clerk, settings, monkeypatch
):
    settings.LOGIN_FAIL_LIMIT = 2
    fail(client, 2)
    checked = []
    monkeypatch.setattr(
        "django.contrib.auth.forms.authenticate",
        lambda *args, **kwargs: checked.append(kwargs),
    )

    assert sign_in(client, "right-password").status_code == 429
    assert checked == []


def test_a_successful_sign_in_clears_the_failures(client, clerk, settings):
    settings.LOGIN_FAIL_LIMIT = 3
    fail(client, 2)
    assert sign_in(client, "right-password").status_code == 302
    client.logout()

    fail(client, 2)

    assert sign_in(client, "right-password").status_code == 302


def test_failures_count_per_username_and_address(client, clerk, settings):
    settings.LOGIN_FAIL_LIMIT = 2
    UserFactory(username="packer").set_password("x")
    fail(client, 2)

    assert sign_in(client, "wrong", username="packer").status_code == 200
    assert sign_in(client, "right-password", address="10.0.0.2").status_code == 302


def test_the_lock_ends_with_the_window(client, clerk, settings):
    settings.LOGIN_FAIL_LIMIT = 1
    settings.LOGIN_FAIL_WINDOW_SECONDS = 1
    fail(client, 1)
    assert sign_in(client, "right-password").status_code == 429

    time.sleep(1.1)

    assert sign_in(client, "right-password").status_code == 302


def test_the_admin_sign_in_counts_failures_too(client, clerk, settings):
    settings.LOGIN_FAIL_LIMIT = 2
    clerk.is_staff = True
    clerk.save()
    fail(client, 2)  # on the console's page

    response = client.post(
        reverse("admin:login"),
        {"username": "clerk", "password": "right-password"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
