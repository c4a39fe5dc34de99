"""The API for the shop's other systems: the order sync feed, stock, products, adjustments."""

import base64
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone, translation
from rest_framework.test import APIClient

from billing.services import payment_confirm
from inventory.models import StockAdjustmentReceipt, StockLevel, StockMovement
from orders.models import Order
from orders.roles import WAREHOUSE
from orders.services import order_cancel
from orders.staff_tokens import staff_token_issue
from tests.factories.inventory import ProductFactory, WarehouseFactory
from tests.factories.orders import OrderFactory

FEED = "/api/v1/sync/orders/"
ADJUST = "/api/v1/stock/adjustments/"


@pytest.fixture(autouse=True)
def english_and_settled(settings):
    settings.SYNC_SETTLE_SECONDS = 0
    with translation.override("en"):
        yield


@pytest.fixture
def clerk(member):
    return member(WAREHOUSE)


@pytest.fixture
def api(clerk):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    _token, raw = staff_token_issue(user=clerk, name="ERP")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def read_feed(api, **params):
    """Follow next_cursor to the end; return the order numbers and the last cursor."""
    numbers, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = api.get(FEED, query).json()
        numbers += [order["number"] for order in body["results"]]
        cursor = body["next_cursor"] or cursor
        if not body["has_more"]:
            return numbers, cursor


# --- Order sync feed ----------------------------------------------------------


def test_pages_never_skip_or_repeat_orders_sharing_one_timestamp(api):
    orders = [OrderFactory() for _ in range(7)]
    same = timezone.now() - timedelta(minutes=5)
    Order.objects.update(updated_at=same)

    numbers, _cursor = read_feed(api, limit=2)

    assert numbers == [o.number for o in sorted(orders, key=lambda o: o.pk)]


def test_the_feed_is_ordered_by_change_time_then_id(api):
    older, newer = OrderFactory(), OrderFactory()
    now = timezone.now()
    Order.objects.filter(pk=newer.pk).update(updated_at=now - timedelta(hours=2))
    Order.objects.filter(pk=older.pk).update(updated_at=now - timedelta(hours=1))

    numbers, _cursor = read_feed(api)

    assert numbers == [newer.number, older.number]


def test_an_order_changed_later_comes_again_after_the_last_cursor(api, place_order):
    first, second = place_order(), place_order()
    numbers, cursor = read_feed(api)
    assert numbers == [first.number, second.number]

    order_cancel(order=first, actor="test", reason="customer asked")

    body = api.get(FEED, {"cursor": cursor}).json()
    assert [o["number"] for o in body["results"]] == [first.number]
    assert body["results"][0]["status"] == "cancelled"
    assert api.get(FEED, {"cursor": body["next_cursor"]}).json() == {
        "results": [],
        "next_cursor": body["next_cursor"],
        "has_more": False,
    }


def test_a_payment_alone_makes_the_order_come_again(api, place_order):
    order = place_order(payment_method="prepaid")
    _numbers, cursor = read_feed(api)
    before = Order.objects.get(pk=order.pk).updated_at

    payment_confirm(order=order, method="wechat", amount=Decimal("1.00"), actor="t")

    assert Order.objects.get(pk=order.pk).payment_status == "unpaid"
    assert Order.objects.get(pk=order.pk).updated_at > before
    (again,) = api.get(FEED, {"cursor": cursor}).json()["results"]
    assert [p["amount"] for p in again["payments"]] == ["1.00"]


def test_updated_since_leaves_out_orders_not_changed_since(api):
    old, recent = OrderFactory(), OrderFactory()
    now = timezone.now()
    Order.objects.filter(pk=old.pk).update(updated_at=now - timedelta(days=2))
    Order.objects.filter(pk=recent.pk).update(updated_at=now - timedelta(hours=1))

    numbers, _cursor = read_feed(
        api, updated_since=(now - timedelta(days=1)).isoformat()
    )

    assert numbers == [recent.number]


def test_changes_younger_than_the_settle_time_wait_for_the_next_call(api, settings):
    settings.SYNC_SETTLE_SECONDS = 60
    waiting = OrderFactory()
    settled = OrderFactory()
    Order.objects.filter(pk=settled.pk).update(
        updated_at=timezone.now() - timedelta(minutes=2)
    )

    numbers, _cursor = read_feed(api)

    assert numbers == [settled.number]
    assert waiting.number not in numbers


def test_an_order_comes_with_its_lines_shipments_and_payments(api, place_order):
    order = place_order(quantity=2)
    payment_confirm(order=order, method="alipay", amount=order.total, actor="t")

    (synced,) = api.get(FEED).json()["results"]

    assert synced["number"] == order.number
    assert synced["channel"] == order.channel.code
    assert synced["payment_status"] == "paid"
    assert synced["lines"][0]["quantity"] == 2
    assert synced["payments"][0]["method"] == "alipay"
    assert synced["payments"][0]["amount"] == str(order.total)
    assert synced["shipping_address"]["city"] == "深圳市"
    assert synced["shipments"] == []


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "MjAyNg",  # "2026", no id
        # a time with no offset, an id too large for the column, a time out of range
        *(
            base64.urlsafe_b64encode(raw.encode()).decode()
            for raw in (
                "2026-11-29T10:00:00|1",
                "2026-11-29T10:00:00+00:00|99999999999999999999",
                "0001-01-01T00:00:00+14:00|1",
            )
        ),
    ],
)
def test_a_cursor_not_given_out_by_the_api_answers_400(api, cursor):
    response = api.get(FEED, {"cursor": cursor})

    assert response.status_code == 400
    assert response.json() == {"cursor": ["Not a cursor this API gave out."]}


# --- Stock levels and products --------------------------------------------------


