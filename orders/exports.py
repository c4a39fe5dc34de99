"""CSV and XLSX downloads for the console: CSV in UTF-8 with a BOM (Excel reads the
Chinese right), and in both, cells that a spreadsheet would run as a formula neutralised."""

import csv
import tempfile
from collections.abc import Iterable, Sequence

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

# CSV rows sent to the browser at a time by csv_streaming_response.
ROWS_PER_WRITE = 500


def safe_cell(value):
    """Return the value as a spreadsheet may show it: text that starts a formula gets a leading '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class SafeCsvWriter:
    """A csv.writer whose rows go out with every cell passed through safe_cell."""

    def __init__(self, file):
        self._writer = csv.writer(file)

    def writerow(self, row: Iterable):
        return self._writer.writerow([safe_cell(v) for v in row])


def csv_download(
    filename: str, header: Sequence, rows: Iterable[Sequence]
) -> HttpResponse:
    """Return a CSV attachment of the header and rows, every cell passed through safe_cell."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = SafeCsvWriter(response)
    for values in [header, *rows]:
        writer.writerow(values)
    return response


class _Echo:
    """A file that hands back what is written, for csv.writer in a stream."""

    def write(self, value):
        return value


def csv_streaming_response(
    *, filename: str, header: list, rows: Iterable[list]
) -> StreamingHttpResponse:
    """Return a CSV download written while it is sent (UTF-8 with a BOM, so Excel reads Chinese)."""
    writer = csv.writer(_Echo())

    def chunks():
        batch = ["\ufeff", writer.writerow([safe_cell(v) for v in header])]
        for row in rows:
            batch.append(writer.writerow([safe_cell(v) for v in row]))
            if len(batch) >= ROWS_PER_WRITE:
                yield "".join(batch)
                batch = []
        yield "".join(batch)

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_file_response(
    *, filename: str, title: str, header: list, rows: Iterable[list]
) -> FileResponse:
    """Return an XLSX download written row by row into a temporary file."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cell(value):
        value = safe_cell(value)
        # Control characters are not allowed in the file's XML: dropped, not fatal.
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append([cell(v) for v in header])
    for row in rows:
        sheet.append([cell(v) for v in row])
    # FileResponse closes the file once sent, and the system deletes it then.
    out = tempfile.TemporaryFile()  # noqa: SIM115
    book.save(out)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
