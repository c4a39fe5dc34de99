"""Marketplace order exports (Taobao/Tmall, JD, Pinduoduo, or any platform described by a
mapping) read into normalised ``MarketplaceOrder`` records. Pure: no database, no settings.

Usage::

    stream = read_orders(upload, items_file=items_upload)  # platform found from headers
    for record in stream:          # MarketplaceOrder or RowError, in file order
        ...
    stream.platform, stream.rows_read

``read_orders`` reads the header row at once, so a file that cannot be taken (not a
spreadsheet, bad encoding, unknown platform, missing columns) raises
``MarketplaceFileError`` before anything is yielded. After that it streams: each order
is yielded as soon as its last row is read, every rejected row as a ``RowError`` with
the row number a spreadsheet shows (header = row 1). Rows of one order must be next to
each other, as the platforms export them; an order id that comes back after other
orders is rejected as ``duplicate_order``. A Taobao 宝贝报表 (``items_file``) is read
whole into a dict first, since it is not in the 订单报表's order.

An order with any bad row is not yielded: its bad rows get their own error and its
other rows ``order_has_errors``, so every row of the file is accounted for. Things the
import should see but that do not stop the order (a phone masked as ``****``, amounts
that do not add up, no SKU) are ``Problem``s on the order.

Column mappings
---------------
A mapping is a plain dict (load it from JSON for a platform without a built-in one)::

    {
      "platform": "douyin",            # short code, ≤ 16 characters
      "name": "抖店",                  # shown in messages
      "rows": "line",                  # "line": a row per order line, rows of one
                                       # order next to each other; "order": a row per order
      "columns": {                     # field → header names, best first
        "external_id": ["主订单编号", "订单编号"],
        "status": ["订单状态"],
        "sku": ["商家编码"],
        "quantity": ["商品数量"],
        ...
      },
      "required": ["external_id", "status", "quantity"],   # these fields need a column
      "statuses": {"待发货": "paid", "已发货": "shipped", ...},
      "items": {"columns": {...}, "required": [...]}   # optional separate items file,
                                                       # joined by its "external_id"
    }

The names listed for a field are synonyms (files name the column differently) and
fallbacks: when a file has several of them, a row takes the first non-blank one
(``"sku": ["货号", "商家SKUID"]``). Fields (``ORDER_FIELDS``, ``LINE_FIELDS``):

- order: external_id, status, buyer_name, receiver_name, phone, address_full,
  province, city, district, address_detail, postal_code, paid_amount, shipping_fee,
  goods_amount, total_amount (goods + shipping before discounts), discount,
  seller_discount, platform_discount, placed_at, paid_at, buyer_note, seller_note,
  closed_reason, tracking_number, carrier, shop_name, item_summary, item_count,
  item_kinds (an order report without items: one kind of item becomes one line
  titled item_summary, its SKU left for the importer to map by title).
- line: sku, title, spec, product_id, quantity, unit_price, line_amount (price × quantity,
  used when there is no unit price).

Order fields are taken from the first row of an order. Statuses map to "unpaid",
"paid", "shipped", "completed" or "closed"; a value not in ``statuses`` rejects the row
(``unknown_status``), never guessed.

Amounts: ``discounts`` is the sum of the discount columns. A platform without discount
columns gets ``max(total − paid, 0)`` (total = ``total_amount``, else the file's goods
amount + shipping; nothing when the file states neither),
so its check compares the lines with the goods amount. The check (``amount_mismatch``):
paid = Σ(unit price × quantity) + shipping − discounts, skipped when lines have no price
or nothing was paid yet.
"""

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal

from orders.adapters.marketplace_files import (
    CellError,
    MarketplaceFileError,
    Table,
    cell_datetime,
    cell_money,
    cell_quantity,
    cell_text,
    header_key,
    open_table,
)

STATUSES = ("unpaid", "paid", "shipped", "completed", "closed")

