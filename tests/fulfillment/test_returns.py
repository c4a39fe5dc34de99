"""Returns: what can come back, inspection into stock or write-off, refund and exchange."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from billing.models import Payment, Refund
from billing.services import payment_confirm, refund_request
from fulfillment.models import ReturnRequest, Shipment
from fulfillment.returns import (
    ReturnError,
    return_approve,
    return_complete,
    return_line_inspect,
    return_reject,
    return_request_create,
)
from fulfillment.services import shipment_mark_delivered, shipment_ship
from inventory.models import Reservation, StockLevel, StockMovement
from orders.models import Order, OrderEvent
from orders.roles import CUSTOMER_SERVICE, WAREHOUSE
from tests.factories.inventory import ProductFactory
from tracking.models import Notification

D = Decimal
S = Order.Status
R = ReturnRequest.Status


@pytest.fixture
def delivered(place_order, ship):
    """An order of 2 × ¥128.00, paid, shipped from the one warehouse and delivered."""
    order = place_order(quantity=2)
    payment_confirm(
        order=order, method=Payment.Method.ALIPAY, amount=D("256.00"), actor="test"
    )
    (parcel,) = ship(order)
    shipment_mark_delivered(shipment=parcel, actor="test")
    order.refresh_from_db()
    assert order.status == S.DELIVERED
    return order


def ask(order, quantity=1, **kwargs):
    kwargs.setdefault("reason", ReturnRequest.Reason.DAMAGED)
    return return_request_create(
        order=order, lines=[(order.lines.get(), quantity)], actor="customer", **kwargs
    )


def level():
    lv = StockLevel.objects.get()
    return lv.on_hand, lv.reserved


def test_a_return_with_restock_puts_the_goods_back_and_requests_the_refund(
    delivered, staff_user, stock_ledger_errors
):
    assert level() == (8, 0)
    rma = ask(delivered)
    assert (rma.number, rma.status) == (f"R{delivered.number}-1", R.REQUESTED)

    return_approve(return_request=rma, actor=staff_user)
    line = rma.lines.get()
    return_line_inspect(line=line, restock=1, write_off=0, actor=staff_user)
    rma = return_complete(return_request=rma, actor=staff_user)

    assert level() == (9, 0)
    assert stock_ledger_errors() == []
    movement = StockMovement.objects.get(kind=StockMovement.Kind.RETURNED)
    assert (movement.on_hand_delta, movement.order, movement.reference) == (
        1,
        delivered,
        rma.number,
    )
    assert rma.status == R.COMPLETED
    assert (rma.refund.amount, rma.refund.source, rma.refund.source_ref) == (
        D("128.00"),
        Refund.Source.RETURN,
        f"return:{rma.pk}",
    )
    assert [(rl.quantity, rl.amount) for rl in rma.refund.lines.all()] == [
        (1, D("128.00"))
    ]
    delivered.refresh_from_db()
    assert delivered.status == S.PARTIALLY_RETURNED
    assert set(
        Notification.objects.filter(order=delivered).values_list("template", flat=True)
    ) >= {"return_requested", "return_approved", "return_completed"}
    assert OrderEvent.objects.filter(order=delivered, data__return=rma.pk).count() == 4


def test_a_written_off_return_is_received_and_taken_out_again(
    delivered, staff_user, stock_ledger_errors
):
    rma = ask(delivered, quantity=2)
    return_approve(return_request=rma, actor=staff_user)

    return_line_inspect(
        line=rma.lines.get(), restock=1, write_off=1, actor=staff_user, note="压坏"
    )
    return_complete(return_request=rma, actor=staff_user)

    assert level() == (9, 0)
    assert stock_ledger_errors() == []
    kinds = list(
        StockMovement.objects.filter(reference=rma.number)
        .order_by("id")
        .values_list("kind", "on_hand_delta")
    )
    assert kinds == [("returned", 1), ("returned", 1), ("adjusted", -1)]
    delivered.refresh_from_db()
    assert delivered.status == S.RETURNED
    rma.refresh_from_db()
    assert rma.refund.amount == D("256.00")


def test_cannot_return_more_than_shipped(place_order, ship, staff_user):
    order = place_order(quantity=2)
    payment_confirm(order=order, method="alipay", amount=D("256.00"), actor="test")
    ship(order)

    with translation.override("en"), pytest.raises(ReturnError) as caught:
        ask(order, quantity=3)

    sku = order.lines.get().sku
    assert str(caught.value) == (
        f"{sku}: at most 2 can be returned (shipped and not already returned)."
    )
    assert caught.value.field == "lines"
    ask(order, quantity=2)
    with translation.override("en"), pytest.raises(ReturnError) as caught:
        ask(order, quantity=1)
    assert "at most 0 can be returned" in str(caught.value)
    assert ReturnRequest.objects.count() == 1


def test_goods_not_yet_shipped_cannot_be_returned(place_order):
    order = place_order()
    payment_confirm(order=order, method="alipay", amount=D("128.00"), actor="test")

    with translation.override("en"), pytest.raises(ReturnError) as caught:
        ask(order)

    assert str(caught.value) == "Only goods that have been shipped can be returned."


def test_a_rejected_return_needs_a_reason_and_frees_its_units(delivered, staff_user):
    rma = ask(delivered, quantity=2)
    with translation.override("en"), pytest.raises(ReturnError) as caught:
        return_reject(return_request=rma, actor=staff_user, note=" ")
    assert str(caught.value) == "Say why the return is rejected."

    return_reject(return_request=rma, actor=staff_user, note="超过七天")

    assert ask(delivered, quantity=2).number == f"R{delivered.number}-2"


def test_inspection_cannot_exceed_the_line(delivered, staff_user):
    rma = ask(delivered, quantity=1)
    return_approve(return_request=rma, actor=staff_user)

    with translation.override("en"), pytest.raises(ReturnError) as caught:
        return_line_inspect(line=rma.lines.get(), restock=1, write_off=1, actor="t")

    assert "only 1 unit(s) of this return are left to inspect" in str(caught.value)
    assert not StockMovement.objects.filter(kind="returned").exists()


def test_the_return_refund_never_exceeds_what_is_left_to_refund(delivered, staff_user):
    refund_request(
        order=delivered,
        amount=D("200.00"),
        reason="",
        source=Refund.Source.GOODWILL,
        actor="test",
    )
    rma = ask(delivered)
    return_approve(return_request=rma, actor=staff_user)
    return_line_inspect(line=rma.lines.get(), restock=1, write_off=0, actor="t")

    rma = return_complete(
        return_request=rma, actor=staff_user, shipping_refund=D("10.00")
    )

    assert rma.refund.amount == D("56.00")
    assert sum(r.amount for r in Refund.objects.all()) == D("256.00")


def test_refund_lines_share_the_order_discount(delivered, staff_user):
    line = delivered.lines.get()
    type(line).objects.filter(pk=line.pk).update(order_discount_share=D("20.00"))
    rma = ask(delivered)
    return_approve(return_request=rma, actor=staff_user)
    return_line_inspect(line=rma.lines.get(), restock=1, write_off=0, actor="t")

    rma = return_complete(return_request=rma, actor=staff_user)

    assert rma.refund.amount == D("118.00")  # (256 − 20) / 2


def test_an_exchange_reserves_stock_and_makes_a_parcel_to_pick(
    delivered, staff_user, carrier, stock_ledger_errors
):
    rma = ask(delivered, resolution=ReturnRequest.Resolution.EXCHANGE)
    return_approve(return_request=rma, actor=staff_user)
    return_line_inspect(line=rma.lines.get(), restock=0, write_off=1, actor="t")

    rma = return_complete(return_request=rma, actor=staff_user)

    (parcel,) = rma.replacements.all()
    assert parcel.status == Shipment.Status.PICKING
    assert [(pl.order_line, pl.quantity) for pl in parcel.lines.all()] == [
        (delivered.lines.get(), 1)
    ]
    assert Reservation.objects.get(order=delivered).quantity == 1
    assert level() == (8, 1)
    assert rma.refund is None
    shipment_ship(
        shipment=parcel, carrier=carrier, tracking_number="SF999", actor=staff_user
    )
    assert level() == (7, 0)
    assert stock_ledger_errors() == []
    delivered.refresh_from_db()
    assert delivered.status == S.DELIVERED


def test_an_exchange_into_another_sku_adds_a_free_line(
    delivered, staff_user, warehouse
):
    from inventory.services import stock_receive

    other = ProductFactory(price=D("99.00"))
    stock_receive(product=other, warehouse=warehouse, quantity=1, actor="test")
    rma = return_request_create(
        order=delivered,
        lines=[(delivered.lines.get(), 1, other)],
        reason=ReturnRequest.Reason.WRONG_ITEM,
        resolution=ReturnRequest.Resolution.EXCHANGE,
        actor="customer",
    )
    return_approve(return_request=rma, actor=staff_user)
    return_line_inspect(line=rma.lines.get(), restock=1, write_off=0, actor="t")

    rma = return_complete(return_request=rma, actor=staff_user)

    new_line = delivered.lines.get(product=other)
    assert (new_line.unit_price, new_line.line_total, new_line.quantity) == (
        D("0"),
        D("0"),
        1,
    )
    assert Reservation.objects.get(order=delivered).product == other


def test_an_exchange_short_of_stock_changes_nothing(delivered, staff_user, warehouse):
    other = ProductFactory(price=D("99.00"))
    rma = return_request_create(
        order=delivered,
        lines=[(delivered.lines.get(), 1, other)],
        reason=ReturnRequest.Reason.WRONG_ITEM,
        resolution=ReturnRequest.Resolution.EXCHANGE,
        actor="customer",
    )
    return_approve(return_request=rma, actor=staff_user)
    return_line_inspect(line=rma.lines.get(), restock=1, write_off=0, actor="t")

    with translation.override("en"), pytest.raises(ReturnError) as caught:
        return_complete(return_request=rma, actor=staff_user)

    assert str(caught.value).startswith("Not enough stock to send the exchange:")
    rma.refresh_from_db()
    assert rma.status == R.RECEIVED
    assert not Reservation.objects.exists()
    assert delivered.lines.count() == 1


# --- Pages ----------------------------------------------------------------------


@pytest.fixture
def visitor(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_the_customer_must_prove_the_phone_before_asking_for_a_return(
    visitor, delivered
):
    url = reverse("track_returns:request", args=[delivered.number])

    response = visitor.post(url, {"reason": "damaged", "resolution": "refund"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("track:lookup"))
    assert not ReturnRequest.objects.exists()


def test_a_proven_customer_asks_for_a_return_on_the_status_page(visitor, delivered):
    visitor.post(
        reverse("track:lookup"), {"number": delivered.number, "phone": "13800138000"}
    )
    status_page = visitor.get(reverse("track:order", args=[delivered.number])).text
    url = reverse("track_returns:request", args=[delivered.number])
    assert url in status_page
    line = delivered.lines.get()

    too_many = visitor.post(
        url, {f"qty_{line.pk}": "3", "reason": "damaged", "resolution": "refund"}
    )
    assert too_many.status_code == 400
    assert "Ensure this value is less than or equal to 2." in too_many.text

    response = visitor.post(
        url,
        {
            f"qty_{line.pk}": "1",
            "reason": "not_as_described",
            "resolution": "refund",
            "description": "颜色不对",
        },
    )

    assert response.status_code == 302
    rma = ReturnRequest.objects.get()
    assert (rma.requested_by_label, rma.description, rma.lines.get().quantity) == (
        "customer",
        "颜色不对",
        1,
    )
    page = visitor.get(reverse("track:order", args=[delivered.number])).text
    assert rma.number in page


@pytest.fixture
def desk(client, member):
    """Customer service, signed in, reading English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(CUSTOMER_SERVICE))
    return client


