import io
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from orders.adapters.marketplace_files import (
    MARKETPLACE_TZ,
    CellError,
    MarketplaceFileError,
    cell_datetime,
    cell_money,
    cell_quantity,
    cell_text,
    open_table,
    sniff_encoding,
)
from orders.adapters.marketplaces import (
    MarketplaceLine,
    MarketplaceOrder,
    Problem,
    RowError,
    read_orders,
)
from tests.fixtures.marketplaces import make

FIXTURES = Path(make.__file__).resolve().parent


def fixture(name):
    return (FIXTURES / name).open("rb")


def records(stream):
    items = list(stream)
    orders = {r.external_id: r for r in items if isinstance(r, MarketplaceOrder)}
    errors = [r for r in items if isinstance(r, RowError)]
    return orders, errors


def codes(order):
    return [problem.code for problem in order.problems]


def csv_bytes(rows, encoding="utf-8"):
    return io.BytesIO(make.raw_csv(rows).encode(encoding))


# --- cells ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ('="3391234567890123456"', "3391234567890123456"),
        ("=12345", "12345"),
        ("'13800138000", "13800138000"),
        ("\t3391234567890123463\t", "3391234567890123463"),
        ("  王小明\u3000", "王小明"),
        (None, ""),
        (4002.0, "4002"),
        (13800138006, "13800138006"),
    ],
)
def test_cell_text_removes_spreadsheet_guards_and_whitespace(raw, expected):
    assert cell_text(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("59.00元", Decimal("59.00")),
        ("¥1,299.00", Decimal("1299.00")),
        ("￥1,299", Decimal("1299.00")),
        ('="12.5"', Decimal("12.50")),
        (" 8 元 ", Decimal("8.00")),
        (59.9, Decimal("59.90")),
        (0.1, Decimal("0.10")),
        (7, Decimal("7.00")),
        ("", None),
    ],
)
def test_cell_money_reads_amounts_as_two_place_decimals(raw, expected):
    value = cell_money(raw)
    assert value == expected
    assert value is None or (isinstance(value, Decimal) and value.as_tuple()[2] == -2)


@pytest.mark.parametrize("raw", ["12..3元", "abc", "NaN", "Infinity", "1e5"])
def test_cell_money_refuses_what_is_not_an_amount(raw):
    with pytest.raises(CellError) as caught:
        cell_money(raw)
    assert caught.value.code == "bad_amount"


@pytest.mark.parametrize("raw, expected", [("3", 3), (" 2 ", 2), (3.0, 3), ("1.0", 1)])
def test_cell_quantity_reads_whole_numbers(raw, expected):
    assert cell_quantity(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "1.5", 2.5])
def test_cell_quantity_refuses_anything_but_a_positive_whole_number(raw):
    with pytest.raises(CellError) as caught:
        cell_quantity(raw)
    assert caught.value.code == "bad_quantity"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2026-05-17 12:30:45", datetime(2026, 5, 17, 12, 30, 45)),
        ("2026/5/17 12:30", datetime(2026, 5, 17, 12, 30)),
        ("2026-05-17", datetime(2026, 5, 17)),
        (datetime(2026, 5, 17, 12, 30), datetime(2026, 5, 17, 12, 30)),
    ],
)
def test_cell_datetime_gives_aware_china_time(raw, expected):
    assert cell_datetime(raw) == expected.replace(tzinfo=MARKETPLACE_TZ)
    assert cell_datetime(raw).utcoffset().total_seconds() == 8 * 3600


def test_cell_datetime_refuses_an_impossible_date():
    with pytest.raises(CellError) as caught:
        cell_datetime("2026-02-30 10:00:00")
    assert caught.value.code == "bad_date"


# --- files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding, expected",
    [("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030")],
)
def test_encoding_is_found_from_the_content(encoding, expected):
    stream = io.BytesIO("订单编号,订单状态\n1,交易成功\n".encode(encoding))
    assert sniff_encoding(stream) == expected


def test_gb18030_characters_outside_gbk_are_read():
    data = "订单号,客户姓名\n1,䶮\n".encode("gb18030")
    table = open_table(io.BytesIO(data))
    assert list(table.rows) == [(2, ["1", "䶮"])]


def test_bytes_that_are_neither_utf8_nor_gb18030_are_a_file_error():
    with pytest.raises(MarketplaceFileError) as caught:
        open_table(io.BytesIO(b"\x81\x30\xff\xff,a\n"))
    assert "neither UTF-8 nor GBK/GB18030" in str(caught.value)


