"""Requests refused before any view reads them, and a database outage told as one."""

from django.core.exceptions import BadRequest
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 5


class NulBytesRefusedMiddleware:
    """Answer 400 to a NUL byte in the path or the query string.

    PostgreSQL cannot hold NUL in text, so a NUL that reached a lookup (an order number in
    the URL, a filter) would fail the query with a server error; forms and the API refuse
    NUL in what they validate, and this covers what views read straight from the URL.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            raise BadRequest("NUL byte in the URL")
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Answer 503 with Retry-After when the database cannot be reached, not a bare 500.

    While PostgreSQL restarts, a view's query fails with OperationalError (or
    InterfaceError on a connection that died under it). A channel or a carrier
    retrying on 503 is safe: an order is created once per external id, a webhook
    once per signature or event. The page itself needs no database to render.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        message = _("The database is not available just now; please try again shortly.")
        if request.path.startswith(("/api/", "/webhooks/")):
            response = JsonResponse({"detail": message}, status=503)
        else:
            response = HttpResponse(
                f"<!doctype html><title>503</title><p>{message}</p>", status=503
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