def test_stock_levels_show_on_hand_reserved_and_available_per_warehouse(
    api, place_order, stocked_product, warehouse
):
    place_order(quantity=3, payment_method="cod")  # reserves 3
    other = WarehouseFactory(code="sz", name="深圳仓")
    StockLevel.objects.create(product=stocked_product, warehouse=other, on_hand=4)

    body = api.get("/api/v1/stock/", {"sku": stocked_product.sku}).json()
    only_hz = api.get(
        "/api/v1/stock/", {"sku": stocked_product.sku, "warehouse": "hz"}
    ).json()

    assert body["results"] == [
        {
            "sku": stocked_product.sku,
            "warehouse": "hz",
            "on_hand": 10,
            "reserved": 3,
            "available": 7,
        },
        {
            "sku": stocked_product.sku,
            "warehouse": "sz",
            "on_hand": 4,
            "reserved": 0,
            "available": 4,
        },
    ]
    assert [row["warehouse"] for row in only_hz["results"]] == ["hz"]


def test_products_are_listed_by_sku_in_cursor_pages(api):
    for n in range(3):
        ProductFactory(sku=f"P-{n}")

    first = api.get("/api/v1/products/", {"limit": 2}).json()
    second = api.get(first["next"]).json()

    assert [p["sku"] for p in first["results"]] == ["P-0", "P-1"]
    assert [p["sku"] for p in second["results"]] == ["P-2"]
    assert second["next"] is None


# --- Stock adjustments ------------------------------------------------------------


def adjust(api, **data):
    body = {
        "reference": "WMS-1",
        "sku": data.pop("sku"),
        "warehouse": "hz",
        "reason": "Damaged in storage",
        **data,
    }
    return api.post(ADJUST, body, format="json")


def test_a_retried_adjustment_is_applied_once(api, clerk, stocked_product, warehouse):
    first = adjust(api, sku=stocked_product.sku, quantity_change=-2)
    again = adjust(api, sku=stocked_product.sku, quantity_change=-2)

    assert first.status_code == 201, first.content
    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert first.json()["on_hand"] == 8
    level = StockLevel.objects.get(product=stocked_product, warehouse=warehouse)
    assert level.on_hand == 8
    (movement,) = StockMovement.objects.filter(kind=StockMovement.Kind.ADJUSTED)
    assert (movement.on_hand_delta, movement.actor, movement.reason) == (
        -2,
        clerk,
        "Damaged in storage",
    )
    assert movement.reference == "WMS-1"
    assert first.json()["movement"] == movement.pk


def test_the_same_reference_with_other_content_answers_409_and_changes_nothing(
    api, stocked_product
):
    adjust(api, sku=stocked_product.sku, quantity_change=-2)

    response = adjust(api, sku=stocked_product.sku, quantity_change=-5)

    assert response.status_code == 409
    assert "already used for another adjustment" in response.json()["detail"]
    assert StockMovement.objects.filter(kind="adjusted").count() == 1


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Cannot take 11 of {sku} out of 杭州仓: only 10 are not reserved"),
        ("zh-hans", None),
    ],
)
def test_going_below_zero_is_refused_with_a_field_error_in_the_callers_language(
    api, stocked_product, language, message
):
    with translation.override(language):
        response = api.post(
            ADJUST,
            {
                "reference": "WMS-9",
                "sku": stocked_product.sku,
                "warehouse": "hz",
                "quantity_change": -11,
                "reason": "lost",
            },
            format="json",
            HTTP_ACCEPT_LANGUAGE=language,
        )

    assert response.status_code == 400
    (error,) = response.json()["quantity_change"]
    if message:
        assert error.startswith(message.format(sku=stocked_product.sku))
    else:
        assert "Cannot take" not in error
    assert not StockMovement.objects.filter(kind="adjusted").exists()
    # Refused, so not remembered: the same reference may be sent again later.
    assert not StockAdjustmentReceipt.objects.exists()


def test_a_count_sets_the_books_and_a_matching_count_writes_no_movement(
    api, stocked_product
):
    counted = adjust(api, sku=stocked_product.sku, counted=7, reference="C-1")
    matching = adjust(api, sku=stocked_product.sku, counted=7, reference="C-2")

    assert counted.status_code == 201
    assert (counted.json()["on_hand_change"], counted.json()["on_hand"]) == (-3, 7)
    assert matching.json()["movement"] is None
    assert matching.json()["on_hand_change"] == 0
    assert list(
        StockMovement.objects.filter(kind="stocktake").values_list(
            "on_hand_delta", "reference"
        )
    ) == [(-3, "C-1")]


def test_an_unknown_sku_or_warehouse_is_a_field_error(api):
    response = api.post(
        ADJUST,
        {
            "reference": "R",
            "sku": "NOPE",
            "warehouse": "nowhere",
            "quantity_change": 1,
            "reason": "found",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "sku": ["Unknown SKU: NOPE"],
        "warehouse": ["Unknown warehouse: nowhere"],
    }


def test_a_change_and_a_count_together_are_refused(api, stocked_product):
    response = adjust(api, sku=stocked_product.sku, quantity_change=1, counted=3)

    assert response.status_code == 400
    assert response.json() == {
        "quantity_change": ["Give either quantity_change or counted, not both."]
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_adjustment_move_the_stock_once(
    clerk, stocked_product, warehouse
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for truly concurrent writers")
    _token, raw = staff_token_issue(user=clerk, name="WMS")
    codes, start = [], threading.Barrier(6)

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        start.wait()
        codes.append(
            adjust(client, sku=stocked_product.sku, quantity_change=-1).status_code
        )
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(codes) == [200] * 5 + [201]
    assert StockLevel.objects.get(product=stocked_product).on_hand == 9
    assert StockMovement.objects.filter(kind="adjusted").count() == 1