def test_xlsx_is_recognised_by_content_whatever_the_file_is_called(tmp_path):
    disguised = tmp_path / "export.csv"
    disguised.write_bytes((FIXTURES / "pdd_orders.xlsx").read_bytes())
    table = open_table(disguised)
    assert table.format == "xlsx"
    assert table.headers[:3] == ["商品", "订单号", "订单状态"]


def test_old_xls_and_html_exports_are_refused_with_advice():
    with pytest.raises(MarketplaceFileError, match=r"\.xls files cannot be read"):
        open_table(io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"))
    with pytest.raises(MarketplaceFileError, match="web page"):
        open_table(io.BytesIO(b"<html><table></table></html>"))


def test_a_stream_that_cannot_seek_is_still_read():
    class Pipe:
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def read(self, size=-1):
            return self._data.read(size)

        def seekable(self):
            return False

    data = (FIXTURES / "jd_orders.csv").read_bytes()
    orders, _errors = records(read_orders(Pipe(data)))
    assert "300001" in orders


# --- Taobao -----------------------------------------------------------------------


def test_taobao_gbk_report_is_read_with_guards_removed():
    stream = read_orders(fixture("taobao_orders_gbk.csv"))
    orders, _errors = records(stream)
    order = orders["3391234567890123456"]
    assert stream.platform == "taobao"
    assert order.status == "paid"
    assert order.raw_status == "买家已付款，等待卖家发货"
    assert order.phone == "13800138000"
    assert order.receiver_name == "王小明"
    assert order.buyer_name == "tb_小王"
    assert order.buyer_note == "请发顺丰, 谢谢"
    assert order.paid_amount == Decimal("59.00")
    assert order.goods_amount == Decimal("59.00")
    assert order.shipping_fee == Decimal("0.00")
    assert order.placed_at == datetime(2026, 5, 17, 12, 30, 45, tzinfo=MARKETPLACE_TZ)
    assert order.paid_at == datetime(2026, 5, 17, 12, 31, 2, tzinfo=MARKETPLACE_TZ)
    assert order.source_rows == [2]


def test_taobao_address_is_kept_whole_with_its_postcode_taken_out():
    orders, _errors = records(read_orders(fixture("taobao_orders_gbk.csv")))
    order = orders["3391234567890123456"]
    assert order.address_full == "吉林省 通化市 柳河县 某某镇某某路12号(135300)"
    assert order.postal_code == "135300"
    assert order.province == ""  # splitting is orders.addresses' job


def test_taobao_modified_address_wins_over_the_original():
    orders, _errors = records(read_orders(fixture("taobao_orders_gbk.csv")))
    order = orders["3391234567890123458"]
    assert order.address_full == "广东省 深圳市 南山区 科技园路1号(518057)"
    assert order.postal_code == "518057"


def test_taobao_phone_falls_back_to_the_landline_and_money_drops_symbols():
    orders, _errors = records(read_orders(fixture("taobao_orders_gbk.csv")))
    order = orders["3391234567890123458"]
    assert order.phone == "0755-86001234"
    assert order.paid_amount == Decimal("1299.00")
    assert order.tracking_number == "YT1234567890"
    assert order.carrier == "圆通速递"
    assert order.status == "shipped"


def test_taobao_statuses_are_mapped_and_closed_reason_kept():
    orders, _errors = records(read_orders(fixture("taobao_orders_gbk.csv")))
    assert orders["3391234567890123457"].status == "unpaid"
    assert orders["3391234567890123457"].paid_at is None
    assert orders["3391234567890123463"].status == "completed"
    closed = orders["3391234567890123461"]
    assert closed.status == "closed"
    assert closed.closed_reason == "买家不想买了"


def test_a_note_over_two_lines_counts_as_one_spreadsheet_row():
    orders, errors = records(read_orders(fixture("taobao_orders_gbk.csv")))
    assert orders["3391234567890123461"].buyer_note == "第一行\n第二行"
    assert orders["3391234567890123461"].source_rows == [7]
    assert [e.row for e in errors if e.code == "bad_amount"] == [8]


def test_taobao_bad_rows_are_rejected_with_their_row_numbers():
    stream = read_orders(fixture("taobao_orders_gbk.csv"))
    orders, errors = records(stream)
    assert [(e.row, e.field, e.code, e.message) for e in errors] == [
        (5, "external_id", "missing_id", "The order id is empty."),
        (6, "status", "unknown_status", "Unknown order status “卖家部分发货”."),
        (8, "paid_amount", "bad_amount", "“12..3元” is not an amount."),
        (
            10,
            "external_id",
            "duplicate_order",
            "Order 3391234567890123456 already appeared earlier in the file.",
        ),
    ]
    assert len(orders) == 5
    assert stream.rows_read == 9


def test_taobao_report_without_items_file_reads_one_kind_of_item_as_one_line():
    orders, _errors = records(read_orders(fixture("taobao_orders_gbk.csv")))
    order = orders["3391234567890123456"]
    assert order.lines == [
        MarketplaceLine(
            sku="",
            title="纯棉T恤 红色 M",
            quantity=1,
            unit_price=Decimal("59.00"),
            row=2,
        )
    ]
    assert codes(order) == ["sku_missing"]


def test_taobao_report_without_items_or_item_kinds_flags_the_missing_lines():
    orders, _errors = records(read_orders(fixture("taobao_orders_bom.csv")))
    order = orders["1001"]
    assert order.lines == []
    assert codes(order) == ["no_lines"]


def test_taobao_items_file_is_joined_by_order_id():
    orders, _errors = records(
        read_orders(
            fixture("taobao_orders_bom.csv"),
            items_file=fixture("taobao_items_bom.csv"),
        )
    )
    order = orders["1001"]
    assert order.lines == [
        MarketplaceLine(
            sku="TS-RED-M",
            title="纯棉T恤",
            quantity=2,
            unit_price=Decimal("50.00"),
            spec="颜色:红;尺码:M",
            row=3,
        ),
        MarketplaceLine(
            sku="MUG-01",  # 商家编码 is blank: 外部系统编号 is used
            title="马克杯",
            quantity=1,
            unit_price=Decimal("50.00"),
            spec="颜色:白",
            row=4,
        ),
    ]
    # 160 total, 150 paid: 10 of discounts, and the lines add up.
    assert order.discounts == Decimal("10.00")
    assert order.problems == []


def test_lines_that_do_not_add_up_to_the_paid_amount_are_flagged_not_rejected():
    orders, _errors = records(
        read_orders(
            fixture("taobao_orders_bom.csv"),
            items_file=fixture("taobao_items_bom.csv"),
        )
    )
    assert orders["1002"].problems == [
        Problem(
            "amount_mismatch",
            "paid_amount",
            "Paid 99.00, but lines 89.00 + shipping 0.00 − discounts 0.00 = 89.00.",
            3,
        )
    ]


def test_a_bad_item_rejects_its_order_and_unmatched_items_are_reported():
    orders, errors = records(
        read_orders(
            fixture("taobao_orders_bom.csv"),
            items_file=fixture("taobao_items_bom.csv"),
        )
    )
    assert "1003" not in orders
    assert codes(orders["1004"]) == ["no_lines"]
    assert [(e.file, e.row, e.code, e.message) for e in errors] == [
        ("", 4, "order_has_errors", "Order 1003 was not taken: see items file row 5."),
        ("items", 5, "bad_quantity", "Items file: “abc” is not a whole number."),
        (
            "items",
            6,
            "item_without_order",
            "Items file: order 9999 is not in the orders file.",
        ),
    ]


def test_taobao_newer_xlsx_headers_are_accepted_as_synonyms():
    stream = read_orders(fixture("taobao_orders_new.xlsx"))
    orders, errors = records(stream)
    assert stream.platform == "taobao"
    assert errors == []
    order = orders["4001234567890123456"]
    assert order.paid_amount == Decimal("59.90")
    assert order.tracking_number == "SF1234567890"
    assert order.placed_at == datetime(2026, 5, 17, 12, 30, 45, tzinfo=MARKETPLACE_TZ)
    assert order.paid_at == datetime(2026, 5, 17, 12, 31, tzinfo=MARKETPLACE_TZ)


def test_xlsx_numbers_become_exact_decimals_and_text_and_rows_skip_blanks():
    orders, _errors = records(read_orders(fixture("taobao_orders_new.xlsx")))
    order = orders["4002"]
    assert (order.goods_amount, order.shipping_fee, order.paid_amount) == (
        Decimal("0.10"),
        Decimal("0.20"),
        Decimal("0.30"),
    )
    assert order.phone == "13800138006"
    assert order.source_rows == [4]  # row 3 is blank in the sheet


# --- JD ---------------------------------------------------------------------------


def test_jd_rows_of_one_order_are_grouped_into_lines():
    stream = read_orders(fixture("jd_orders.csv"))
    orders, _errors = records(stream)
    order = orders["300001"]
    assert stream.platform == "jd"
    assert order.source_rows == [2, 3, 4]
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("TS-RED-M", 2, Decimal("49.00")),
        ("100012345", 1, Decimal("99.00")),  # no 货号: 商家SKUID
        ("STK-1", 1, Decimal("50.00")),
    ]
    assert order.status == "paid"
    assert order.shipping_fee == Decimal("5.00")
    assert order.paid_amount == Decimal("252.00")
    assert order.receiver_name == "钱九"
    assert order.address_full == "北京市 朝阳区 三环到四环之间 建国路88号"
    assert order.problems == []