MONEY_FIELDS = frozenset(
    {
        "paid_amount",
        "shipping_fee",
        "goods_amount",
        "total_amount",
        "discount",
        "seller_discount",
        "platform_discount",
        "unit_price",
        "line_amount",
    }
)
DATETIME_FIELDS = frozenset({"placed_at", "paid_at"})
QUANTITY_FIELDS = frozenset({"quantity", "item_count", "item_kinds"})
ORDER_FIELDS = (
    "external_id",
    "status",
    "buyer_name",
    "receiver_name",
    "phone",
    "address_full",
    "province",
    "city",
    "district",
    "address_detail",
    "postal_code",
    "paid_amount",
    "shipping_fee",
    "goods_amount",
    "total_amount",
    "discount",
    "seller_discount",
    "platform_discount",
    "placed_at",
    "paid_at",
    "buyer_note",
    "seller_note",
    "closed_reason",
    "tracking_number",
    "carrier",
    "shop_name",
    "item_summary",
    "item_count",
    "item_kinds",
)
LINE_FIELDS = (
    "sku",
    "title",
    "spec",
    "product_id",
    "quantity",
    "unit_price",
    "line_amount",
)
DISCOUNT_FIELDS = ("discount", "seller_discount", "platform_discount")
# Order fields taken from the file as they are; the rest are worked out in _order.
COPIED_FIELDS = tuple(
    name
    for name in ORDER_FIELDS
    if name
    not in (
        "external_id",
        "status",
        "shipping_fee",
        "total_amount",
        "item_count",
        "item_kinds",
        *DISCOUNT_FIELDS,
    )
)
MASKABLE_FIELDS = ("receiver_name", "phone", "address_full", "address_detail")

TAOBAO = {
    "platform": "taobao",
    "name": "淘宝/天猫 订单报表",
    "rows": "order",
    "columns": {
        "external_id": ["订单编号"],
        "status": ["订单状态"],
        "buyer_name": ["买家会员名"],
        "receiver_name": ["收货人姓名"],
        "phone": ["联系手机", "联系电话"],
        "address_full": ["修改后的收货地址", "收货地址"],
        "goods_amount": ["买家应付货款"],
        "shipping_fee": ["买家应付邮费"],
        "total_amount": ["总金额"],
        "paid_amount": ["买家实际支付金额", "买家实付金额"],
        "placed_at": ["订单创建时间", "买家下单时间"],
        "paid_at": ["订单付款时间", "买家付款时间"],
        "buyer_note": ["买家留言"],
        "seller_note": ["订单备注"],
        "closed_reason": ["订单关闭原因"],
        "tracking_number": ["物流单号", "运单号"],
        "carrier": ["物流公司"],
        "shop_name": ["店铺名称"],
        "item_summary": ["宝贝标题"],
        "item_count": ["宝贝总数量"],
        "item_kinds": ["宝贝种类"],
    },
    "required": [
        "external_id",
        "status",
        "receiver_name",
        "address_full",
        "paid_amount",
    ],
    "statuses": {
        "等待买家付款": "unpaid",
        "买家已付款，等待卖家发货": "paid",
        "卖家已发货，等待买家确认": "shipped",
        "交易成功": "completed",
        "交易关闭": "closed",
    },
    "items": {
        "columns": {
            "external_id": ["主订单编号", "订单编号"],
            "sku": ["商家编码", "外部系统编号"],
            "title": ["标题"],
            "spec": ["商品属性", "套餐信息"],
            "quantity": ["购买数量"],
            "unit_price": ["价格"],
        },
        "required": ["external_id", "title", "quantity", "unit_price"],
    },
}

JD = {
    "platform": "jd",
    "name": "京东",
    "rows": "line",
    "columns": {
        "external_id": ["订单号"],
        "status": ["订单状态"],
        "buyer_name": ["下单帐号", "下单账号"],
        "receiver_name": ["客户姓名"],
        "phone": ["联系电话"],
        "address_full": ["客户地址"],
        "goods_amount": ["订单金额"],
        "paid_amount": ["应付金额"],
        "shipping_fee": ["运费金额"],
        "placed_at": ["下单时间"],
        "paid_at": ["付款确认时间"],
        "buyer_note": ["订单备注"],
        "seller_note": ["商家备注"],
        "sku": ["货号", "商家SKUID"],
        "product_id": ["商品ID"],
        "title": ["商品名称"],
        "quantity": ["订购数量"],
        "unit_price": ["京东价"],
    },
    "required": ["external_id", "status", "title", "quantity", "unit_price"],
    "statuses": {
        "等待付款": "unpaid",
        "待付款": "unpaid",
        "未付款": "unpaid",
        "等待出库": "paid",
        "等待发货": "paid",
        "待发货": "paid",
        "已出库": "shipped",
        "已发货": "shipped",
        "等待确认收货": "shipped",
        "完成": "completed",
        "已完成": "completed",
        "已签收": "completed",
        "交易成功": "completed",
        "已取消": "closed",
        "取消": "closed",
        "锁定": "closed",
        "交易关闭": "closed",
    },
}

