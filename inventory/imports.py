"""Stock counts from a CSV file: ``sku,warehouse,counted`` (one row per SKU and warehouse).

An optional ``bin`` column sets each row's bin location too (an empty cell leaves it).

``counted`` is the number of units on hand after the count; ``on_hand`` is taken
as the same column, so the console's stock export can be edited and imported
again. Each row is posted as a stocktake of its own (one transaction per row): a bad
row is reported with its row number and reason, and the good rows land.
"""

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from inventory.exceptions import StockError
from inventory.models import Product, Warehouse
from inventory.services import bin_location_set, stocktake_post

COUNT_COLUMNS = ("counted", "on_hand")


@dataclass
class StockImportResult:
    changed: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel in a Chinese locale saves CSV as GBK.
        return data.decode("gb18030")


def stock_import_csv(*, data: bytes, actor, reference="") -> StockImportResult:
    """Post the counts in a CSV file row by row; return what changed and each bad row.

    Rows are numbered as a spreadsheet shows them: the header is row 1.
    """
    reader = csv.reader(io.StringIO(_decode(data)))
    header = [name.strip().lower() for name in next(reader, [])]
    count_column = next((c for c in COUNT_COLUMNS if c in header), None)
    if "sku" not in header or "warehouse" not in header or count_column is None:
        raise StockError(
            _("The file needs the columns sku, warehouse and counted (or on_hand).")
        )
    at = {name: header.index(name) for name in ("sku", "warehouse", count_column)}
    bin_at = header.index("bin") if "bin" in header else None
    rows = [(number, row) for number, row in enumerate(reader, start=2) if any(row)]
    cells = [
        (number, *(row[at[n]].strip() if at[n] < len(row) else "" for n in at))
        for number, row in rows
    ]
    bins = {
        number: row[bin_at].strip()
        for number, row in rows
        if bin_at is not None and bin_at < len(row) and row[bin_at].strip()
    }
    products = Product.objects.in_bulk({c[1] for c in cells}, field_name="sku")
    warehouses = Warehouse.objects.in_bulk({c[2] for c in cells}, field_name="code")
    result = StockImportResult()
    seen: dict[tuple[str, str], int] = {}
    for number, sku, code, counted_text in cells:
        product, warehouse = products.get(sku), warehouses.get(code)
        if product is None:
            result.errors.append((number, _("Unknown SKU “%(sku)s”.") % {"sku": sku}))
            continue
        if warehouse is None:
            result.errors.append(
                (number, _("Unknown warehouse “%(code)s”.") % {"code": code})
            )
            continue
        try:
            counted = int(counted_text)
        except ValueError:
            counted = -1
        if counted < 0:
            result.errors.append(
                (number, _("The count must be a whole number, 0 or more."))
            )
            continue
        if (sku, code) in seen:
            result.errors.append(
                (
                    number,
                    _("%(sku)s in %(code)s was already counted in row %(row)d.")
                    % {"sku": sku, "code": code, "row": seen[(sku, code)]},
                )
            )
            continue
        seen[(sku, code)] = number
        try:
            # One row, one transaction: its count and its bin land together or not at all.
            with transaction.atomic():
                movements = stocktake_post(
                    warehouse=warehouse,
                    counts={product: counted},
                    actor=actor,
                    reference=reference,
                )
                if number in bins:
                    bin_location_set(
                        product=product,
                        warehouse=warehouse,
                        code=bins[number],
                        actor=actor,
                    )
        except StockError as error:
            result.errors.append((number, str(error)))
            continue
        if movements or number in bins:
            result.changed += 1
        else:
            result.unchanged += 1
    return result