def test_jd_bad_row_rejects_its_whole_order_and_names_every_row():
    orders, errors = records(read_orders(fixture("jd_orders.csv")))
    assert "300002" not in orders
    assert "300003" not in orders
    assert [(e.row, e.field, e.code, e.message) for e in errors] == [
        (5, "", "order_has_errors", "Order 300002 was not taken: see row 6."),
        (6, "quantity", "bad_quantity", "“abc” is not a whole number."),
        (7, "status", "unknown_status", "Unknown order status “暂停”."),
    ]


def test_jd_slash_dates_and_seller_notes_are_read():
    orders, _errors = records(read_orders(fixture("jd_orders.csv")))
    order = orders["300004"]
    assert order.status == "completed"
    assert order.placed_at == datetime(2026, 5, 17, 12, 30, tzinfo=MARKETPLACE_TZ)
    assert order.seller_note == "老客户"


def test_an_order_id_coming_back_after_another_order_is_a_duplicate():
    rows = make.jd_rows()
    rows.append(rows[1])  # 300001 again, after 300004
    _orders, errors = records(read_orders(csv_bytes(rows)))
    assert (errors[-1].row, errors[-1].code) == (9, "duplicate_order")


# --- Pinduoduo --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pdd_orders.xlsx", "pdd_orders.csv"])
def test_pinduoduo_orders_are_read_from_xlsx_and_csv(name):
    stream = read_orders(fixture(name))
    orders, errors = records(stream)
    assert stream.platform == "pinduoduo"
    order = orders["260517-607198974342269"]
    assert order.status == "shipped"
    assert (order.province, order.city, order.district, order.address_detail) == (
        "浙江省",
        "杭州市",
        "西湖区",
        "文三路100号",
    )
    assert order.address_parts()["district"] == "西湖区"
    assert order.lines[0].sku == "CUP"  # no variant code: the product code
    assert order.tracking_number == "YT9876543210"
    assert orders["260517-607198974342271"].status == "closed"
    assert [(e.row, e.code) for e in errors] == [(4, "bad_quantity"), (5, "missing_id")]