PINDUODUO = {
    "platform": "pinduoduo",
    "name": "拼多多",
    "rows": "line",
    "columns": {
        "external_id": ["订单号"],
        "status": ["订单状态"],
        "placed_at": ["订单成交时间"],
        "paid_at": ["支付时间"],
        "title": ["商品"],
        "product_id": ["商品id"],
        "spec": ["商品规格"],
        "sku": ["商家编码-规格维度", "商家编码-SKU维度", "商家编码-商品维度"],
        "quantity": ["商品数量(件)"],
        "line_amount": ["商品总价(元)"],
        "shipping_fee": ["邮费(元)"],
        "seller_discount": ["店铺优惠折扣(元)"],
        "platform_discount": ["平台优惠折扣(元)"],
        "paid_amount": ["用户实付金额(元)"],
        "seller_note": ["商家备注"],
        "tracking_number": ["快递单号"],
        "carrier": ["快递公司"],
        "receiver_name": ["收货人"],
        "phone": ["手机"],
        "province": ["省"],
        "city": ["市"],
        "district": ["区"],
        "address_detail": ["详细地址", "街道"],
    },
    "required": ["external_id", "status", "quantity", "paid_amount"],
    "statuses": {
        "待付款": "unpaid",
        "未付款": "unpaid",
        "待发货": "paid",
        "未发货": "paid",
        "已发货，待签收": "shipped",
        "已发货": "shipped",
        "待收货": "shipped",
        "已签收": "completed",
        "已收货": "completed",
        "交易成功": "completed",
        "已取消": "closed",
        "交易关闭": "closed",
        "未发货，退款成功": "closed",
        "已发货，退款成功": "closed",
    },
}

BUILT_IN = {"taobao": TAOBAO, "jd": JD, "pinduoduo": PINDUODUO}
PLATFORM_ALIASES = {"tmall": "taobao", "jingdong": "jd", "pdd": "pinduoduo"}


# --- records ----------------------------------------------------------------------


@dataclass(slots=True)
class Problem:
    """Something the import should flag on the order; the order is still taken."""

    code: str  # "masked", "amount_mismatch", "no_lines", "sku_missing"
    field: str
    message: str
    row: int = 0


@dataclass(slots=True)
class RowError:
    """A rejected row: no order is taken from it."""

    row: int
    field: str
    code: str
    message: str
    file: str = ""  # "" for the orders file, "items" for a Taobao 宝贝报表


@dataclass(slots=True)
class MarketplaceLine:
    sku: str
    title: str
    quantity: int
    unit_price: Decimal | None
    spec: str = ""
    product_id: str = ""
    row: int = 0

    @property
    def line_total(self) -> Decimal | None:
        return None if self.unit_price is None else self.unit_price * self.quantity


@dataclass(slots=True)
class MarketplaceOrder:
    """One order as the platform exported it, in our words and types."""

    platform: str
    external_id: str
    status: str  # one of STATUSES
    raw_status: str = ""
    buyer_name: str = ""
    receiver_name: str = ""
    phone: str = ""
    # The whole address as exported (修改后的收货地址 when the buyer changed it);
    # the parts only when the platform exports them separately.
    address_full: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    address_detail: str = ""
    postal_code: str = ""
    paid_amount: Decimal | None = None
    shipping_fee: Decimal = Decimal("0.00")
    goods_amount: Decimal | None = None
    discounts: Decimal = Decimal("0.00")
    placed_at: datetime | None = None  # aware, China time
    paid_at: datetime | None = None
    buyer_note: str = ""
    seller_note: str = ""
    closed_reason: str = ""
    tracking_number: str = ""
    carrier: str = ""
    shop_name: str = ""
    item_summary: str = ""  # 宝贝标题 of a Taobao order report without items file
    lines: list[MarketplaceLine] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    source_rows: list[int] = field(default_factory=list)

    def address_parts(self) -> dict:
        """Return the address fields as ``OrderInput.address`` takes them."""
        return {
            "province": self.province,
            "city": self.city,
            "district": self.district,
            "address_detail": self.address_detail,
            "postal_code": self.postal_code,
        }

    def as_dict(self) -> dict:
        """Return the order as JSON-ready data (amounts and times as strings)."""
        return jsonable(asdict(self))


