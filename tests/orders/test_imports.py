from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.models import Payment
from inventory.models import StockLevel
from inventory.services import stock_receive
from orders.imports import import_batch_create, import_batch_run, rejection_message
from orders.models import Channel, ChannelListing, ImportBatch, Order, OrderEvent
from tests.factories.inventory import ProductFactory
from tests.factories.marketplace_files import (
    ADDRESS,
    CLOSED,
    SHIPPED,
    UNPAID,
    taobao_file,
    taobao_row,
)
from tests.factories.orders import ChannelFactory

S = Order.Status
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "marketplaces"


@pytest.fixture
def run_import(taobao, staff_user):
    def run(file, *, channel=taobao, items_file=None):
        batch = import_batch_create(
            channel=channel,
            file=file,
            items_file=items_file,
            actor=staff_user,
            queue=False,
        )
        return import_batch_run(batch_id=batch.pk)

    return run


def rejected(batch):
    return [(r.row, r.code) for r in batch.rejections.all()]


def test_a_taobao_export_creates_paid_orders_that_reserve_stock(run_import, tea):
    batch = run_import(taobao_file([taobao_row("T1001")]))

    assert batch.status == ImportBatch.Status.DONE
    assert (batch.created_count, batch.rejected_count) == (1, 0)
    order = Order.objects.get(external_id="T1001")
    assert order.status == S.READY_TO_FULFILL
    assert order.payment_status == Order.PaymentStatus.PAID
    assert order.import_batch == batch
    # The platform priced it: 2 × 60.00 goods, 110.00 paid, so 10.00 discount.
    assert (order.subtotal, order.discount_total, order.total) == (
        Decimal("120.00"),
        Decimal("10.00"),
        Decimal("110.00"),
    )
    assert (order.province, order.city, order.district, order.postal_code) == (
        "广东省",
        "深圳市",
        "南山区",
        "518057",
    )
    assert order.recipient_phone == "+8613800138000"
    payment = Payment.objects.get(order=order)
    assert (payment.method, payment.amount) == (
        Payment.Method.MARKETPLACE,
        Decimal("110.00"),
    )
    level = StockLevel.objects.get(product=tea)
    assert level.reserved == 2


def test_importing_the_same_file_twice_adds_nothing(run_import, tea):
    rows = [taobao_row("T1"), taobao_row("T2", status=UNPAID)]
    run_import(taobao_file(rows))
    counts = (
        Order.objects.count(),
        OrderEvent.objects.count(),
        Payment.objects.count(),
    )

    again = run_import(taobao_file(rows))

    assert (again.created_count, again.updated_count, again.unchanged_count) == (
        0,
        0,
        2,
    )
    assert (
        Order.objects.count(),
        OrderEvent.objects.count(),
        Payment.objects.count(),
    ) == counts


def test_an_order_paid_since_the_last_export_is_marked_paid_and_moves_on(
    run_import, tea
):
    run_import(taobao_file([taobao_row("T1", status=UNPAID)]))
    order = Order.objects.get(external_id="T1")
    assert order.status == S.AWAITING_PAYMENT

    batch = run_import(taobao_file([taobao_row("T1")]))

    order.refresh_from_db()
    assert batch.updated_count == 1
    assert order.status == S.READY_TO_FULFILL
    assert order.payments.get().provider_reference == "taobao:T1"


def test_a_closed_order_in_a_later_export_is_cancelled_and_its_stock_released(
    run_import, tea
):
    run_import(taobao_file([taobao_row("T1")]))
    closed = taobao_row("T1", status=CLOSED, 订单关闭原因="买家不想买了")

    batch = run_import(taobao_file([closed]))

    order = Order.objects.get(external_id="T1")
    assert batch.updated_count == 1
    assert order.status == S.CANCELLED
    assert "买家不想买了" in order.events.get(to_status=S.CANCELLED).message
    assert StockLevel.objects.get(product=tea).reserved == 0


def test_a_changed_address_corrects_the_order_and_is_on_its_timeline(run_import, tea):
    run_import(taobao_file([taobao_row("T1", status=UNPAID)]))
    moved = taobao_row(
        "T1", status=UNPAID, 收货地址="浙江省 杭州市 西湖区 文三路100号(310012)"
    )

    batch = run_import(taobao_file([moved]))

    order = Order.objects.get(external_id="T1")
    assert batch.updated_count == 1
    assert (order.city, order.address_detail) == ("杭州市", "文三路100号")
    assert order.events.filter(kind=OrderEvent.Kind.CORRECTION).count() == 1


