"""GET /healthz: is the database answering, is the broker answering."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from config.celery_app import app as celery_app


def _database_state():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        return {"ok": False, "vendor": connection.vendor, "error": str(exc)}
    return {"ok": True, "vendor": connection.vendor}


def _broker_state():
    transport = celery_app.conf.broker_url.split("://", 1)[0]
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "transport": transport, "error": str(exc)}
    return {"ok": True, "transport": transport}


@never_cache
def healthz(request):
    """Return the database and broker state as JSON; 503 when either is down."""
    state = {"database": _database_state(), "broker": _broker_state()}
    state["ok"] = state["database"]["ok"] and state["broker"]["ok"]
    return JsonResponse(state, status=200 if state["ok"] else 503)