def jsonable(value):
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# --- mappings ---------------------------------------------------------------------


def mapping_validate(mapping: dict) -> dict:
    """Return the mapping if it is usable; raise MarketplaceFileError naming what is wrong."""
    problems = []
    for key in ("platform", "columns", "statuses"):
        if not mapping.get(key):
            problems.append(f"“{key}” is missing")
    if mapping.get("rows", "line") not in ("line", "order"):
        problems.append("“rows” must be “line” or “order”")
    known = set(ORDER_FIELDS) | set(LINE_FIELDS)
    sections = [mapping] + ([mapping["items"]] if mapping.get("items") else [])
    for section in sections:
        columns = section.get("columns") or {}
        unknown = sorted(set(columns) - known)
        if unknown:
            problems.append(f"unknown fields: {', '.join(unknown)}")
        for name, headers in columns.items():
            if not isinstance(headers, list) or not all(
                isinstance(h, str) for h in headers
            ):
                problems.append(f"“{name}” must list header names")
        missing = sorted(set(section.get("required", ())) - set(columns))
        if missing:
            problems.append(f"required fields without columns: {', '.join(missing)}")
        if "external_id" not in columns:
            problems.append("“external_id” needs a column")
    bad = sorted(
        {v for v in (mapping.get("statuses") or {}).values() if v not in STATUSES}
    )
    if bad:
        problems.append(f"statuses must map to {', '.join(STATUSES)}, not {bad}")
    if problems:
        raise MarketplaceFileError("Bad column mapping: " + "; ".join(problems) + ".")
    return mapping


class _Columns:
    """A mapping section resolved against one file's headers."""

    def __init__(self, columns: dict, headers: list[str]):
        index = {}
        for position, name in enumerate(headers):
            index.setdefault(name, position)
        self.present: dict[str, list[int]] = {}
        for name, accepted in columns.items():
            found = [index[h] for h in map(header_key, accepted) if h in index]
            if found:
                self.present[name] = found
        self.readers = []
        for name, positions in self.present.items():
            if name in MONEY_FIELDS:
                parse = cell_money
            elif name in DATETIME_FIELDS:
                parse = cell_datetime
            elif name in QUANTITY_FIELDS:
                parse = cell_quantity
            else:
                parse = cell_text
            self.readers.append((name, parse, positions[0], positions[1:]))

    def read(self, cells) -> tuple[dict, list[tuple[str, CellError]]]:
        values = {}
        errors = []
        for name, parse, first, others in self.readers:
            raw = cells[first]
            for position in others:
                if cell_text(raw):
                    break
                raw = cells[position]
            try:
                values[name] = parse(raw)
            except CellError as exc:
                errors.append((name, exc))
        return values, errors


def _missing_headers(section: dict, headers: list[str]) -> list[str]:
    present = set(headers)
    return [
        " / ".join(section["columns"][name])
        for name in section.get("required", ())
        if not any(header_key(h) in present for h in section["columns"][name])
    ]


def platform_detect(headers: list[str]) -> dict | None:
    """Return the built-in mapping whose columns the headers fit best, or None."""
    best, best_score = None, 0
    present = set(headers)
    for mapping in BUILT_IN.values():
        if _missing_headers(mapping, headers):
            continue
        score = sum(
            1
            for accepted in mapping["columns"].values()
            if any(header_key(h) in present for h in accepted)
        )
        if score > best_score:
            best, best_score = mapping, score
    return best