def test_customer_service_opens_approves_and_the_warehouse_inspects(
    desk, client, member, delivered, stock_ledger_errors
):
    line = delivered.lines.get()
    order_page = desk.get(delivered.get_absolute_url()).text
    assert reverse("returns:new", args=[delivered.number]) in order_page

    response = desk.post(
        reverse("returns:new", args=[delivered.number]),
        {f"qty_{line.pk}": "2", "reason": "wrong_item", "resolution": "refund"},
    )
    rma = ReturnRequest.objects.get()
    assert response["Location"] == rma.get_absolute_url()
    assert "Approve return" in desk.get(rma.get_absolute_url()).text
    desk.post(reverse("returns:approve", args=[rma.number]))
    rma.refresh_from_db()
    assert rma.status == R.APPROVED
    # Customer service may not inspect goods; the warehouse may.
    inspect = reverse("returns:inspect", args=[rma.number, rma.lines.get().pk])
    data = {
        f"line{rma.lines.get().pk}-restock": "2",
        f"line{rma.lines.get().pk}-write_off": "0",
    }
    assert desk.post(inspect, data).status_code == 403
    client.force_login(member(WAREHOUSE))
    assert inspect in client.get(rma.get_absolute_url()).text
    client.post(inspect, data)
    assert "Complete and request the refund" in client.get(rma.get_absolute_url()).text
    client.post(reverse("returns:complete", args=[rma.number]), {})

    rma.refresh_from_db()
    assert (rma.status, rma.refund.amount) == (R.COMPLETED, D("256.00"))
    assert level() == (10, 0)
    assert stock_ledger_errors() == []
    listing = client.get(reverse("returns:list"), {"status": "completed"}).text
    assert rma.number in listing
    detail = client.get(rma.get_absolute_url()).text
    assert "Nothing left to do on this return." in detail


