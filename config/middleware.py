"""Requests refused before any view reads them."""

from django.core.exceptions import BadRequest


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
