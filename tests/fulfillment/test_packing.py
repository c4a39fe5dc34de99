from decimal import Decimal

import pytest
from django.utils import translation

from fulfillment.exceptions import ShipmentError
from fulfillment.models import BoxPreset, Packing, Shipment
from fulfillment.packing import pack_complete, pack_find, pack_scan, pack_state
from fulfillment.picking import pick_list_create
from orders.services import order_cancel
from tests.factories.inventory import ProductFactory


@pytest.fixture
def box(db):
    return BoxPreset.objects.create(
        name="小号", length_cm=20, width_cm=15, height_cm=10, tare_kg=Decimal("0.100")
    )


@pytest.fixture
def wave(place_order, warehouse, staff_user):
    """A pick list with two orders: two units, then one unit of the stocked product."""
    first = place_order(payment_method="cod", quantity=2)
    second = place_order(payment_method="cod", quantity=1)
    return (
        pick_list_create(warehouse=warehouse, orders=[first, second], actor=staff_user),
        first,
        second,
    )


def test_scanning_the_pick_list_opens_its_first_parcel(wave):
    pick_list, first, _second = wave

    parcel = pack_find(pick_list.number.lower())

    assert parcel.order == first
    assert pack_state(parcel).left == 2


def test_right_items_complete_the_parcel_and_it_is_packed(
    wave, stocked_product, staff_user, box
):
    pick_list, first, _second = wave
    parcel = pack_find(first.number)

    one = pack_scan(shipment=parcel, code=stocked_product.sku, actor=staff_user)
    two = pack_scan(shipment=parcel, code=stocked_product.barcode, actor=staff_user)
    parcel = pack_complete(shipment=parcel, box_preset=box, actor=staff_user)

    assert (one.ok, one.state.left, two.ok, two.state.complete) == (True, 1, True, True)
    assert parcel.status == Shipment.Status.PACKED
    # Two units of 0.3 kg from the catalogue plus the 0.1 kg carton.
    assert parcel.weight_kg == Decimal("0.700")
    packing = Packing.objects.get(shipment=parcel)
    assert (packing.length_cm, packing.width_cm, packing.height_cm) == (20, 15, 10)
    assert pack_state(pack_find(pick_list.number)).shipment.order.number != first.number


def test_scans_survive_a_reload(wave, stocked_product, staff_user):
    _pick_list, first, _second = wave
    parcel = pack_find(first.number)
    pack_scan(shipment=parcel, code=stocked_product.sku, actor=staff_user)

    again = pack_state(pack_find(first.number))

    assert [(i.sku, i.scanned, i.left) for i in again.items] == [
        (stocked_product.sku, 1, 1)
    ]


def test_a_wrong_item_is_refused_and_changes_nothing(wave, staff_user):
    _pick_list, first, _second = wave
    stranger = ProductFactory(sku="NOT-HERE")
    parcel = pack_find(first.number)

    with translation.override("en"):
        result = pack_scan(shipment=parcel, code="not-here", actor=staff_user)
        unknown = pack_scan(shipment=parcel, code="12345", actor=staff_user)

    assert (result.ok, result.message) == (
        False,
        f"Wrong item: {stranger.sku} is not in this parcel.",
    )
    assert unknown.message == "Unknown code “12345”."
    assert pack_state(parcel).left == 2


def test_an_extra_item_is_refused(wave, stocked_product, staff_user):
    _pick_list, _first, second = wave
    parcel = pack_find(second.number)
    pack_scan(shipment=parcel, code=stocked_product.sku, actor=staff_user)

    with translation.override("en"):
        extra = pack_scan(shipment=parcel, code=stocked_product.sku, actor=staff_user)

    assert (extra.ok, extra.message) == (
        False,
        f"Extra item: this parcel takes only 1 × {stocked_product.sku}.",
    )
    assert pack_state(parcel).items[0].scanned == 1


def test_a_parcel_with_missing_items_cannot_be_packed(
    wave, stocked_product, staff_user, box
):
    _pick_list, first, _second = wave
    parcel = pack_find(first.number)
    pack_scan(shipment=parcel, code=stocked_product.sku, actor=staff_user)

    with translation.override("en"), pytest.raises(ShipmentError) as caught:
        pack_complete(shipment=parcel, box_preset=box, actor=staff_user)

    assert str(caught.value) == f"1 item(s) not scanned yet: {stocked_product.sku} × 1"
    parcel.refresh_from_db()
    assert parcel.status == Shipment.Status.PICKING


def test_a_box_needs_a_preset_or_three_sizes_and_a_sane_weight(
    wave, stocked_product, staff_user
):
    _pick_list, _first, second = wave
    parcel = pack_find(second.number)
    pack_scan(shipment=parcel, code=stocked_product.sku, actor=staff_user)

    with translation.override("en"):
        with pytest.raises(ShipmentError) as no_box:
            pack_complete(shipment=parcel, length_cm=30, actor=staff_user)
        with pytest.raises(ShipmentError) as bad_weight:
            pack_complete(
                shipment=parcel,
                length_cm=30,
                width_cm=20,
                height_cm=10,
                weight_kg="-2",
                actor=staff_user,
            )
    parcel = pack_complete(
        shipment=parcel,
        length_cm="30",
        width_cm="20",
        height_cm="10",
        weight_kg="1.25",
        actor=staff_user,
    )

    assert str(no_box.value) == "Choose a box or enter its length, width and height."
    assert str(bad_weight.value) == (
        "The weight must be a number of kilograms above 0 and at most 1000."
    )
    assert (parcel.status, parcel.weight_kg) == (
        Shipment.Status.PACKED,
        Decimal("1.250"),
    )


def test_an_order_cancelled_during_picking_is_flagged_and_cannot_be_packed(
    wave, stocked_product, staff_user, box
):
    pick_list, first, second = wave
    order_cancel(order=second, actor=staff_user, reason="客户取消")

    parcel = pack_find(second.number)
    with translation.override("en"):
        scan = pack_scan(shipment=parcel, code=stocked_product.sku, actor=staff_user)
        with pytest.raises(ShipmentError) as caught:
            pack_complete(shipment=parcel, box_preset=box, actor=staff_user)

    assert (scan.ok, scan.message) == (
        False,
        f"Order {second.number} was cancelled: do not pack it, put the items back.",
    )
    assert (
        str(caught.value)
        == f"Order {second.number} was cancelled: it cannot be packed."
    )
    state = pack_state(pack_find(pick_list.number))
    assert state.shipment.order == first
    assert state.flagged_orders == [second.number]
