"""The console's stock adjustments, customer returns and replenishment figures."""

import pytest
from django.urls import reverse

from inventory.models import StockLevel, StockMovement
from inventory.selectors import replenishment_rows
from orders.roles import CUSTOMER_SERVICE, FINANCE, WAREHOUSE
from tests.factories.inventory import ProductFactory

PAGES = ["stock:adjust", "stock:returns"]


@pytest.fixture
def console(client, member):
    """Return the test client, signed in as warehouse staff, reading English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))
    return client


@pytest.fixture
def level(stocked_product, warehouse):
    return StockLevel.objects.get(product=stocked_product, warehouse=warehouse)


def _level_url(level):
    return reverse("stock:level_plan", args=[level.pk])


@pytest.mark.parametrize("name", PAGES)
def test_warehouse_staff_open_the_adjustment_and_return_pages(
    console, stocked_product, name
):
    response = console.get(reverse(name))

    assert response.status_code == 200
    assert reverse(name) in response.content.decode()  # the tab is there


@pytest.mark.parametrize("role", [CUSTOMER_SERVICE, FINANCE])
@pytest.mark.parametrize("name", PAGES)
def test_other_roles_may_not_adjust_or_restock(client, member, role, name):
    client.force_login(member(role))

    assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse(name), {}).status_code == 403


def test_an_adjustment_takes_units_out_with_its_reason(
    console, stocked_product, warehouse
):
    response = console.post(
        reverse("stock:adjust"),
        {
            "code": stocked_product.sku,
            "warehouse": warehouse.pk,
            "delta": "-2",
            "reason": "damaged",
            "note": "carton crushed",
            "reference": "QC-7",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert StockLevel.objects.get(product=stocked_product).on_hand == 8
    movement = StockMovement.objects.get(kind=StockMovement.Kind.ADJUSTED)
    assert (
        movement.on_hand_delta,
        movement.reason,
        movement.reference,
        movement.actor.username,
    ) == (-2, "Damaged: carton crushed", "QC-7", "user-仓库")
    page = response.content.decode()
    assert f"Adjusted {stocked_product.sku} at 杭州仓 by -2; now 8 on hand." in page
    assert "Damaged: carton crushed" in page  # the latest adjustments list


def test_an_adjustment_below_the_reserved_units_is_refused_on_the_field(
    console, stocked_product, warehouse, place_order
):
    place_order(quantity=9, payment_method="cod")  # 9 of 10 reserved

    response = console.post(
        reverse("stock:adjust"),
        {
            "code": stocked_product.sku,
            "warehouse": warehouse.pk,
            "delta": "-2",
            "reason": "lost",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["delta"] == [
        f"Cannot take 2 of {stocked_product.sku} out of 杭州仓: only 1 are not "
        "reserved for orders."
    ]
    assert not StockMovement.objects.filter(kind="adjusted").exists()
    assert StockLevel.objects.get(product=stocked_product).on_hand == 10


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"delta": "0", "reason": "found"},
            "delta",
            "An adjustment must change the stock by at least one unit.",
        ),
        ({"delta": "3", "reason": "other"}, "note", "Say why the stock is adjusted."),
        ({"delta": "3", "reason": "whim"}, "reason", None),
    ],
)
def test_an_adjustment_needs_a_change_and_a_reason(
    console, stocked_product, warehouse, form, field, message
):
    response = console.post(
        reverse("stock:adjust"),
        {"code": stocked_product.sku, "warehouse": warehouse.pk, **form},
    )

    assert response.status_code == 400
    assert field in response.context["form"].errors
    if message:
        assert response.context["form"].errors[field] == [message]
    assert not StockMovement.objects.filter(kind="adjusted").exists()


def test_a_return_restocks_the_goods_against_their_order(
    console, stocked_product, warehouse, place_order, ship
):
    order = place_order(quantity=2, payment_method="cod")
    ship(order)

    response = console.post(
        reverse("stock:returns"),
        {
            "order_number": order.number.lower(),
            "code": stocked_product.barcode,
            "quantity": "1",
            "warehouse": warehouse.pk,
            "reference": "RMA-1",
        },
        follow=True,
    )

    assert StockLevel.objects.get(product=stocked_product).on_hand == 9
    movement = StockMovement.objects.get(kind=StockMovement.Kind.RETURNED)
    assert (movement.order, movement.on_hand_delta, movement.reference) == (
        order,
        1,
        "RMA-1",
    )
    assert movement.reason == f"Returned from order {order.number}"
    page = response.content.decode()
    assert f"Restocked 1 × {stocked_product.sku} at 杭州仓; now 9 on hand." in page
    assert order.get_absolute_url() in page


def test_a_return_without_an_order_is_restocked_too(
    console, stocked_product, warehouse
):
    console.post(
        reverse("stock:returns"),
        {"code": stocked_product.sku, "quantity": "3", "warehouse": warehouse.pk},
    )

    movement = StockMovement.objects.get(kind=StockMovement.Kind.RETURNED)
    assert (movement.order, movement.on_hand_delta, movement.reason) == (
        None,
        3,
        "Returned by a customer",
    )


def test_a_return_for_an_unknown_order_or_a_product_not_on_it_is_refused(
    console, stocked_product, warehouse, place_order
):
    order = place_order(payment_method="cod")
    other = ProductFactory(sku="NOT-ON-IT")
    url = reverse("stock:returns")
    base = {"quantity": "1", "warehouse": warehouse.pk}

    unknown = console.post(
        url, {**base, "order_number": "999", "code": stocked_product.sku}
    )
    wrong = console.post(
        url, {**base, "order_number": order.number, "code": "NOT-ON-IT"}
    )

    assert unknown.status_code == wrong.status_code == 400
    assert unknown.context["form"].errors["order_number"] == [
        "No order has this number."
    ]
    assert wrong.context["form"].errors["code"] == [
        f"Order {order.number} has no NOT-ON-IT to return."
    ]
    assert not StockMovement.objects.filter(kind="returned").exists()
    assert not StockLevel.objects.filter(product=other).exists()


def test_the_replenishment_page_links_each_level_to_its_figures(console, level):
    page = console.get(reverse("stock:replenishment")).content.decode()

    assert _level_url(level) in page


def test_figures_set_per_warehouse_replace_the_products_in_the_formula(console, level):
    level.product.safety_stock, level.product.lead_time_days = 2, 7
    level.product.save()

    response = console.post(
        _level_url(level),
        {
            "reorder_point": "",
            "safety_stock": "12",
            "lead_time_days": "3",
            "next": reverse("stock:replenishment") + "?low_only=on",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("stock:replenishment") + "?low_only=on"
    level.refresh_from_db()
    assert (level.reorder_point, level.safety_stock, level.lead_time_days) == (
        None,
        12,
        3,
    )
    (row,) = replenishment_rows()
    # No sales: ROP = ⌈0 × 3 + 12⌉ = 12; 10 available is low; suggested 12 − 10.
    assert (row.reorder_point, row.manual, row.low, row.suggested) == (
        12,
        False,
        True,
        2,
    )


def test_emptied_figures_fall_back_to_the_calculated_and_the_products(console, level):
    StockLevel.objects.filter(pk=level.pk).update(
        reorder_point=4, safety_stock=12, lead_time_days=3
    )

    console.post(
        _level_url(level),
        {"reorder_point": "", "safety_stock": "", "lead_time_days": ""},
    )

    level.refresh_from_db()
    assert (level.reorder_point, level.safety_stock, level.lead_time_days) == (
        None,
        None,
        None,
    )
    assert (level.safety_stock_effective, level.lead_time_effective) == (
        level.product.safety_stock,
        level.product.lead_time_days,
    )


def test_bad_figures_are_refused_field_by_field(console, level):
    response = console.post(
        _level_url(level),
        {"reorder_point": "-1", "safety_stock": "x", "lead_time_days": "400"},
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"reorder_point", "safety_stock", "lead_time_days"}
    assert errors["safety_stock"] == ["Enter a whole number."]
    level.refresh_from_db()
    assert level.reorder_point is None


def test_the_figures_page_does_not_send_staff_to_another_site(console, level):
    response = console.post(
        _level_url(level),
        {"safety_stock": "1", "next": "https://evil.example.com/"},
    )

    assert response["Location"] == reverse("stock:replenishment")


def test_customer_service_may_not_change_the_figures(client, member, level):
    client.force_login(member(CUSTOMER_SERVICE))

    assert client.get(_level_url(level)).status_code == 403
    assert client.post(_level_url(level), {"safety_stock": "3"}).status_code == 403
    assert StockLevel.objects.get(pk=level.pk).safety_stock is None


def test_an_unknown_level_is_not_found(console, db):
    assert console.get(reverse("stock:level_plan", args=[999999])).status_code == 404
