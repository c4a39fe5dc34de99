"""Reports and analytics read from a PostgreSQL replica when one is configured.

Only what is read inside ``replica_reads()`` goes to the replica, never every read:
a replica lags the primary by a moment, and a clerk who saves an order and reloads
its page must see the change. The report and analytics pages are wrapped in it by
``ReplicaReadsMiddleware`` (their URL namespaces are listed in the setting
``REPLICA_READ_NAMESPACES``); a report built elsewhere (a task, a command) can use
the context manager itself.

Inside it only the shop's own data (``REPLICA_READ_APPS``) is read from the replica:
the session and the user stay on the primary, so someone who has just logged in is
not sent back to the login page by the lag. Reads inside a transaction stay on the
primary too (a service reads what it has just written). Writes always go to the
primary, and migrations never run on the replica (it copies the primary's schema).
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connections
from django.urls import Resolver404, resolve

_replica_reads = ContextVar("replica_reads", default=False)


@contextmanager
def replica_reads():
    """Read the shop's data from the reporting database (``REPORTING_DATABASE``) inside."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


class ReplicaRouter:
    """Send reads made inside ``replica_reads()`` to the reporting database."""

    def db_for_read(self, model, **hints):
        if (
            _replica_reads.get()
            and model._meta.app_label in settings.REPLICA_READ_APPS
            and settings.REPORTING_DATABASE != "default"
            # A transaction that writes reads what it wrote: inside one, the primary.
            and not connections["default"].in_atomic_block
        ):
            return settings.REPORTING_DATABASE
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same rows: an order read from the replica may be
        # linked to a line read from the primary.
        return True

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"


class ReplicaReadsMiddleware:
    """Serve GET and HEAD requests to the report pages inside ``replica_reads()``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and self._is_report(request.path_info):
            with replica_reads():
                return self.get_response(request)
        return self.get_response(request)

    @staticmethod
    def _is_report(path):
        try:
            match = resolve(path)
        except Resolver404:
            return False
        return match.namespace in settings.REPLICA_READ_NAMESPACES
