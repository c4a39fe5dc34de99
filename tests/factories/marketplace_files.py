"""Taobao 订单报表 files written in tests, as the seller centre exports them (GBK, guards)."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile

TAOBAO_HEADERS = [
    "订单编号",
    "买家会员名",
    "买家应付货款",
    "买家应付邮费",
    "总金额",
    "买家实际支付金额",
    "订单状态",
    "收货人姓名",
    "收货地址",
    "联系手机",
    "订单创建时间",
    "订单付款时间",
    "宝贝标题",
    "宝贝种类",
    "宝贝总数量",
    "订单关闭原因",
]
PAID = "买家已付款，等待卖家发货"
UNPAID = "等待买家付款"
CLOSED = "交易关闭"
SHIPPED = "卖家已发货，等待买家确认"
ADDRESS = "广东省 深圳市 南山区 科技园路1号(518057)"


def taobao_row(external_id, *, status=PAID, title="红茶礼盒", count=2, **cells):
    row = {
        "订单编号": f'="{external_id}"',
        "买家会员名": "tb_buyer",
        "买家应付货款": "120.00元",
        "买家应付邮费": "0.00",
        "总金额": "120.00",
        "买家实际支付金额": "110.00",
        "订单状态": status,
        "收货人姓名": "张三",
        "收货地址": ADDRESS,
        "联系手机": "'13800138000",
        "订单创建时间": "2026-05-17 12:30:45",
        "订单付款时间": "2026-05-17 12:31:02" if status != UNPAID else "",
        "宝贝标题": title,
        "宝贝种类": "1",
        "宝贝总数量": str(count),
        "订单关闭原因": "",
    }
    row.update(cells)
    return row


def taobao_file(rows, name="ExportOrderList.csv", encoding="gbk"):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=TAOBAO_HEADERS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, text.getvalue().encode(encoding))
