"""Bin locations: set from the stock list, imported with a stock count, refused when too long."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from inventory.exceptions import StockError
from inventory.models import BinLocation, StockLevel
from inventory.services import bin_location_set
from orders.roles import WAREHOUSE


@pytest.fixture
def console(client, member):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(WAREHOUSE))
    return client


def test_a_bin_is_set_upper_case_and_cleared_by_an_empty_code(
    stocked_product, warehouse
):
    location = bin_location_set(
        product=stocked_product, warehouse=warehouse, code=" a-01-2 ", actor="t"
    )
    assert location.code == "A-01-2"

    assert (
        bin_location_set(
            product=stocked_product, warehouse=warehouse, code="", actor="t"
        )
        is None
    )
    assert not BinLocation.objects.exists()


def test_a_bin_code_longer_than_32_characters_is_refused(stocked_product, warehouse):
    with translation.override("en"), pytest.raises(StockError) as caught:
        bin_location_set(
            product=stocked_product, warehouse=warehouse, code="X" * 33, actor="t"
        )
    assert str(caught.value) == "A bin location has at most 32 characters."


def test_the_stock_list_edits_a_bin_and_the_export_carries_it(console, stocked_product):
    level = StockLevel.objects.get(product=stocked_product)

    response = console.post(
        reverse("stock:bin_set"), {"level": level.pk, "code": "b-3"}
    )
    listing = console.get(reverse("stock:list"))
    export = console.get(reverse("stock:export")).content.decode("utf-8-sig")

    assert response.url == reverse("stock:list")
    assert BinLocation.objects.get().code == "B-3"
    assert 'value="B-3"' in listing.content.decode()
    assert export.splitlines()[1] == f"{stocked_product.sku},hz,10,0,10,B-3"


def test_a_stock_count_file_with_a_bin_column_sets_the_bins(console, stocked_product):
    upload = SimpleUploadedFile(
        "count.csv",
        f"sku,warehouse,counted,bin\n{stocked_product.sku},hz,10,C-9\n".encode(),
        content_type="text/csv",
    )

    console.post(reverse("stock:import"), {"file": upload})

    assert BinLocation.objects.get().code == "C-9"
    assert StockLevel.objects.get().on_hand == 10
