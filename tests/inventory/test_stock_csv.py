"""Stock counts imported from CSV: bad rows reported with their number, good rows land."""

import pytest
from django.utils import translation

from inventory.exceptions import StockError
from inventory.imports import stock_import_csv
from inventory.models import StockLevel, StockMovement
from tests.factories.inventory import ProductFactory


@pytest.fixture
def products(warehouse, place_order, stocked_product):
    tea = ProductFactory(sku="TEA-001")
    cup = ProductFactory(sku="CUP-002")
    # stocked_product: 10 on hand, 2 reserved.
    place_order(payment_method="cod", quantity=2)
    return tea, cup, stocked_product


def test_an_import_reports_bad_rows_with_their_numbers_and_lands_the_good_ones(
    products, warehouse, staff_user, stock_ledger_errors
):
    tea, cup, reserved = products
    data = (
        "sku,warehouse,counted\n"
        "TEA-001,hz,7\n"
        "NOPE,hz,3\n"
        "TEA-001,zz,3\n"
        "CUP-002,hz,-1\n"
        "\n"
        "CUP-002,hz,4\n"
        "TEA-001,hz,9\n"
        f"{reserved.sku},hz,1\n"
        f"{reserved.sku},hz,x\n"
    ).encode()

    with translation.override("en"):
        result = stock_import_csv(data=data, actor=staff_user, reference="count.csv")

    assert result.errors == [
        (3, "Unknown SKU “NOPE”."),
        (4, "Unknown warehouse “zz”."),
        (5, "The count must be a whole number, 0 or more."),
        (8, "TEA-001 in hz was already counted in row 2."),
        (
            9,
            "Counted fewer units than are reserved for orders; re-allocate or "
            f"cancel those orders first: {reserved.sku} counted 1, reserved 2",
        ),
        (10, "The count must be a whole number, 0 or more."),
    ]
    assert (result.changed, result.unchanged) == (2, 0)
    on_hand = dict(
        StockLevel.objects.filter(warehouse=warehouse).values_list(
            "product__sku", "on_hand"
        )
    )
    assert on_hand == {"TEA-001": 7, "CUP-002": 4, reserved.sku: 10}
    assert set(
        StockMovement.objects.filter(kind="stocktake").values_list(
            "reference", flat=True
        )
    ) == {"count.csv"}
    assert stock_ledger_errors() == []


def test_an_edited_export_in_gbk_imports_its_on_hand_column(products, warehouse):
    tea, _cup, _reserved = products
    data = "SKU,Warehouse,on_hand,reserved,available\nTEA-001,hz,3,0,3\n".encode(
        "gb18030"
    )

    result = stock_import_csv(data=data, actor="x")

    assert (result.changed, result.errors) == (1, [])
    assert StockLevel.objects.get(product=tea).on_hand == 3


def test_an_import_without_the_needed_columns_is_refused(products):
    with translation.override("en"), pytest.raises(StockError) as caught:
        stock_import_csv(data=b"sku,qty\nTEA-001,3\n", actor="x")

    assert str(caught.value) == (
        "The file needs the columns sku, warehouse and counted (or on_hand)."
    )
