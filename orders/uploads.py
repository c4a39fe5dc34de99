"""What every upload form checks before a file is read: that it is text, not a binary.

A picture or an archive renamed .csv would otherwise reach the CSV readers, which take
any bytes as GB18030 and answer with a page of nonsense rows.
"""

import zipfile

from django import forms
from django.utils.translation import gettext_lazy as _

# Enough of the start of a file to tell text from a binary.
SNIFF_BYTES = 8192
XLSX_MAGIC = b"PK\x03\x04"  # an XLSX workbook is a zip archive


def upload_kind_check(upload, *, spreadsheet: bool = False):
    """Return the upload if it is CSV text (or, with ``spreadsheet``, an XLSX workbook).

    A NUL byte never occurs in CSV text in UTF-8 or GBK, and occurs early in every
    binary format (PNG, zip, PDF, old .xls).
    """
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    if spreadsheet and head.startswith(XLSX_MAGIC) and _is_workbook(upload):
        return upload
    if b"\x00" in head or head.startswith(XLSX_MAGIC):
        if spreadsheet:
            raise forms.ValidationError(
                _(
                    "This is neither a CSV nor an XLSX file; save it as one and try again."
                )
            )
        raise forms.ValidationError(
            _("This is not a CSV file; save it as CSV and try again.")
        )
    return upload


def _is_workbook(upload) -> bool:
    """Return whether the zip archive holds an Excel workbook (any zip can be renamed)."""
    try:
        with zipfile.ZipFile(upload) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False
    finally:
        upload.seek(0)