@pytest.mark.parametrize("name", ["pdd_orders.xlsx", "pdd_orders.csv"])
def test_pinduoduo_sku_column_synonyms_are_both_read(name):
    orders, _errors = records(read_orders(fixture(name)))
    assert orders["260517-607198974342268"].lines[0].sku == "TS-RED-M"


def test_pinduoduo_masked_receiver_is_flagged_but_the_order_is_taken():
    orders, _errors = records(read_orders(fixture("pdd_orders.xlsx")))
    order = orders["260517-607198974342268"]
    assert order.receiver_name == "****"
    assert [(p.code, p.field) for p in order.problems] == [
        ("masked", "receiver_name"),
        ("masked", "phone"),
        ("masked", "address_detail"),
    ]


def test_pinduoduo_discounts_add_shop_and_platform_and_unit_price_is_derived():
    orders, _errors = records(read_orders(fixture("pdd_orders.xlsx")))
    order = orders["260517-607198974342268"]
    assert order.discounts == Decimal("5.00")
    assert order.goods_amount == Decimal("39.80")
    assert order.lines[0].unit_price == Decimal("19.90")
    assert order.paid_amount == Decimal("34.80")
    assert "amount_mismatch" not in codes(order)


# --- platforms and mappings -------------------------------------------------------


@pytest.mark.parametrize(
    "name, platform",
    [
        ("taobao_orders_gbk.csv", "taobao"),
        ("taobao_orders_new.xlsx", "taobao"),
        ("jd_orders.csv", "jd"),
        ("pdd_orders.csv", "pinduoduo"),
    ],
)
def test_platform_is_detected_from_the_headers(name, platform):
    assert read_orders(fixture(name)).platform == platform


def test_a_named_platform_is_used_even_with_other_headers_present():
    assert read_orders(fixture("jd_orders.csv"), platform="JD").platform == "jd"


def test_missing_required_headers_are_named_in_the_error():
    data = csv_bytes([["订单编号", "买家会员名", "收货人姓名"], ["1", "a", "b"]])
    with pytest.raises(MarketplaceFileError) as caught:
        read_orders(data, platform="taobao")
    assert str(caught.value) == (
        "The 淘宝/天猫 订单报表 file lacks columns: 订单状态, "
        "修改后的收货地址 / 收货地址, 买家实际支付金额 / 买家实付金额."
    )


