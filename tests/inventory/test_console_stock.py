"""The console's stock pages: who may see them, goods-in, stocktake, CSV in and out."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory.models import StockLevel, StockMovement
from orders.models import Order
from orders.roles import CUSTOMER_SERVICE, FINANCE, WAREHOUSE
from tests.factories.inventory import ProductFactory

VIEW_PAGES = [
    "stock:list",
    "stock:export",
    "stock:backorders",
    "stock:replenishment",
    "stock:replenishment_export",
]
CHANGE_PAGES = ["stock:goods_in", "stock:stocktake", "stock:import"]


@pytest.fixture
def console(client, member):
    """Return the test client, signed in as warehouse staff, reading English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))
    return client


@pytest.mark.parametrize("name", VIEW_PAGES + CHANGE_PAGES)
def test_warehouse_staff_open_every_stock_page(console, stocked_product, name):
    assert console.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", VIEW_PAGES + CHANGE_PAGES)
def test_finance_is_refused_every_stock_page(client, member, name):
    client.force_login(member(FINANCE))

    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", CHANGE_PAGES)
def test_customer_service_sees_stock_but_cannot_change_it(client, member, name):
    client.force_login(member(CUSTOMER_SERVICE))

    assert client.get(reverse("stock:list")).status_code == 200
    assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse(name), {}).status_code == 403


def test_the_nav_shows_stock_only_to_those_who_may_see_it(client, member, db):
    client.force_login(member(WAREHOUSE))
    assert reverse("stock:list") in client.get("/console/").content.decode()
    client.force_login(member(FINANCE))
    assert reverse("stock:list") not in client.get("/console/").content.decode()


def test_the_stock_list_filters_by_search_and_low_stock(
    console, stocked_product, warehouse
):
    empty = ProductFactory(sku="EMPTY-1", safety_stock=3)
    StockLevel.objects.create(product=empty, warehouse=warehouse)

    def skus(**params):
        response = console.get(reverse("stock:list"), params)
        return [row.level.product.sku for row in response.context["rows"]]

    assert skus() == ["EMPTY-1", stocked_product.sku]
    assert skus(q=stocked_product.barcode) == [stocked_product.sku]
    assert skus(low_only="on") == ["EMPTY-1"]


def test_goods_in_by_barcode_receives_and_says_so(console, stocked_product, warehouse):
    response = console.post(
        reverse("stock:goods_in"),
        {
            "code": stocked_product.barcode,
            "quantity": "5",
            "warehouse": warehouse.pk,
            "reference": "DN-1",
            "note": "",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert StockLevel.objects.get(product=stocked_product).on_hand == 15
    movement = StockMovement.objects.filter(kind="received").latest("pk")
    assert (movement.on_hand_delta, movement.reference, movement.actor.username) == (
        5,
        "DN-1",
        "user-仓库",
    )
    assert (
        f"Received 5 × {stocked_product.sku} at 杭州仓; now 15 on hand."
        in response.content.decode()
    )


def test_goods_in_with_an_unknown_code_is_refused(console, warehouse):
    response = console.post(
        reverse("stock:goods_in"),
        {"code": "NOPE", "quantity": "5", "warehouse": warehouse.pk},
    )

    assert response.status_code == 400
    assert "No product has this SKU or barcode." in response.content.decode()
    assert not StockMovement.objects.exists()


def test_the_stocktake_screen_previews_then_posts(console, stocked_product, warehouse):
    url = reverse("stock:stocktake")
    form = {"warehouse": warehouse.pk, f"count_{stocked_product.pk}": "8"}

    preview = console.post(url, {**form, "action": "preview"})

    assert [(r["product"], r["difference"]) for r in preview.context["preview"]] == [
        (stocked_product, -2)
    ]
    assert StockLevel.objects.get(product=stocked_product).on_hand == 10

    console.post(url, {**form, "action": "post"})

    assert StockLevel.objects.get(product=stocked_product).on_hand == 8
    assert StockMovement.objects.get(kind="stocktake").on_hand_delta == -2


def test_the_stock_export_is_the_import_format(console, stocked_product):
    response = console.get(reverse("stock:export"))

    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "sku,warehouse,on_hand,reserved,available,bin",
        f"{stocked_product.sku},hz,10,0,10,",
    ]


def test_the_import_page_lists_bad_rows_by_number(console, stocked_product):
    upload = SimpleUploadedFile(
        "count.csv",
        f"sku,warehouse,counted\n{stocked_product.sku},hz,6\nNOPE,hz,1\n".encode(),
        content_type="text/csv",
    )

    response = console.post(reverse("stock:import"), {"file": upload})

    assert response.status_code == 200
    result = response.context["result"]
    assert (result.changed, result.errors) == (1, [(3, "Unknown SKU “NOPE”.")])
    assert StockLevel.objects.get(product=stocked_product).on_hand == 6


def test_the_backorder_page_lists_the_waiting_orders(
    console, place_order, stocked_product
):
    order = place_order(payment_method="cod", quantity=12)
    assert order.status == Order.Status.BACKORDERED

    response = console.get(reverse("stock:backorders"))

    assert order.number in response.content.decode()
    (group,) = response.context["groups"]
    assert (group.owed, group.short) == (12, 2)


def test_the_replenishment_export_has_a_row_per_level(console, stocked_product):
    response = console.get(reverse("stock:replenishment_export"))

    header, *rows = response.content.decode("utf-8-sig").splitlines()
    assert header.startswith("sku,name,warehouse,on_hand")
    assert len(rows) == 1 and rows[0].startswith(f"{stocked_product.sku},")
