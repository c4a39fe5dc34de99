"""Console sign-in throttling: failed attempts are counted per username and client address.

Past ``LOGIN_FAIL_LIMIT`` failures in ``LOGIN_FAIL_WINDOW_SECONDS`` the sign-in form refuses
without checking the password, so guessing is as slow as the window makes it. The counters live
in Django's cache (Redis when ``REDIS_URL`` is set, so every web process shares them); the window
runs from the first failure, and a successful sign-in clears it.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(*, username: str, address: str) -> str:
    # Hashed: a username is whatever was typed, and cache keys must be short and plain.
    digest = hashlib.sha256(f"{username.casefold()}\0{address}".encode()).hexdigest()
    return f"login-fail:{digest}"


def login_locked(*, username: str, address: str) -> bool:
    """Whether this username has failed too often from this address in the window."""
    return cache.get(_key(username=username, address=address), 0) >= (
        settings.LOGIN_FAIL_LIMIT
    )


def login_failure_record(*, username: str, address: str) -> None:
    key = _key(username=username, address=address)
    if cache.add(key, 1, timeout=settings.LOGIN_FAIL_WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, timeout=settings.LOGIN_FAIL_WINDOW_SECONDS)


def login_failures_clear(*, username: str, address: str) -> None:
    cache.delete(_key(username=username, address=address))
