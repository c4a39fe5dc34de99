"""The promises every part of the code keeps, checked over the whole code base.

One order is one transaction; nothing but the lifecycle table moves an order's
status; money is never a float. The first is tried by breaking the very last step
of an order's creation; the other two read every model and every module of ours,
so code added later is held to them too.
"""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from inventory.models import Reservation, StockLevel, StockMovement
from orders import services
from orders.models import Customer, Order, OrderEvent, OrderLine
from tracking.models import Notification
from tracking.outbound_webhooks import webhook_endpoint_create
from tracking.webhook_models import WebhookDelivery, WebhookEvent

ROOT = Path(__file__).resolve().parents[1]
QUERY_STEPS = {"objects", "filter", "exclude", "all", "select_for_update", "using"}
APPS = ("orders", "inventory", "fulfillment", "tracking", "billing", "config")


class LateFailure(Exception):
    """Raised by the last step of an order's creation in the test."""


def test_a_failure_at_the_last_step_of_an_order_leaves_nothing_behind(
    place_order, stocked_product, staff_user, monkeypatch
):
    webhook_endpoint_create(
        url="https://erp.example.com/hooks",
        event_types=[WebhookEvent.ORDER_CREATED, WebhookEvent.ORDER_ALLOCATED],
        actor=staff_user,
    )
    reached = []
    transition = services.order_transition

    def transition_then_fail(**kwargs):
        moved = transition(**kwargs)
        reached.append(moved.status)
        raise LateFailure

    monkeypatch.setattr(services, "order_transition", transition_then_fail)
    level = StockLevel.objects.get(product=stocked_product)
    before = {
        model: model.objects.count()
        for model in (StockMovement, Reservation, Notification, WebhookDelivery)
    }

    with pytest.raises(LateFailure):
        place_order(payment_method="cod", quantity=3, phone="13912345678")

    # The order got as far as reserving its stock and moving to ready-to-fulfil ...
    assert reached == [Order.Status.READY_TO_FULFILL]
    # ... and every row written on the way is gone with the failure.
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert not OrderEvent.objects.exists()
    assert not Customer.objects.filter(phone__endswith="13912345678").exists()
    assert {model: model.objects.count() for model in before} == before
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (10, 0)


def _our_models():
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in APPS and not model._meta.auto_created
    ]


def test_no_model_of_ours_keeps_a_number_as_a_float():
    floats = [
        f"{model._meta.label}.{field.name}"
        for model in _our_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FloatField)
    ]

    assert _our_models(), "no models found: the app list is out of date"
    assert floats == []


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _names_orders(node: ast.expr) -> bool:
    """An order, or orders: ``order``, ``self.order``, ``orders.filter(...)``, ``Order.objects``.

    ``order.shipments.filter(...)`` is a parcel query and is left alone.
    """
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Attribute) and ast.unparse(node) == "Order.objects":
            return True
        if isinstance(node, ast.Attribute) and "order" in node.attr.lower():
            return True  # self.order, shipment.order
        if isinstance(node, ast.Attribute) and node.attr not in QUERY_STEPS:
            return False  # order.shipments: another model's rows
        node = node.func if isinstance(node, ast.Call) else node.value
    return isinstance(node, ast.Name) and "order" in node.id.lower()


def _status_writes(path: Path):
    """Yield (line, text) of each place the module sets an order's status itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and _names_orders(target.value)
                ):
                    yield node.lineno, ast.unparse(node)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and any(keyword.arg == "status" for keyword in node.keywords)
            and _names_orders(node.func.value)
        ):
            yield node.lineno, ast.unparse(node)


def test_only_the_lifecycle_table_sets_an_orders_status():
    lifecycle = ROOT / "orders" / "lifecycle.py"
    elsewhere = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in _modules()
        if path != lifecycle
        for line, text in _status_writes(path)
    ]

    assert list(_status_writes(lifecycle)), (
        "the check no longer sees the table's own writes"
    )
    assert elsewhere == []
