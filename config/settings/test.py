"""Settings for the test suite: DATABASE_URL when set, a SQLite file otherwise."""

from .base import *  # noqa: F403
from .base import DATABASES, env

SECRET_KEY = env("SECRET_KEY", default="test-only-insecure-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests that need a real worker start one themselves; the rest run tasks in
# the test process so a test sees their effects.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
LANGUAGE_CODE = "zh-hans"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The suite runs at any hour: quiet hours are off unless a test sets them.
SMS_QUIET_HOURS = env("SMS_QUIET_HOURS", default="00:00-00:00")
# The webhook tests' receiver listens on 127.0.0.1.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
# A "replica" alias that is the test database itself, so the replica tests see the
# rows they write; reports read it only where a test sets REPORTING_DATABASE.
DATABASES.setdefault("replica", {**DATABASES["default"], "TEST": {"MIRROR": "default"}})
REPORTING_DATABASE = "default"