def _mapping_for(platform: str | None, mapping: dict | None, headers) -> dict:
    if mapping is not None:
        return mapping_validate(mapping)
    if platform:
        code = PLATFORM_ALIASES.get(platform.lower(), platform.lower())
        if code not in BUILT_IN:
            raise MarketplaceFileError(
                f"Unknown platform “{platform}”; known: {', '.join(BUILT_IN)}."
            )
        return BUILT_IN[code]
    detected = platform_detect(headers)
    if detected is not None:
        return detected
    if not _missing_headers(TAOBAO["items"], headers):
        raise MarketplaceFileError(
            "This is a Taobao 宝贝报表 (items); upload it as the items file "
            "together with its 订单报表."
        )
    closest = min(BUILT_IN.values(), key=lambda m: len(_missing_headers(m, headers)))
    raise MarketplaceFileError(
        "Cannot tell which platform exported this file; the closest, "
        f"{closest['name']}, lacks columns: {', '.join(_missing_headers(closest, headers))}."
    )


def _check_headers(section: dict, headers: list[str], what: str):
    missing = _missing_headers(section, headers)
    if missing:
        raise MarketplaceFileError(f"The {what} lacks columns: {', '.join(missing)}.")


# --- reading ----------------------------------------------------------------------


class OrderStream:
    """The records of one export, read lazily: iterate once.

    ``platform`` is known as soon as the stream is made; ``rows_read`` counts data rows
    read so far, for progress.
    """

    def __init__(self, table: Table, mapping: dict, items_table: Table | None):
        self.platform = mapping["platform"]
        self.mapping = mapping
        self.rows_read = 0
        self._table = table
        self._columns = _Columns(mapping["columns"], table.headers)
        self._statuses = {
            _status_key(raw): status for raw, status in mapping["statuses"].items()
        }
        self._has_lines = any(name in self._columns.present for name in LINE_FIELDS)
        self._needs_quantity = "quantity" in self._columns.present
        self._items_table = items_table
        self._iterator = self._records()

    def __iter__(self):
        return self

    def __next__(self) -> "MarketplaceOrder | RowError":
        return next(self._iterator)

    def _records(self) -> Iterator["MarketplaceOrder | RowError"]:
        items, item_errors, item_rows_of = {}, {}, {}
        if self._items_table is not None:
            items, item_errors, item_rows_of, early = self._read_items()
            yield from early
        seen = set()
        group: list = []
        # Rows without an id are reported after the order around them, keeping
        # the records in row order when such a row sits between two orders.
        waiting: list[RowError] = []
        key = None
        one_row_per_order = self.mapping.get("rows", "line") == "order"
        for number, cells in self._table.rows:
            self.rows_read += 1
            values, errors = self._columns.read(cells)
            external_id = values.get("external_id", "")
            if not external_id:
                waiting.append(
                    RowError(
                        number, "external_id", "missing_id", "The order id is empty."
                    )
                )
                continue
            if external_id != key:
                if group:
                    yield from self._finish(group, items, item_errors, item_rows_of)
                yield from waiting
                waiting.clear()
                group, key = [], external_id
                if external_id in seen:
                    yield self._duplicate(number, external_id)
                    continue
                seen.add(external_id)
            elif one_row_per_order or not group:
                yield self._duplicate(number, external_id)
                continue
            group.append((number, values, errors))
        if group:
            yield from self._finish(group, items, item_errors, item_rows_of)
        yield from waiting
        for external_id, rows in item_rows_of.items():
            if external_id not in seen:
                for row in rows:
                    yield RowError(
                        row,
                        "external_id",
                        "item_without_order",
                        f"Items file: order {external_id} is not in the orders file.",
                        file="items",
                    )

    @staticmethod
    def _duplicate(number, external_id) -> RowError:
        return RowError(
            number,
            "external_id",
            "duplicate_order",
            f"Order {external_id} already appeared earlier in the file.",
        )

    def _read_items(self):
        section = self.mapping["items"]
        columns = _Columns(section["columns"], self._items_table.headers)
        items: dict[str, list[MarketplaceLine]] = {}
        errors: dict[str, list[RowError]] = {}
        rows_of: dict[str, list[int]] = {}
        early = []
        for number, cells in self._items_table.rows:
            values, cell_errors = columns.read(cells)
            external_id = values.get("external_id", "")
            if not external_id:
                early.append(
                    RowError(
                        number,
                        "external_id",
                        "missing_id",
                        "Items file: the order id is empty.",
                        file="items",
                    )
                )
                continue
            rows_of.setdefault(external_id, []).append(number)
            row_errors = [
                RowError(number, name, exc.code, f"Items file: {exc.message}", "items")
                for name, exc in cell_errors
            ]
            line = None if row_errors else _line(values, number)
            if line is None and not row_errors:
                row_errors.append(
                    RowError(
                        number,
                        "quantity",
                        "bad_quantity",
                        "Items file: the quantity is empty.",
                        file="items",
                    )
                )
            if row_errors:
                errors.setdefault(external_id, []).extend(row_errors)
            else:
                items.setdefault(external_id, []).append(line)
        return items, errors, rows_of, early

    def _finish(self, group, items, item_errors, item_rows_of):
        """Yield the order built from its rows, or the errors that reject it."""
        errors = []
        for number, values, cell_errors in group:
            errors.extend(
                RowError(number, name, exc.code, exc.message)
                for name, exc in cell_errors
            )
            raw_status = values.get("status", "")
            if "status" in self._columns.present and (
                _status_key(raw_status) not in self._statuses
            ):
                errors.append(
                    RowError(
                        number,
                        "status",
                        "unknown_status",
                        f"Unknown order status “{raw_status}”."
                        if raw_status
                        else "The order status is empty.",
                    )
                )
            if (
                self._needs_quantity
                and values.get("quantity") is None
                and all(name != "quantity" for name, _exc in cell_errors)
            ):
                errors.append(
                    RowError(
                        number, "quantity", "bad_quantity", "The quantity is empty."
                    )
                )
        external_id = group[0][1]["external_id"]
        errors.extend(item_errors.get(external_id, ()))
        if errors:
            bad_rows = sorted({error.row for error in errors if not error.file})
            item_rows = sorted({error.row for error in errors if error.file})
            bad = ", ".join(
                [f"row {row}" for row in bad_rows]
                + [f"items file row {row}" for row in item_rows]
            )
            errors.extend(
                RowError(
                    number,
                    "",
                    "order_has_errors",
                    f"Order {external_id} was not taken: see {bad}.",
                )
                for number, _values, _errors in group
                if number not in bad_rows
            )
            yield from sorted(errors, key=lambda error: (bool(error.file), error.row))
            return
        yield self._order(group, items.get(external_id))

    def _order(self, group, item_lines) -> MarketplaceOrder:
        first = group[0][1]
        raw_status = first.get("status", "")
        order = MarketplaceOrder(
            platform=self.platform,
            external_id=first["external_id"],
            status=self._statuses.get(_status_key(raw_status), ""),
            raw_status=raw_status,
            source_rows=[number for number, _values, _errors in group],
        )
        for name in COPIED_FIELDS:
            value = first.get(name)
            if value is not None and value != "":
                setattr(order, name, value)
        order.shipping_fee = first.get("shipping_fee") or Decimal("0.00")
        if order.tracking_number.startswith("No:"):
            order.tracking_number = order.tracking_number[3:].strip()
        if order.address_full and not order.postal_code:
            order.postal_code = _postal_code(order.address_full)
        row = group[0][0]

        if self._has_lines:
            for number, values, _errors in group:
                order.lines.append(_line(values, number))
        elif item_lines:
            order.lines.extend(item_lines)
        elif first.get("item_kinds") == 1 and first.get("item_count"):
            # A Taobao 订单报表 alone: one kind of item is one line, its title the
            # listing's, its price the goods amount over the count.
            order.lines.append(_summary_line(order, first, row=group[0][0]))
        if order.goods_amount is None and order.lines:
            amounts = [line.line_total for line in order.lines]
            if None not in amounts:
                order.goods_amount = sum(amounts, Decimal("0.00"))
        order.discounts = _discounts(order, first, self._columns.present)
        _flag_problems(order, row)
        return order


