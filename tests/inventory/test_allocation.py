"""Allocation: which warehouses an order is reserved in, splitting, and moving it by hand."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import translation

from fulfillment.services import fulfillment_start
from inventory.exceptions import StockError
from inventory.models import Reservation, StockLevel, WarehouseRegion
from inventory.services import stock_receive, stock_reserve_for_order
from orders.exceptions import OrderError
from orders.models import Order, OrderEvent, OrderLine
from orders.services import LineInput, OrderInput, order_create, order_reallocate
from tests.factories.inventory import ProductFactory, WarehouseFactory

S = Order.Status
BEIJING = {
    "province": "北京市",
    "city": "北京市",
    "district": "朝阳区",
    "address_detail": "建国路88号",
}


@pytest.fixture
def place(channel):
    """Return a function that places a cash-on-delivery order for {product: units}."""

    def place_lines(units, *, address=None, external_id=""):
        data = OrderInput(
            channel=channel,
            customer_name="张三",
            customer_phone="13800138000",
            lines=[LineInput(product, quantity) for product, quantity in units.items()],
            payment_method="cod",
            external_id=external_id,
            address=address
            or {
                "province": "广东省",
                "city": "深圳市",
                "district": "南山区",
                "address_detail": "科技园路1号",
            },
        )
        return order_create(data=data, actor="test")

    return place_lines


def stock(warehouse, **units):
    for product, quantity in units.values():
        stock_receive(
            product=product, warehouse=warehouse, quantity=quantity, actor="t"
        )


def reserved(order) -> dict[tuple[str, str], int]:
    return {
        (r.warehouse.code, r.product.sku): r.quantity
        for r in Reservation.objects.filter(order=order).select_related(
            "warehouse", "product"
        )
    }


@pytest.fixture
def two_warehouses(warehouse):
    """hz (priority 1) holds 5 of A; bj (priority 5) holds 5 of A and 5 of B."""
    a, b = ProductFactory(sku="A"), ProductFactory(sku="B")
    bj = WarehouseFactory(code="bj", name="北京仓", province="北京市", priority=5)
    stock(warehouse, a=(a, 5))
    stock(bj, a=(a, 5), b=(b, 5))
    return a, b, warehouse, bj


def test_priority_reserves_the_whole_order_in_the_first_warehouse_that_has_it_all(
    two_warehouses, place, stock_ledger_errors
):
    a, b, _hz, _bj = two_warehouses

    order = place({a: 2, b: 1})

    assert order.status == S.READY_TO_FULFILL
    assert reserved(order) == {("bj", "A"): 2, ("bj", "B"): 1}
    assert stock_ledger_errors() == []


def test_without_splitting_an_order_no_warehouse_can_ship_waits_whole(warehouse, place):
    a, b = ProductFactory(sku="A"), ProductFactory(sku="B")
    sh = WarehouseFactory(code="sh", name="上海仓", priority=5)
    stock(warehouse, a=(a, 5))
    stock(sh, b=(b, 5))

    order = place({a: 1, b: 1})

    assert order.status == S.BACKORDERED
    assert not Reservation.objects.exists()
    assert StockLevel.objects.filter(reserved__gt=0).count() == 0


def test_with_splitting_allowed_the_order_is_reserved_in_two_warehouses_and_ships_in_two_parcels(
    warehouse, place, settings, ship, stock_ledger_errors
):
    settings.ALLOCATION_ALLOW_SPLIT = True
    a, b = ProductFactory(sku="A"), ProductFactory(sku="B")
    sh = WarehouseFactory(code="sh", name="上海仓", priority=5)
    stock(warehouse, a=(a, 5))
    stock(sh, b=(b, 5))

    order = place({a: 1, b: 2})

    assert order.status == S.READY_TO_FULFILL
    assert reserved(order) == {("hz", "A"): 1, ("sh", "B"): 2}
    parcels = fulfillment_start(order=order, actor="test")
    assert sorted((p.warehouse.code, p.lines.get().quantity) for p in parcels) == [
        ("hz", 1),
        ("sh", 2),
    ]
    from fulfillment.services import shipment_ship
    from tests.factories.fulfillment import CarrierFactory

    carrier = CarrierFactory()
    shipment_ship(
        shipment=parcels[0], carrier=carrier, tracking_number="SF1", actor="test"
    )
    order.refresh_from_db()
    assert order.status == S.PARTIALLY_SHIPPED
    shipment_ship(
        shipment=parcels[1], carrier=carrier, tracking_number="SF2", actor="test"
    )
    order.refresh_from_db()
    assert order.status == S.SHIPPED
    assert stock_ledger_errors() == []


def test_a_split_shortage_lists_what_all_warehouses_hold_together(
    warehouse, place, settings
):
    settings.ALLOCATION_ALLOW_SPLIT = True
    a = ProductFactory(sku="A")
    sh = WarehouseFactory(code="sh", name="上海仓", priority=5)
    stock(warehouse, a=(a, 2))
    stock(sh, a=(a, 3))

    order = place({a: 6})

    assert order.status == S.BACKORDERED
    assert order.events.filter(to_status=S.BACKORDERED).get().data == {
        "shortages": [{"sku": "A", "wanted": 6, "available": 5}]
    }
    assert not Reservation.objects.exists()


def test_strict_priority_with_splitting_takes_each_line_from_the_first_warehouse_holding_it(
    two_warehouses, place, settings
):
    settings.ALLOCATION_ALLOW_SPLIT = True
    a, b, _hz, _bj = two_warehouses

    order = place({a: 2, b: 1})

    assert reserved(order) == {("hz", "A"): 2, ("bj", "B"): 1}


def test_whole_order_prefers_one_warehouse_that_has_everything_over_a_split(
    two_warehouses, place, settings
):
    settings.ALLOCATION_ALLOW_SPLIT = True
    settings.ALLOCATION_STRATEGY = "whole_order"
    a, b, _hz, _bj = two_warehouses

    order = place({a: 2, b: 1})

    assert reserved(order) == {("bj", "A"): 2, ("bj", "B"): 1}


def test_nearest_reserves_in_the_warehouse_ranked_first_for_the_destination_province(
    warehouse, place, settings
):
    settings.ALLOCATION_STRATEGY = "nearest"
    a = ProductFactory(sku="A")
    bj = WarehouseFactory(code="bj", name="北京仓", province="北京市", priority=5)
    stock(warehouse, a=(a, 5))
    stock(bj, a=(a, 5))
    WarehouseRegion.objects.create(province="北京市", warehouse=bj, rank=1)
    WarehouseRegion.objects.create(province="北京市", warehouse=warehouse, rank=2)

    to_beijing = place({a: 1}, address=BEIJING)
    to_shenzhen = place({a: 1})

    assert reserved(to_beijing) == {("bj", "A"): 1}
    assert reserved(to_shenzhen) == {("hz", "A"): 1}


def test_nearest_falls_back_to_the_next_warehouse_when_the_nearest_lacks_stock(
    warehouse, place, settings
):
    settings.ALLOCATION_STRATEGY = "nearest"
    a = ProductFactory(sku="A")
    bj = WarehouseFactory(code="bj", name="北京仓", province="北京市", priority=5)
    stock(warehouse, a=(a, 5))
    stock(bj, a=(a, 1))
    WarehouseRegion.objects.create(province="北京市", warehouse=bj, rank=1)

    order = place({a: 3}, address=BEIJING)

    assert reserved(order) == {("hz", "A"): 3}


def test_fewest_parcels_finds_two_warehouses_where_greedy_coverage_needs_three(
    warehouse, place, settings
):
    """hz holds p1–p4, sh holds p1, p2, p5, gz holds p3, p4, p6: sh + gz cover all."""
    settings.ALLOCATION_ALLOW_SPLIT = True
    products = [ProductFactory(sku=f"P{i}") for i in range(1, 7)]
    p1, p2, p3, p4, p5, p6 = products
    sh = WarehouseFactory(code="sh", name="上海仓", priority=5)
    gz = WarehouseFactory(code="gz", name="广州仓", priority=6)
    for holder, held in ((warehouse, (p1, p2, p3, p4)), (sh, (p1, p2, p5))):
        for product in held:
            stock_receive(product=product, warehouse=holder, quantity=1, actor="t")
    for product in (p3, p4, p6):
        stock_receive(product=product, warehouse=gz, quantity=1, actor="t")

    settings.ALLOCATION_STRATEGY = "whole_order"
    greedy = place({p: 1 for p in products})
    assert {code for code, _sku in reserved(greedy)} == {"hz", "sh", "gz"}
    order_cancel_for_test(greedy)

    settings.ALLOCATION_STRATEGY = "fewest_parcels"
    fewest = place({p: 1 for p in products})
    assert {code for code, _sku in reserved(fewest)} == {"sh", "gz"}


def order_cancel_for_test(order):
    from orders.services import order_cancel

    order_cancel(order=order, actor="test")


def test_an_unknown_strategy_is_a_configuration_error(stocked_product, place, settings):
    settings.ALLOCATION_STRATEGY = "cheapest"

    with pytest.raises(ImproperlyConfigured) as caught:
        place({stocked_product: 1})

    assert "ALLOCATION_STRATEGY must be one of" in str(caught.value)


def test_two_lines_of_one_sku_cannot_reserve_more_than_is_there(stocked_product, place):
    order = place({stocked_product: 6})
    OrderLine.objects.create(
        order=order,
        product=stocked_product,
        sku=stocked_product.sku,
        name=stocked_product.name,
        unit_price=stocked_product.price,
        quantity=6,
        line_total=stocked_product.price * 6,
    )
    Reservation.objects.filter(order=order).delete()
    StockLevel.objects.update(reserved=0)

    shortages = stock_reserve_for_order(order=order, actor="test")

    assert [(s.sku, s.wanted, s.available) for s in shortages] == [
        (stocked_product.sku, 12, 10)
    ]
    assert StockLevel.objects.get().reserved == 0


# --- Moving a reservation by hand ---------------------------------------------


def test_reallocating_moves_the_reservation_with_release_and_reserve_movements(
    two_warehouses, place, staff_user, stock_ledger_errors
):
    a, _b, hz, bj = two_warehouses
    order = place({a: 2})
    assert reserved(order) == {("hz", "A"): 2}

    order_reallocate(order=order, warehouse=bj, actor=staff_user)

    assert reserved(order) == {("bj", "A"): 2}
    levels = {
        lv.warehouse.code: lv.reserved for lv in StockLevel.objects.filter(product=a)
    }
    assert levels == {"hz": 0, "bj": 2}
    assert stock_ledger_errors() == []
    event = order.events.filter(kind=OrderEvent.Kind.STOCK).latest("id")
    assert event.data == {"warehouse": "bj", "products": None, "units": 2}
    assert event.actor == staff_user


def test_reallocating_one_line_leaves_the_other_lines_where_they_are(
    two_warehouses, place, staff_user, settings, stock_ledger_errors
):
    settings.ALLOCATION_ALLOW_SPLIT = True
    a, b, hz, bj = two_warehouses
    order = place({a: 2, b: 1})
    assert reserved(order) == {("hz", "A"): 2, ("bj", "B"): 1}

    order_reallocate(order=order, warehouse=bj, actor=staff_user, product_ids=[a.pk])

    assert reserved(order) == {("bj", "A"): 2, ("bj", "B"): 1}
    assert stock_ledger_errors() == []


def test_reallocating_to_a_warehouse_without_enough_stock_is_refused(
    two_warehouses, place, staff_user, stock_ledger_errors
):
    a, b, hz, bj = two_warehouses
    order = place({a: 1, b: 1})  # in bj, the only one with B
    assert reserved(order) == {("bj", "A"): 1, ("bj", "B"): 1}

    with translation.override("en"), pytest.raises(StockError) as caught:
        order_reallocate(order=order, warehouse=hz, actor=staff_user)

    assert str(caught.value) == "杭州仓 does not have enough stock: B: 1 wanted, 0 free"
    assert reserved(order) == {("bj", "A"): 1, ("bj", "B"): 1}
    assert stock_ledger_errors() == []


def test_reallocating_after_picking_started_is_refused(
    two_warehouses, place, staff_user
):
    a, _b, _hz, bj = two_warehouses
    order = place({a: 1})
    fulfillment_start(order=order, actor="test")

    with translation.override("en"), pytest.raises(OrderError) as caught:
        order_reallocate(order=order, warehouse=bj, actor=staff_user)

    assert str(caught.value) == (
        "Only an order ready to fulfil, before picking starts, can change warehouse."
    )


# --- Concurrency (PostgreSQL) -------------------------------------------------


def _concurrently(count, work, *, clients=20):
    """Run ``work(i)`` for i < count from ``clients`` threads at once, each on its own connection."""
    errors = []

    def run(i):
        try:
            work(i)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    # PostgreSQL's max_connections bounds how many can truly run at once.
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(run, range(count)))
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_200_concurrent_orders_for_50_units_accept_exactly_50(
    channel, warehouse, stock_ledger_errors
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for truly concurrent writers")
    product = ProductFactory(sku="HOT-1")
    stock_receive(product=product, warehouse=warehouse, quantity=50, actor="test")

    def order_one(i):
        order_create(
            data=OrderInput(
                channel=channel,
                customer_name="张三",
                customer_phone="13800138000",
                lines=[LineInput(product, 1)],
                payment_method="cod",
                external_id=f"HOT-{i}",
                address={
                    "province": "广东省",
                    "city": "深圳市",
                    "district": "南山区",
                    "address_detail": "科技园路1号",
                },
            ),
            actor="test",
        )

    _concurrently(200, order_one)

    statuses = sorted(Order.objects.values_list("status", flat=True))
    assert statuses.count(S.READY_TO_FULFILL) == 50
    assert statuses.count(S.BACKORDERED) == 150
    level = StockLevel.objects.get(product=product)
    assert (level.on_hand, level.reserved) == (50, 50)
    assert sum(Reservation.objects.values_list("quantity", flat=True)) == 50
    assert stock_ledger_errors() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_with_two_lines_of_one_sku_never_oversell(
    channel, warehouse, stock_ledger_errors
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for truly concurrent writers")
    product = ProductFactory(sku="HOT-2")
    stock_receive(product=product, warehouse=warehouse, quantity=10, actor="test")

    def order_two_lines(i):
        order_create(
            data=OrderInput(
                channel=channel,
                customer_name="张三",
                customer_phone="13800138000",
                lines=[LineInput(product, 3), LineInput(product, 3)],
                payment_method="cod",
                external_id=f"TWO-{i}",
                address={
                    "province": "广东省",
                    "city": "深圳市",
                    "district": "南山区",
                    "address_detail": "科技园路1号",
                },
            ),
            actor="test",
        )

    _concurrently(10, order_two_lines)

    assert Order.objects.filter(status=S.READY_TO_FULFILL).count() == 1
    assert Order.objects.filter(status=S.BACKORDERED).count() == 9
    level = StockLevel.objects.get(product=product)
    assert (level.on_hand, level.reserved) == (10, 6)
    assert stock_ledger_errors() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_split_orders_over_two_warehouses_never_oversell(
    channel, warehouse, settings, stock_ledger_errors
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for truly concurrent writers")
    settings.ALLOCATION_ALLOW_SPLIT = True
    product = ProductFactory(sku="HOT-3")
    sh = WarehouseFactory(code="sh", name="上海仓", priority=5)
    stock_receive(product=product, warehouse=warehouse, quantity=15, actor="test")
    stock_receive(product=product, warehouse=sh, quantity=15, actor="test")

    def order_four(i):
        order_create(
            data=OrderInput(
                channel=channel,
                customer_name="张三",
                customer_phone="13800138000",
                lines=[LineInput(product, 4)],
                payment_method="cod",
                external_id=f"SPLIT-{i}",
                address={
                    "province": "广东省",
                    "city": "深圳市",
                    "district": "南山区",
                    "address_detail": "科技园路1号",
                },
            ),
            actor="test",
        )

    _concurrently(40, order_four)

    # 30 units, 4 per order: 7 orders fit (28 units), one of them split over both.
    assert Order.objects.filter(status=S.READY_TO_FULFILL).count() == 7
    assert Order.objects.filter(status=S.BACKORDERED).count() == 33
    assert sorted(StockLevel.objects.values_list("reserved", flat=True)) == [13, 15]
    assert stock_ledger_errors() == []


def test_nearest_without_a_region_row_prefers_a_warehouse_in_the_same_province(
    warehouse, place, settings
):
    settings.ALLOCATION_STRATEGY = "nearest"
    a = ProductFactory(sku="A")
    bj = WarehouseFactory(code="bj", name="北京仓", province="北京市", priority=5)
    stock(warehouse, a=(a, 5))
    stock(bj, a=(a, 5))

    order = place({a: 1}, address=BEIJING)

    assert reserved(order) == {("bj", "A"): 1}