def test_an_unrecognised_file_names_the_closest_platform_and_what_it_lacks():
    data = csv_bytes([["订单号", "订单状态", "商品数量(件)"], ["1", "待发货", "1"]])
    with pytest.raises(MarketplaceFileError) as caught:
        read_orders(data)
    assert str(caught.value) == (
        "Cannot tell which platform exported this file; the closest, 拼多多, "
        "lacks columns: 用户实付金额(元)."
    )


def test_an_items_report_uploaded_as_the_orders_file_is_explained():
    with pytest.raises(MarketplaceFileError, match="upload it as the items file"):
        read_orders(fixture("taobao_items_bom.csv"))


def test_full_width_brackets_and_spaces_in_headers_still_match():
    rows = make.pdd_rows()
    rows[0] = [h.replace("(", "（").replace(")", " ）") for h in rows[0]]
    orders, _errors = records(read_orders(csv_bytes(rows)))
    assert orders["260517-607198974342269"].paid_amount == Decimal("30.00")


DOUYIN = {
    "platform": "douyin",
    "name": "抖店",
    "rows": "line",
    "columns": {
        "external_id": ["主订单编号"],
        "status": ["订单状态"],
        "sku": ["商家编码"],
        "title": ["选购商品"],
        "quantity": ["商品数量"],
        "unit_price": ["商品单价"],
        "paid_amount": ["订单应付金额"],
        "receiver_name": ["收件人"],
        "phone": ["收件人手机号"],
        "address_full": ["详细地址"],
        "placed_at": ["订单提交时间"],
    },
    "required": ["external_id", "status", "quantity"],
    "statuses": {"待发货": "paid", "已发货": "shipped", "已完成": "completed"},
}


def test_a_mapping_loaded_from_json_reads_another_platform():
    mapping = json.loads(json.dumps(DOUYIN, ensure_ascii=False))
    data = csv_bytes(
        [
            ["主订单编号", "订单状态", "选购商品", "商家编码", "商品数量", "商品单价"]
            + ["订单应付金额", "收件人", "收件人手机号", "详细地址", "订单提交时间"],
            ["D1", "待发货", "纯棉T恤", "TS-RED-M", "2", "¥49.00", "¥98.00", "郑一"]
            + ["'13600136000", "湖北省武汉市洪山区珞喻路1号", "2026-05-17 10:00:00"],
            ["D1", "待发货", "马克杯", "MUG-01", "1", "¥10.00", "¥98.00", "郑一"]
            + ["'13600136000", "湖北省武汉市洪山区珞喻路1号", "2026-05-17 10:00:00"],
        ],
        encoding="gb18030",
    )
    stream = read_orders(data, mapping=mapping)
    orders, errors = records(stream)
    assert stream.platform == "douyin"
    assert errors == []
    order = orders["D1"]
    assert [(line.sku, line.quantity) for line in order.lines] == [
        ("TS-RED-M", 2),
        ("MUG-01", 1),
    ]
    assert order.phone == "13600136000"
    # Lines of 108 paid as 98, and no column says why.
    assert codes(order) == ["amount_mismatch"]


def test_a_mapping_with_unknown_fields_or_statuses_is_refused():
    bad = {**DOUYIN, "columns": {**DOUYIN["columns"], "colour": ["颜色"]}}
    bad["statuses"] = {"待发货": "waiting"}
    with pytest.raises(MarketplaceFileError) as caught:
        read_orders(csv_bytes([["主订单编号"], ["1"]]), mapping=bad)
    assert str(caught.value) == (
        "Bad column mapping: unknown fields: colour; statuses must map to "
        "unpaid, paid, shipped, completed, closed, not ['waiting']."
    )


def test_orders_serialise_to_json_ready_data():
    orders, _errors = records(read_orders(fixture("jd_orders.csv")))
    data = orders["300004"].as_dict()
    assert data["paid_amount"] == "30.00"
    assert data["placed_at"] == "2026-05-17T12:30:00+08:00"
    assert data["lines"][0]["unit_price"] == "10.00"
    json.dumps(data)


# --- a large file -----------------------------------------------------------------
# How fast it is read is measured by bench/import_speed.py, not here.


def test_a_large_gbk_taobao_file_is_read_row_for_row():
    rows = 20_000
    data = make.taobao_large_csv(rows)
    assert sum(1 for _record in read_orders(io.BytesIO(data))) == rows