def _status_key(raw: str) -> str:
    return raw.replace(",", "，").replace(" ", "")


_POSTAL = re.compile(r"[(（](\d{6})[)）]\s*$")


def _postal_code(address: str) -> str:
    match = _POSTAL.search(address)
    return match.group(1) if match else ""


def _line(values: dict, number: int) -> MarketplaceLine | None:
    quantity = values.get("quantity")
    if quantity is None:
        return None
    unit_price = values.get("unit_price")
    amount = values.get("line_amount")
    if unit_price is None and amount is not None:
        unit_price = (amount / quantity).quantize(Decimal("0.01"))
    return MarketplaceLine(
        sku=values.get("sku", ""),
        title=values.get("title", ""),
        quantity=quantity,
        unit_price=unit_price,
        spec=values.get("spec", ""),
        product_id=values.get("product_id", ""),
        row=number,
    )


def _summary_line(order: MarketplaceOrder, first: dict, row: int) -> MarketplaceLine:
    count = first["item_count"]
    goods = order.goods_amount
    return MarketplaceLine(
        sku="",
        title=order.item_summary,
        quantity=count,
        unit_price=None if goods is None else (goods / count).quantize(Decimal("0.01")),
        row=row,
    )


def _discounts(order: MarketplaceOrder, first: dict, present) -> Decimal:
    if any(name in present for name in DISCOUNT_FIELDS):
        return sum(
            (first.get(name) or Decimal("0.00") for name in DISCOUNT_FIELDS),
            Decimal("0.00"),
        )
    # Only amounts the file states explain a difference; a goods amount summed from
    # the lines would make every order add up.
    total = first.get("total_amount")
    if total is None and first.get("goods_amount") is not None:
        total = first["goods_amount"] + order.shipping_fee
    if total is None or not order.paid_amount:
        return Decimal("0.00")
    return max(total - order.paid_amount, Decimal("0.00"))


