"""Browser tests drive Debian's chromium through Playwright; installing it is part of set-up."""

import contextlib
import os
import shutil
import subprocess

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
APT_INSTALL = "apt-get update -qq && apt-get install -y -qq chromium"


@pytest.fixture(scope="session")
def chromium_path():
    """Return the chromium executable, installing Debian's package when it is missing."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.geteuid() != 0:
        pytest.skip(
            f"{CHROMIUM} is missing and installing it needs root: {APT_INSTALL}"
        )
    if shutil.which("apt-get") is None:
        pytest.fail(f"{CHROMIUM} is missing and there is no apt-get to install it")
    done = subprocess.run(
        ["bash", "-c", APT_INSTALL],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        timeout=900,
    )
    if done.returncode != 0 or not os.path.exists(CHROMIUM):
        pytest.fail(
            f"could not install chromium ({APT_INSTALL} exited {done.returncode}):\n"
            f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return CHROMIUM


@pytest.fixture
def open_page(chromium_path, live_server, monkeypatch):
    """Return a context manager that opens a fresh page in chromium.

    Set up the test's data before opening it: while Playwright's sync API is active,
    an event loop runs in this thread, and the ORM (allowed by
    DJANGO_ALLOW_ASYNC_UNSAFE) then opens a database connection of that loop's
    context that nothing closes, which on PostgreSQL keeps the test database from
    being dropped at the end of the run.
    """
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    @contextlib.contextmanager
    def opened():
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path, args=CHROMIUM_ARGS
            )
            context = browser.new_context(
                locale="zh-CN", viewport={"width": 1280, "height": 900}
            )
            context.set_default_timeout(15_000)
            try:
                yield context.new_page()
            finally:
                context.close()
                browser.close()

    return opened
