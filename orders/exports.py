"""CSV downloads for the console: UTF-8 with a BOM (Excel reads the Chinese right) and
cells that a spreadsheet would run as a formula neutralised."""

import csv
from collections.abc import Iterable, Sequence

from django.http import HttpResponse


def safe_cell(value):
    """Return the value as a spreadsheet may show it: text that starts a formula gets a leading '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_download(
    filename: str, header: Sequence, rows: Iterable[Sequence]
) -> HttpResponse:
    """Return a CSV attachment of the header and rows, every cell passed through safe_cell."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    for values in [header, *rows]:
        writer.writerow([safe_cell(v) for v in values])
    return response