def _flag_problems(order: MarketplaceOrder, row: int):
    for name in MASKABLE_FIELDS:
        if "*" in getattr(order, name):
            order.problems.append(
                Problem("masked", name, "The platform masked this field (****).", row)
            )
    if not order.lines:
        order.problems.append(
            Problem(
                "no_lines",
                "lines",
                "The file lists no items for this order; "
                "for Taobao, upload the 宝贝报表 with the 订单报表.",
                row,
            )
        )
    for line in order.lines:
        if not line.sku:
            order.problems.append(
                Problem("sku_missing", "sku", f"“{line.title}” has no SKU.", line.row)
            )
    amounts = [line.line_total for line in order.lines]
    if order.paid_amount and amounts and None not in amounts:
        expected = sum(amounts, Decimal("0.00")) + order.shipping_fee - order.discounts
        if expected != order.paid_amount:
            order.problems.append(
                Problem(
                    "amount_mismatch",
                    "paid_amount",
                    f"Paid {order.paid_amount}, but lines {sum(amounts)} + shipping "
                    f"{order.shipping_fee} − discounts {order.discounts} = {expected}.",
                    row,
                )
            )


def read_orders(
    file_obj,
    platform: str | None = None,
    items_file=None,
    mapping: dict | None = None,
) -> OrderStream:
    """Return the stream of orders and rejected rows of one marketplace export.

    ``file_obj``: a binary file (an upload, ``open(path, "rb")``) or a path.
    ``platform``: "taobao", "jd", "pinduoduo"; found from the headers when None.
    ``items_file``: a Taobao 宝贝报表 to join by 订单编号 (or the ``items`` file of a
    custom mapping). ``mapping``: a custom column mapping (see the module docstring).
    Raises MarketplaceFileError when the file cannot be taken at all.
    """
    table = open_table(file_obj)
    chosen = _mapping_for(platform, mapping, table.headers)
    _check_headers(
        chosen, table.headers, f"{chosen.get('name', chosen['platform'])} file"
    )
    items_table = None
    if items_file is not None:
        if not chosen.get("items"):
            raise MarketplaceFileError(
                f"{chosen.get('name', chosen['platform'])} exports have no items file."
            )
        items_table = open_table(items_file)
        _check_headers(chosen["items"], items_table.headers, "items file")
    return OrderStream(table, chosen, items_table)
