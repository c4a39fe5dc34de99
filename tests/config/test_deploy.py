"""Production settings: they pass Django's deployment checks, and every secret comes from the environment."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# A secret's setting: its name says so; the flags and durations next to them are not secrets.
SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PRIVATE_KEY|API_KEY|APIV3_KEY|_KEY_ID$|^KUAIDI100_KEY$"
)
NOT_SECRET = re.compile(
    r"_HOURS$|_SECONDS$|_ADDRESSES$|^AUTH_PASSWORD_VALIDATORS$|^PASSWORD_(HASHERS|RESET_TIMEOUT)$"
)
UNSET = {"", "None", "[]"}


def run_production(*args, **env):
    """Run manage.py under the production settings with only the environment given here."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def dot_env_sets(name):
    # base.py reads .env too (a developer's own, never committed); it would fill in what we leave out.
    path = ROOT / ".env"
    return path.exists() and re.search(rf"^\s*{name}\s*=", path.read_text(), re.M)


def test_production_settings_pass_check_deploy_without_a_warning():
    result = run_production(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="oms.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    if dot_env_sets("SECRET_KEY"):
        pytest.skip(".env sets SECRET_KEY")

    result = run_production("check", ALLOWED_HOSTS="oms.example.com")

    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_no_secret_has_a_default_in_the_settings():
    """With nothing in the environment, every key, password and secret setting is empty."""
    if (ROOT / ".env").exists():
        pytest.skip("a .env file fills in settings")
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({n: str(getattr(s, n)) for n in dir(s) if n.isupper()}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "from-the-environment",
            "ALLOWED_HOSTS": "oms.example.com",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.splitlines()[-1])

    secret_settings = {
        name: value
        for name, value in values.items()
        if SECRET_NAME.search(name) and not NOT_SECRET.search(name)
    }
    assert (
        len(secret_settings) >= 8
    )  # SECRET_KEY, the payment providers', SMS, carriers'
    assert secret_settings.pop("SECRET_KEY") == "from-the-environment"
    assert {name: v for name, v in secret_settings.items() if v not in UNSET} == {}


# Private keys committed on purpose, for tests only (none at the time of writing: the tests
# generate their keys when they run).
TEST_ONLY_KEYS: set[str] = set()


def test_no_private_key_is_committed():
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    begin = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----")
    found = {
        name.decode()
        for name in files
        if name
        and (ROOT / name.decode()).is_file()
        and begin.search((ROOT / name.decode()).read_bytes())
    }

    assert found - TEST_ONLY_KEYS == set()


def test_no_env_file_is_committed():
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()

    assert [f for f in files if Path(f).name == ".env"] == []
