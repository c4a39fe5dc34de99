"""The Django admin: every model of ours opens, ledgers stay read-only, the cancel action."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from billing.cod import cod_collection_record, cod_remittance_create
from billing.models import PaymentNotification
from billing.services import payment_confirm, refund_request
from billing.settlements import settlement_import
from fulfillment.models import (
    BoxPreset,
    CarrierAccount,
    CarrierService,
    ChannelShipping,
    ReturnLine,
    ReturnRequest,
)
from fulfillment.packing import pack_scan
from fulfillment.picking import pick_lists_for_orders, short_pick_report
from fulfillment.services import fulfillment_start, shipment_ship
from inventory.adjustments import stock_adjustment_apply
from inventory.models import (
    Product,
    Reservation,
    StockLevel,
    StockMovement,
    Warehouse,
    WarehouseRegion,
)
from inventory.services import bin_location_set
from orders.customer_services import customer_note_add
from orders.models import (
    ChannelListing,
    ImportBatch,
    ImportRejection,
    Order,
    RoutingRule,
)
from orders.roles import APPS
from orders.services import channel_token_issue, webhook_receipt_record
from orders.staff_tokens import staff_token_issue
from tests.factories.pricing import (
    ChannelPriceFactory,
    CouponFactory,
    ShippingRuleFactory,
    TaxRuleFactory,
)
from tracking.models import ParcelException, ProviderReceipt, TrackingStatus
from tracking.notifications import notification_template_save
from tracking.outbound_webhooks import webhook_endpoint_create
from tracking.parcel_exceptions import carrier_claim_file, transit_standard_set
from tracking.services import tracking_event_record

S = Order.Status
OUR_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label in APPS),
    key=lambda model: model._meta.label,
)


@pytest.fixture
def superuser(client, db):
    """The test client, signed in as a superuser, reading English."""
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(user)
    return client


@pytest.fixture
def a_row_of_everything(place_order, carrier, channel):
    """Orders in several states, so every model has at least one row."""
    waiting = place_order(quantity=2)  # reserved after payment, never shipped
    payment_confirm(order=waiting, method="alipay", amount=waiting.total, actor="t")
    refund_request(
        order=waiting,
        amount=Decimal("1.00"),
        lines=[(waiting.lines.first(), 1)],
        reason="goodwill",
        source="goodwill",
        actor="t",
    )
    shipped = place_order(payment_method="cod")
    (parcel,) = fulfillment_start(order=shipped, actor="test")
    shipment_ship(shipment=parcel, carrier=carrier, tracking_number="SF1", actor="t")
    tracking_event_record(
        shipment=parcel,
        status=TrackingStatus.IN_TRANSIT,
        description="In transit",
        actor="carrier:sf",
    )
    channel_token_issue(channel=channel)
    webhook_receipt_record(channel=channel, signature="a" * 64)
    ProviderReceipt.objects.create(provider="aftership", event_id="ev-1")
    batch = ImportBatch.objects.create(
        channel=channel, file="imports/taobao.csv", original_name="taobao.csv"
    )
    ImportRejection.objects.create(
        batch=batch, row=2, code="sku_unknown", message="Unknown SKU"
    )
    ChannelListing.objects.create(
        channel=channel, code="红茶礼盒", product=Product.objects.first()
    )
    CouponFactory(code="HELLO", promotion__products=[Product.objects.first()])
    place_order(coupon_code="HELLO")
    ChannelPriceFactory(channel=channel, product=Product.objects.first())
    ShippingRuleFactory(carrier=carrier)
    TaxRuleFactory()
    WarehouseRegion.objects.create(province="浙江省", warehouse=Warehouse.objects.get())
    RoutingRule.objects.create(name="大额订单", min_total=5000)
    transit_standard_set(
        carrier=carrier,
        origin_province="浙江省",
        destination_province="广东省",
        hours=48,
        actor="t",
    )
    tracking_event_record(
        shipment=parcel,
        status=TrackingStatus.FAILED_ATTEMPT,
        description="派送未成功",
        actor="carrier:sf",
    )
    carrier_claim_file(
        exception=ParcelException.objects.get(),
        amount=Decimal("10.00"),
        evidence="破损照片",
        actor="t",
    )
    rma = ReturnRequest.objects.create(
        number="RMA1", order=shipped, reason="damaged", warehouse=parcel.warehouse
    )
    ReturnLine.objects.create(
        return_request=rma, order_line=shipped.lines.get(), quantity=1
    )
    # Outbound webhooks: an endpoint and a delivery waiting for it.
    webhook_endpoint = webhook_endpoint_create(
        url="https://crm.example.com/hooks", event_types=["order.created"], actor=None
    )
    place_order()
    assert webhook_endpoint.deliveries.exists()
    # The integration API: a staff key and a stock adjustment sent with it.
    owner = get_user_model().objects.create_user("wms")
    staff_token_issue(user=owner, name="WMS")
    stock_adjustment_apply(
        user=owner,
        reference="WMS-1",
        product=Product.objects.first(),
        warehouse=Warehouse.objects.get(),
        delta=1,
        reason="found",
    )
    # Picking and packing: a bin, a pick list with a short pick, a box, a packing.
    bin_location_set(
        product=Product.objects.first(),
        warehouse=Warehouse.objects.get(),
        code="A-01",
        actor="t",
    )
    to_pick = [place_order(), place_order()]
    for order in to_pick:
        payment_confirm(order=order, method="alipay", amount=order.total, actor="t")
    [pick_list] = pick_lists_for_orders(orders=to_pick, actor="t")
    short_pick_report(
        pick_list=pick_list,
        product=Product.objects.first(),
        quantity=1,
        reason="damaged",
        actor="t",
    )
    BoxPreset.objects.create(name="小号", length_cm=20, width_cm=15, height_cm=10)
    pack_scan(
        shipment=pick_list.parcels.first().shipment,
        code=Product.objects.first().sku,
        actor="t",
    )
    # Shipping: a carrier's service and account, a channel's ship-by policy.
    CarrierService.objects.create(carrier=carrier, code="standard", name="标快")
    CarrierAccount.objects.create(
        carrier=carrier, name="月结", account_number="0210001", warehouse=None
    )
    ChannelShipping.objects.create(channel=channel, ship_within_hours=24)
    # Notifications: staff's wording of one message.
    notification_template_save(
        event="shipped",
        channel="sms",
        language="zh-hans",
        subject="",
        body="订单{number}已发货",
        sms_template_code="SMS_1",
        actor="t",
    )
    # Cash on delivery: the parcel's cash, a carrier's remittance paying it short
    # (a difference); a marketplace settlement.
    cod_collection_record(order=shipped, amount=shipped.total, actor="t")
    cod_remittance_create(
        carrier=carrier,
        reference="R1",
        remitted_on=shipped.placed_at.date(),
        rows=[("SF1", Decimal("1.00"))],
        actor="t",
    )
    settlement_import(
        channel=channel,
        data=f"订单编号,实收金额,佣金\n{shipped.external_id or 'X'},1.00,0.10\n".encode(),
        actor="t",
    )
    customer_note_add(customer=shipped.customer, text="Prefers calls", actor=None)
    # A payment provider's notification (billing/payments.py).
    PaymentNotification.objects.create(
        provider="alipay",
        trade_no="T1",
        trade_status="TRADE_SUCCESS",
        outcome="ignored",
    )


def test_every_model_of_ours_is_registered():
    labels = {model._meta.label for model in OUR_MODELS}
    assert {
        "orders.Order",
        "orders.OrderEvent",
        "inventory.StockMovement",
        "fulfillment.Shipment",
        "tracking.TrackingEvent",
        "tracking.Notification",
        "billing.Payment",
    } <= labels


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.label)
def test_the_list_and_the_page_of_every_model_open(
    superuser, a_row_of_everything, model
):
    obj = model.objects.order_by("pk").first()
    assert obj is not None, f"no {model._meta.label} row to show"
    info = (model._meta.app_label, model._meta.model_name)
    change_url = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])

    listing = superuser.get(reverse("admin:{}_{}_changelist".format(*info)))
    assert listing.status_code == 200
    assert change_url in listing.text

    assert superuser.get(change_url).status_code == 200


def test_the_list_search_and_filters_work(superuser, a_row_of_everything):
    order = Order.objects.get(payment_method="cod")
    response = superuser.get(
        reverse("admin:orders_order_changelist"),
        {"q": order.number, "status__exact": order.status},
    )
    assert list(response.context["cl"].result_list) == [order]


@pytest.mark.parametrize(
    "model", [StockMovement, Reservation], ids=lambda m: m._meta.label
)
def test_ledgers_cannot_be_added_or_deleted(superuser, model):
    info = (model._meta.app_label, model._meta.model_name)
    assert superuser.get(reverse("admin:{}_{}_add".format(*info))).status_code == 403


def test_the_order_status_cannot_be_edited(superuser, place_order):
    order = place_order()
    response = superuser.get(reverse("admin:orders_order_change", args=[order.pk]))
    form = response.context["adminform"].form
    assert "status" not in form.fields
    assert "payment_status" not in form.fields
    assert "buyer_note" in form.fields


def test_stock_figures_are_read_only(superuser, stocked_product):
    level = StockLevel.objects.get(product=stocked_product)
    url = reverse("admin:inventory_stocklevel_change", args=[level.pk])
    superuser.post(url, {"on_hand": "999", "reserved": "0"})
    level.refresh_from_db()
    assert level.on_hand == 10


def test_the_cancel_action_cancels_and_releases_the_stock(
    superuser, place_order, stocked_product
):
    order = place_order(payment_method="cod", quantity=3)
    level = StockLevel.objects.get(product=stocked_product)
    assert level.reserved == 3
    response = superuser.post(
        reverse("admin:orders_order_changelist"),
        {"action": "cancel_selected", "_selected_action": [order.pk]},
        follow=True,
    )
    order.refresh_from_db()
    level.refresh_from_db()
    assert order.status == S.CANCELLED
    assert (level.on_hand, level.reserved) == (10, 0)
    assert not Reservation.objects.filter(order=order).exists()
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "1 order cancelled."
    ]


def test_the_cancel_action_reports_each_order_it_cannot_cancel(
    superuser, place_order, carrier
):
    gone = place_order(payment_method="cod")
    (parcel,) = fulfillment_start(order=gone, actor="test")
    shipment_ship(shipment=parcel, carrier=carrier, tracking_number="SF2", actor="t")
    open_order = place_order(payment_method="cod")
    response = superuser.post(
        reverse("admin:orders_order_changelist"),
        {"action": "cancel_selected", "_selected_action": [gone.pk, open_order.pk]},
        follow=True,
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Order {gone.number} cannot go from “Shipped” to “Cancelled”.",
        "1 order cancelled.",
    ]
    gone.refresh_from_db()
    open_order.refresh_from_db()
    assert (gone.status, open_order.status) == (S.SHIPPED, S.CANCELLED)
