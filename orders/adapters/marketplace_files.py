"""Reading marketplace export files: CSV or XLSX, UTF-8 or GBK, one row at a time.

``open_table(file_obj)`` tells XLSX from CSV by the file's first bytes (an XLSX is a
zip: ``PK``), finds the text encoding of a CSV, and returns a ``Table``: the header
names and an iterator of ``(row_number, cells)``. Row numbers are the ones a spreadsheet
shows, the header being row 1; a CSV record with a line break inside a quoted cell is
still one row, as it is in Excel.

The cell parsers (``cell_text``, ``cell_money``, ``cell_quantity``, ``cell_datetime``)
take what the reader gives (a string from a CSV; str, int, float or datetime from an
XLSX) and undo what spreadsheets and marketplaces do to values: ``="123"`` and a
leading ``'`` (guards that stop Excel from turning ids into numbers), tabs, "元" and
"¥", thousands separators. Money is always ``Decimal`` with two places.

Nothing here touches the database or Django settings.
"""

import codecs
import csv
import io
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

# Marketplace exports carry China time without saying so, whatever the shop's own
# TIME_ZONE setting is.
MARKETPLACE_TZ = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the pre-2007 binary .xls (OLE2)
CHUNK = 1 << 20
# Large enough for any upload we expect to stay in memory when a stream can't seek.
SPOOL_MAX = 32 << 20


class MarketplaceFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, headers); no row was taken."""


class CellError(ValueError):
    """One cell holds a value its column cannot take."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Table:
    """A sheet: cleaned header names and the data rows after the header."""

    headers: list[str]
    rows: Iterator[tuple[int, Sequence]]
    format: str  # "csv" or "xlsx"
    encoding: str = ""  # of a CSV


# --- cells ------------------------------------------------------------------------


def cell_text(value) -> str:
    """Return the cell as trimmed text, spreadsheet guards (``="…"``, ``'``) removed."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return _number_text(value)
    text = value.strip()
    if not text:
        return ""
    first = text[0]
    if first == "=":
        if len(text) >= 3 and text[1] == '"' and text[-1] == '"':
            return text[2:-1].strip()
        if text[1:].isdigit():
            return text[1:]
    elif first == "'":
        return text[1:].strip()
    return text


def _number_text(value) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        # An id typed into Excel comes back as 12345.0.
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


_MONEY = re.compile(r"-?\d+(?:\.\d+)?")
_MONEY_JUNK = str.maketrans("", "", ",，  ¥￥元")


def cell_money(value) -> Decimal | None:
    """Return the amount as a Decimal with two places; None for a blank cell."""
    if value is None:
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        # str() first: Decimal(0.1) would carry the float's binary error.
        return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
    text = cell_text(value)
    if not text:
        return None
    text = text.translate(_MONEY_JUNK)
    if text.startswith("RMB"):
        text = text[3:]
    if not _MONEY.fullmatch(text):
        raise CellError("bad_amount", f"“{cell_text(value)}” is not an amount.")
    return Decimal(text).quantize(CENT, ROUND_HALF_UP)


_QUANTITY = re.compile(r"\d+(?:\.0*)?")


def cell_quantity(value) -> int | None:
    """Return a positive whole number; None for a blank cell."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        quantity = value
    elif isinstance(value, float) and value.is_integer():
        quantity = int(value)
    else:
        text = cell_text(value).replace("件", "").replace(",", "")
        if not text:
            return None
        if not _QUANTITY.fullmatch(text):
            raise CellError(
                "bad_quantity", f"“{cell_text(value)}” is not a whole number."
            )
        quantity = int(text.split(".")[0])
    if quantity <= 0:
        raise CellError("bad_quantity", f"Quantity must be positive, not {quantity}.")
    return quantity


_DATETIME = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2})[:：](\d{1,2})(?:[:：](\d{1,2})(?:\.\d+)?)?)?"
)


def cell_datetime(value) -> datetime | None:
    """Return an aware datetime in China time; None for a blank cell."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=MARKETPLACE_TZ)
        return value.astimezone(MARKETPLACE_TZ)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=MARKETPLACE_TZ)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # A date cell that lost its date format: Excel's serial day number.
        from openpyxl.utils.datetime import from_excel

        return from_excel(value).replace(tzinfo=MARKETPLACE_TZ)
    text = cell_text(value)
    if not text:
        return None
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise CellError("bad_date", f"“{text}” is not a date and time.")
    year, month, day, hour, minute, second = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=MARKETPLACE_TZ,
        )
    except ValueError:
        raise CellError("bad_date", f"“{text}” is not a valid date.") from None


_HEADER_JUNK = str.maketrans({"（": "(", "）": ")", " ": None, "\u3000": None})


def header_key(name) -> str:
    """Return a header name as compared: guards, spaces and full-width brackets evened out."""
    return cell_text(name).lstrip("\ufeff").translate(_HEADER_JUNK)


# --- files ------------------------------------------------------------------------


class _Reader(io.RawIOBase):
    """Any object with ``read(n)`` (Django's UploadedFile too) as a raw binary stream."""

    def __init__(self, source):
        self._source = source

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _seekable(file_obj):
    """Return a seekable binary file positioned at its start."""
    if isinstance(file_obj, (str, Path)):
        return open(file_obj, "rb")  # noqa: SIM115 - closed with the table's rows
    try:
        if file_obj.seekable():
            file_obj.seek(0)
            return file_obj
    except (AttributeError, OSError):
        pass
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX)  # noqa: SIM115
    while chunk := file_obj.read(CHUNK):
        spool.write(chunk)
    spool.seek(0)
    return spool