def test_the_returns_list_filters_by_reason(desk, delivered):
    rma = ask(delivered, reason=ReturnRequest.Reason.CHANGED_MIND)

    assert rma.number in desk.get(reverse("returns:list")).text
    assert (
        rma.number not in desk.get(reverse("returns:list"), {"reason": "damaged"}).text
    )


def test_strangers_see_no_returns(client, delivered):
    rma = ask(delivered)

    response = client.get(rma.get_absolute_url())

    assert response.status_code == 302
    assert "login" in response["Location"]


# --- Channel API ----------------------------------------------------------------


@pytest.fixture
def api(channel):
    from rest_framework.test import APIClient

    from orders.services import channel_token_issue

    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {channel_token_issue(channel=channel)}"
    )
    return client


def test_a_channel_opens_a_return_through_the_api(api, delivered):
    url = f"/api/v1/orders/{delivered.number}/returns/"
    sku = delivered.lines.get().sku

    too_many = api.post(
        url,
        {"reason": "damaged", "lines": [{"sku": sku, "quantity": 5}]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    unknown = api.post(
        url,
        {"reason": "damaged", "lines": [{"sku": "NOPE", "quantity": 1}]},
        format="json",
    )
    response = api.post(
        url,
        {"reason": "damaged", "lines": [{"sku": sku, "quantity": 1}]},
        format="json",
    )

    assert too_many.status_code == 400
    assert too_many.json() == {
        "lines": [
            f"{sku}: at most 2 can be returned (shipped and not already returned)."
        ]
    }
    assert unknown.status_code == 400
    assert response.status_code == 201
    body = response.json()
    assert (body["number"], body["status"], body["lines"][0]["quantity"]) == (
        f"R{delivered.number}-1",
        "requested",
        1,
    )
    assert api.get(url).json()[0]["number"] == body["number"]