def test_a_change_after_the_parcel_left_is_reported_not_applied(run_import, tea, ship):
    run_import(taobao_file([taobao_row("T1")]))
    order = Order.objects.get(external_id="T1")
    ship(order)

    batch = run_import(taobao_file([taobao_row("T1", status=CLOSED)]))

    order.refresh_from_db()
    assert order.status == S.SHIPPED
    assert rejected(batch) == [(2, "closed_too_late")]


def test_bad_rows_are_reported_with_their_row_numbers_and_the_good_rows_land(
    run_import, tea
):
    rows = [
        taobao_row("T1"),
        taobao_row("T2", title="没有对应的商品"),
        taobao_row("T3", status="卖家部分发货"),
        taobao_row("T4", status=CLOSED),
        taobao_row("T5", status=SHIPPED),
        taobao_row("T6", 宝贝种类="2"),
        taobao_row("T7"),
    ]

    batch = run_import(taobao_file(rows))

    assert set(Order.objects.values_list("external_id", flat=True)) == {"T1", "T7"}
    assert rejected(batch) == [
        (3, "unknown_sku"),
        (4, "unknown_status"),
        (5, "closed"),
        (6, "already_shipped"),
        (7, "no_lines"),
    ]
    assert batch.rejected_count == 5
    unknown = batch.rejections.get(row=3)
    assert "没有对应的商品" in unknown.message
    assert rejection_message(unknown) != unknown.message  # translated by its code


def test_a_sku_code_in_the_items_file_maps_without_a_listing(run_import, warehouse):
    for sku in ("TS-RED-M", "MUG-01"):
        product = ProductFactory(sku=sku)
        stock_receive(product=product, warehouse=warehouse, quantity=5, actor="test")

    batch = run_import(
        File((FIXTURES / "taobao_orders_bom.csv").open("rb"), "orders.csv"),
        items_file=File((FIXTURES / "taobao_items_bom.csv").open("rb"), "items.csv"),
    )

    order = Order.objects.get(external_id="1001")
    assert sorted(order.lines.values_list("sku", "quantity")) == [
        ("MUG-01", 1),
        ("TS-RED-M", 2),
    ]
    assert order.total == Decimal("150.00")  # what the buyer paid
    assert order.status == S.READY_TO_FULFILL
    assert rejected(batch) == [
        (3, "amount_too_high"),  # 1002 paid 99.00 for an 89.00 mug
        (4, "order_has_errors"),  # 1003: its item's quantity is "abc"
        (5, "bad_quantity"),  # items file row 5 (its file is "items")
        (5, "no_lines"),  # 1004 has no items
        (6, "item_without_order"),  # items file row 6
    ]


def test_masked_pinduoduo_details_hold_the_order_for_correction(run_import, warehouse):
    pdd = ChannelFactory(code="pdd", name="拼多多", kind=Channel.Kind.MARKETPLACE)
    product = ProductFactory(sku="TS-RED-M")
    stock_receive(product=product, warehouse=warehouse, quantity=5, actor="test")

    batch = run_import(
        File((FIXTURES / "pdd_orders.csv").open("rb"), "pdd.csv"), channel=pdd
    )

    masked = Order.objects.get(external_id="260517-607198974342268")
    assert masked.status == S.NEEDS_CORRECTION
    assert masked.total == Decimal("34.80")
    assert batch.created_count == 1
    assert len(batch.rejections.all()) == 4


def test_a_file_that_is_not_an_export_fails_the_import_with_the_reason(run_import):
    batch = run_import(SimpleUploadedFile("notes.csv", "姓名,电话\n张三,1\n".encode()))

    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error
    assert not Order.objects.exists()


def test_an_import_run_again_after_a_crash_doubles_nothing(run_import, tea):
    batch = run_import(taobao_file([taobao_row("T1"), taobao_row("T2")]))
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)

    again = import_batch_run(batch_id=batch.pk)

    assert Order.objects.count() == 2
    assert Payment.objects.count() == 2
    assert (again.created_count, again.unchanged_count) == (0, 0)
    assert again.orders_created.count() == 2