def _decodes_as(stream, encoding: str) -> bool:
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        while chunk := stream.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)
    return True


def sniff_encoding(stream) -> str:
    """Return the encoding the whole file decodes in: UTF-8 (BOM or not), else GB18030.

    The file is read through once before any row is taken, so a stray byte on row
    90,000 is a clear error up front, not a half-finished import. GB18030 is a superset
    of GBK and GB2312.
    """
    head = stream.read(4)
    stream.seek(0)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes_as(stream, encoding):
            return encoding
    raise MarketplaceFileError(
        "The file is neither UTF-8 nor GBK/GB18030 text; export it again as CSV or XLSX."
    )


def open_table(file_obj) -> Table:
    """Return the file's first sheet as a Table; raise MarketplaceFileError if unreadable."""
    stream = _seekable(file_obj)
    head = stream.read(8)
    stream.seek(0)
    if not head:
        raise MarketplaceFileError("The file is empty.")
    if head.startswith(XLSX_MAGIC):
        return _xlsx_table(stream)
    if head.startswith(XLS_MAGIC):
        raise MarketplaceFileError(
            "Old Excel .xls files cannot be read; save the export as .xlsx or CSV."
        )
    if head.lstrip().startswith(b"<"):
        raise MarketplaceFileError(
            "The file is a web page (HTML), not a spreadsheet; "
            "save it as .xlsx or CSV first."
        )
    return _csv_table(stream)


def row_estimate(file_obj) -> int:
    """Return about how many data rows the file holds, for a progress bar.

    A CSV's line breaks are counted (a quoted cell with a break inside counts twice);
    an XLSX's stated sheet size is trusted. 0 when it cannot tell.
    """
    stream = _seekable(file_obj)
    try:
        if stream.read(4).startswith(XLSX_MAGIC):
            from openpyxl import load_workbook

            stream.seek(0)
            try:
                workbook = load_workbook(stream, read_only=True)
                rows = workbook.worksheets[0].max_row or 0
                workbook.close()
            except Exception:  # openpyxl raises many kinds; it is only an estimate
                return 0
            return max(rows - 1, 0)
        stream.seek(0)
        breaks, last = 0, b"\n"
        while chunk := stream.read(CHUNK):
            breaks += chunk.count(b"\n")
            last = chunk[-1:]
        return max(breaks - (last == b"\n"), 0)
    finally:
        if isinstance(file_obj, (str, Path)):
            stream.close()
        else:
            stream.seek(0)


def _header_and_rows(rows: Iterator[Sequence]) -> tuple[list[str], Iterator]:
    numbered = enumerate(rows, start=1)
    for number, cells in numbered:
        headers = [header_key(cell) for cell in cells]
        if any(headers):
            while headers and not headers[-1]:
                headers.pop()
            return headers, _data_rows(numbered, len(headers))
        if number > 20:
            break
    raise MarketplaceFileError("The file has no header row.")


def _data_rows(numbered, width: int) -> Iterator[tuple[int, Sequence]]:
    for number, cells in numbered:
        if len(cells) < width:
            cells = list(cells) + [None] * (width - len(cells))
        if any(cells) and any(cell_text(cell) for cell in cells):
            yield number, cells


def _csv_table(stream) -> Table:
    encoding = sniff_encoding(stream)
    first_line = stream.read(1 << 16).decode(encoding, "ignore").split("\n", 1)[0]
    stream.seek(0)
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    text = io.TextIOWrapper(
        io.BufferedReader(_Reader(stream), CHUNK), encoding=encoding, newline=""
    )
    headers, rows = _header_and_rows(csv.reader(text, delimiter=delimiter))
    return Table(headers=headers, rows=rows, format="csv", encoding=encoding)


def _xlsx_table(stream) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors alike
        raise MarketplaceFileError(f"The XLSX file cannot be opened: {exc}") from exc
    sheet = workbook.worksheets[0]
    # Some exporters write a wrong sheet size; without this read-only mode trusts it.
    sheet.reset_dimensions()

    def rows():
        try:
            yield from sheet.iter_rows(values_only=True)
        finally:
            workbook.close()

    headers, data = _header_and_rows(rows())
    return Table(headers=headers, rows=data, format="xlsx")
