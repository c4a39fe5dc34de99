"""A property test: random stock operations never break the books.

After every step of a random sequence of receipts, orders (reservations), cancels,
shipments, returns, adjustments, stocktakes and backorder fills, the movement
ledger adds up to every stock level, reservations add up to the reserved units,
and 0 ≤ reserved ≤ on hand.
"""

import contextlib

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.models import Reservation, StockLevel
from inventory.services import (
    stock_adjust,
    stock_receive,
    stock_return,
    stocktake_post,
)
from orders.exceptions import OrderError
from orders.models import Order
from orders.services import backorders_fill, order_cancel
from tests.factories.inventory import ProductFactory, WarehouseFactory

S = Order.Status

product_at = st.integers(min_value=0, max_value=1)
warehouse_at = st.integers(min_value=0, max_value=1)
order_at = st.integers(min_value=0, max_value=3)
units = st.integers(min_value=1, max_value=6)

operations = st.one_of(
    st.tuples(st.just("receive"), product_at, warehouse_at, units),
    st.tuples(st.just("order"), product_at, units),
    st.tuples(st.just("cancel"), order_at),
    st.tuples(st.just("ship"), order_at),
    st.tuples(st.just("return"), order_at, units),
    st.tuples(
        st.just("adjust"),
        product_at,
        warehouse_at,
        st.integers(min_value=-6, max_value=6).filter(bool),
    ),
    st.tuples(st.just("stocktake"), product_at, warehouse_at, st.integers(0, 8)),
    st.tuples(st.just("fill")),
)


def books_errors(ledger_errors) -> list:
    found = list(ledger_errors())
    held = {
        (r["product_id"], r["warehouse_id"]): r["units"]
        for r in Reservation.objects.values("product_id", "warehouse_id").annotate(
            units=Sum("quantity")
        )
    }
    for level in StockLevel.objects.all():
        if not 0 <= level.reserved <= level.on_hand:
            found.append(("bounds", str(level)))
        if held.get((level.product_id, level.warehouse_id), 0) != level.reserved:
            found.append(("reservations", str(level)))
    return found


@pytest.mark.django_db
def test_random_stock_operations_keep_the_ledger_equal_to_the_levels(
    place_order, ship, warehouse, stock_ledger_errors
):
    products = [ProductFactory(sku="PROP-A"), ProductFactory(sku="PROP-B")]
    warehouses = [warehouse, WarehouseFactory(code="sh", name="上海仓", priority=5)]

    def apply(step, orders):
        kind, *args = step
        if kind == "receive":
            p, w, n = args
            stock_receive(
                product=products[p], warehouse=warehouses[w], quantity=n, actor="t"
            )
        elif kind == "order":
            p, n = args
            orders.append(
                place_order(product=products[p], quantity=n, payment_method="cod")
            )
        elif kind == "cancel" and args[0] < len(orders):
            order_cancel(order=orders[args[0]], actor="t")
        elif kind == "ship" and args[0] < len(orders):
            order = orders[args[0]]
            order.refresh_from_db()
            if order.status == S.READY_TO_FULFILL:
                ship(order)
        elif kind == "return" and args[0] < len(orders):
            order = Order.objects.get(pk=orders[args[0]].pk)
            if order.status == S.SHIPPED:
                line = order.lines.get()
                stock_return(
                    product=line.product,
                    warehouse=order.shipments.get().warehouse,
                    quantity=min(args[1], line.quantity),
                    actor="t",
                    order=order,
                )
        elif kind == "adjust":
            p, w, delta = args
            stock_adjust(
                product=products[p],
                warehouse=warehouses[w],
                delta=delta,
                reason="property test",
                actor="t",
            )
        elif kind == "stocktake":
            p, w, counted = args
            stocktake_post(
                warehouse=warehouses[w], counts={products[p]: counted}, actor="t"
            )
        elif kind == "fill":
            backorders_fill(product_ids=[p.pk for p in products])

    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
        ],
    )
    @given(st.lists(operations, min_size=1, max_size=15))
    def run(steps):
        rollback = transaction.savepoint()
        try:
            orders = []
            for step in steps:
                # A refused step (below reserved, cannot cancel) changes nothing.
                with contextlib.suppress(OrderError):
                    apply(step, orders)
                assert books_errors(stock_ledger_errors) == [], step
        finally:
            transaction.savepoint_rollback(rollback)

    run()