def test_an_import_is_queued_for_the_worker_once_saved(
    taobao, tea, staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        batch = import_batch_create(
            channel=taobao, file=taobao_file([taobao_row("T1")]), actor=staff_user
        )

    batch.refresh_from_db()  # tasks run eagerly in tests
    assert batch.status == ImportBatch.Status.DONE
    assert batch.rows_total == 1
    assert Order.objects.filter(external_id="T1").exists()


def test_the_import_command_reports_what_it_did(taobao, tea, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_bytes(
        taobao_file([taobao_row("T1"), taobao_row("T2", title="?")]).read()
    )

    call_command("import_orders", str(path), channel="taobao")

    out, err = capsys.readouterr()
    assert "created 1" in out
    assert "rejected rows 1" in out
    assert "row 3:" in out
    assert "100.0%" in err  # the progress bar


def test_the_import_command_refuses_an_unknown_channel(db, tmp_path):
    with pytest.raises(CommandError):
        call_command("import_orders", str(tmp_path / "x.csv"), channel="nope")


DOUYIN_MAPPING = {
    "platform": "douyin",
    "name": "抖店",
    "rows": "line",
    "columns": {
        "external_id": ["主订单编号"],
        "status": ["订单状态"],
        "receiver_name": ["收件人"],
        "phone": ["收件人手机号"],
        "address_full": ["收货地址"],
        "paid_amount": ["订单应付金额"],
        "sku": ["商家编码"],
        "title": ["商品名称"],
        "quantity": ["商品数量"],
        "unit_price": ["商品单价"],
    },
    "required": ["external_id", "status", "quantity"],
    "statuses": {"待发货": "paid", "已关闭": "closed"},
}


def test_a_custom_mapping_reads_another_platforms_export(run_import, tea):
    douyin = ChannelFactory(
        code="douyin",
        name="抖店",
        kind=Channel.Kind.MARKETPLACE,
        import_mapping=DOUYIN_MAPPING,
    )
    text = (
        "主订单编号,订单状态,收件人,收件人手机号,收货地址,订单应付金额,商家编码,商品名称,商品数量,商品单价\n"
        f"D1,待发货,李四,13900139000,{ADDRESS},60.00,TEA-001,红茶,1,60.00\n"
    )

    batch = run_import(
        SimpleUploadedFile("douyin.csv", text.encode("utf-8")), channel=douyin
    )

    assert (batch.platform, batch.created_count) == ("douyin", 1)
    assert Order.objects.get(external_id="D1").status == S.READY_TO_FULFILL


def test_a_bad_custom_mapping_is_refused_with_the_reason(db):
    channel = ChannelFactory(
        code="odd", import_mapping={"platform": "odd", "columns": {"x": ["列"]}}
    )

    with pytest.raises(ValidationError) as refused:
        channel.full_clean()

    assert "import_mapping" in refused.value.message_dict


def test_an_xlsx_export_imports_like_a_csv(run_import, warehouse):
    pdd = ChannelFactory(code="pdd", name="拼多多", kind=Channel.Kind.MARKETPLACE)
    product = ProductFactory(sku="TS-RED-M")
    stock_receive(product=product, warehouse=warehouse, quantity=5, actor="test")

    batch = run_import(
        File((FIXTURES / "pdd_orders.xlsx").open("rb"), "pdd.xlsx"), channel=pdd
    )

    assert batch.status == ImportBatch.Status.DONE
    assert Order.objects.filter(external_id="260517-607198974342268").exists()


def test_a_customer_whose_imported_order_needs_correction_is_asked_to_fix_it(
    run_import, tea
):
    from tracking.models import Notification

    run_import(taobao_file([taobao_row("T1", 收货地址="广东省 深圳市 科技园路1号")]))

    order = Order.objects.get(external_id="T1")
    assert order.status == S.NEEDS_CORRECTION
    assert Notification.objects.filter(
        order=order, template="needs_correction"
    ).exists()


def test_a_jd_export_imports_its_lines_and_reports_its_bad_rows(run_import, warehouse):
    jd = ChannelFactory(code="jd", name="京东", kind=Channel.Kind.MARKETPLACE)
    for sku in ("TS-RED-M", "STK-1"):
        product = ProductFactory(sku=sku)
        stock_receive(product=product, warehouse=warehouse, quantity=9, actor="test")
    mug = ProductFactory(sku="MUG-01")
    stock_receive(product=mug, warehouse=warehouse, quantity=9, actor="test")
    ChannelListing.objects.create(channel=jd, code="100012345", product=mug)

    batch = run_import(
        File((FIXTURES / "jd_orders.csv").open("rb"), "jd.csv"), channel=jd
    )

    order = Order.objects.get(external_id="300001")
    assert sorted(order.lines.values_list("sku", "quantity")) == [
        ("MUG-01", 1),  # 商家SKUID 100012345 through its listing
        ("STK-1", 1),
        ("TS-RED-M", 2),
    ]
    assert order.total == Decimal("252.00")
    assert order.status == S.READY_TO_FULFILL
    codes = {code for _row, code in rejected(batch)}
    assert {"bad_quantity", "unknown_status", "already_shipped"} <= codes
