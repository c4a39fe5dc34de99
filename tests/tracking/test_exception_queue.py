"""The exceptions queue: each action, the console screens, and the dashboard's figures."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from billing.models import Refund
from billing.services import payment_confirm
from fulfillment.models import Shipment
from fulfillment.services import shipment_ship
from inventory.models import Reservation, StockLevel
from orders.exceptions import OrderError
from orders.models import Order, OrderEvent
from orders.roles import CUSTOMER_SERVICE, FINANCE, OWNER, WAREHOUSE
from tests.factories.orders import UserFactory
from tracking.models import CarrierClaim, Notification, ParcelException, TransitStandard
from tracking.parcel_exceptions import (
    ExceptionError,
    carrier_claim_file,
    carrier_claim_update,
    exception_close,
    exception_customer_notify,
    exception_note_add,
    exception_refund,
    exception_reship,
)
from tracking.services import tracking_event_record

S = Order.Status
K = ParcelException.Kind


@pytest.fixture(autouse=True)
def in_english():
    """The service messages and events below are compared in English."""
    with translation.override("en"):
        yield


def scan(shipment, status, description):
    return tracking_event_record(
        shipment=shipment,
        status=status,
        description=description,
        occurred_at=timezone.now(),
        actor="carrier:test",
    )


@pytest.fixture
def lost(place_order, ship):
    """A paid order of 2 units whose one parcel the carrier reports lost."""
    order = place_order(quantity=2)
    payment_confirm(order=order, method="alipay", amount=order.total, actor="test")
    (parcel,) = ship(order)
    scan(parcel, "expired", "快件长时间无物流更新，已登记丢失")
    return ParcelException.objects.get(shipment=parcel)


def events_of(exception):
    return list(
        OrderEvent.objects.filter(data__exception=exception.pk).values_list(
            "message", flat=True
        )
    )


def test_a_lost_scan_opens_a_lost_exception(lost):
    assert (lost.kind, lost.status) == (K.LOST, ParcelException.Status.OPEN)


def test_a_contact_record_is_written_on_the_order(lost):
    exception_note_add(
        exception=lost, text="客户同意补发", contact="phone", actor="test"
    )

    assert events_of(lost)[-1].endswith("客户同意补发")
    lost.refresh_from_db()
    assert lost.last_action_at is not None


def test_an_empty_note_is_refused(db):
    with pytest.raises(ExceptionError, match="Write the note."):
        exception_note_add(exception=None, text=" ", actor="test")


def test_the_customer_is_told_once_per_exception(lost, settings):
    settings.LANGUAGE_CODE = "en"
    count = exception_customer_notify(exception=lost, actor="test")

    assert count == 2  # SMS and email
    sent = Notification.objects.filter(template="parcel_exception")
    assert sorted(sent.values_list("channel", flat=True)) == ["email", "sms"]
    with pytest.raises(ExceptionError):
        exception_customer_notify(exception=lost, actor="test")


def test_reshipping_reserves_stock_again_and_the_replacement_delivers_the_order(
    lost, carrier, stock_ledger_errors
):
    level = StockLevel.objects.get()
    on_hand = level.on_hand

    (replacement,) = exception_reship(exception=lost, actor="test")

    old = Shipment.objects.get(pk=lost.shipment_id)
    assert old.status == Shipment.Status.REPLACED
    assert replacement.status == Shipment.Status.PICKING
    assert Reservation.objects.get(order=old.order).quantity == 2
    assert stock_ledger_errors() == []
    replacement = shipment_ship(
        shipment=replacement, carrier=carrier, tracking_number="SF2", actor="test"
    )
    level.refresh_from_db()
    assert level.on_hand == on_hand - 2
    scan(replacement, "delivered", "已签收")
    order = Order.objects.get(pk=old.order_id)
    assert order.status == S.DELIVERED
    assert "replacement parcel created" in events_of(lost)[-1]


def test_reshipping_without_stock_names_the_shortage_and_changes_nothing(lost):
    StockLevel.objects.update(on_hand=0, reserved=0)

    with pytest.raises(OrderError, match="Not enough stock to send the parcel again"):
        exception_reship(exception=lost, actor="test")

    assert Shipment.objects.get(pk=lost.shipment_id).status == Shipment.Status.SHIPPED
    assert not Reservation.objects.exists()


def test_a_claim_is_filed_and_settled_with_the_carrier(lost):
    claim = carrier_claim_file(
        exception=lost,
        amount=Decimal("100"),
        evidence="2 件红茶，发货照片已提交",
        reference="SF-C-1",
        actor="test",
    )

    with pytest.raises(ExceptionError, match="enter what the carrier paid"):
        carrier_claim_update(claim=claim, status="settled", actor="test")
    carrier_claim_update(
        claim=claim, status="settled", settlement_amount="80.00", actor="test"
    )

    claim.refresh_from_db()
    assert (claim.status, claim.settlement_amount) == ("settled", Decimal("80.00"))
    assert claim.carrier == lost.shipment.carrier
    assert "80.00" in events_of(lost)[-1]


def test_a_claim_over_the_order_total_is_refused(lost):
    with pytest.raises(ExceptionError, match="at most the order total"):
        carrier_claim_file(
            exception=lost, amount=Decimal("99999"), evidence="x", actor="test"
        )
    assert not CarrierClaim.objects.exists()


def test_a_refund_is_handed_to_billing_as_a_lost_parcel(lost):
    refund = exception_refund(exception=lost, amount=Decimal("50.00"), actor="test")

    assert refund.source == Refund.Source.LOST_PARCEL
    assert refund.amount == Decimal("50.00")
    assert refund.source_ref == f"shipment:{lost.shipment_id}"
    assert "handed to billing" in events_of(lost)[-1]


def test_closing_records_the_resolution_and_ends_the_exception(lost):
    exception_close(exception=lost, resolution="已补发并索赔", actor="test")

    lost.refresh_from_db()
    assert lost.status == ParcelException.Status.CLOSED
    assert lost.resolution == "已补发并索赔"
    with pytest.raises(ExceptionError, match="no longer open"):
        exception_close(exception=lost, resolution="again", actor="test")


# --- Console ---------------------------------------------------------------


@pytest.fixture
def staff(client, member):
    def sign_in(role):
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        client.force_login(member(role))
        return client

    return sign_in


def test_the_queue_lists_open_exceptions_with_carrier_and_age_and_filters_by_kind(
    staff, lost
):
    client = staff(CUSTOMER_SERVICE)

    page = client.get(reverse("tracking:exceptions"))
    delayed_only = client.get(reverse("tracking:exceptions") + "?kind=delayed")

    assert list(page.context["exceptions"]) == [lost]
    html = page.content.decode()
    assert lost.shipment.tracking_number in html and "顺丰速运" in html
    assert list(delayed_only.context["exceptions"]) == []


def test_staff_without_the_permission_cannot_open_the_queue(client, lost):
    client.force_login(UserFactory(username="nobody", is_staff=False))

    assert client.get(reverse("tracking:exceptions")).status_code == 403


def test_a_note_is_added_from_the_exception_page(staff, lost):
    client = staff(CUSTOMER_SERVICE)

    response = client.post(
        reverse("tracking:exception_note", args=[lost.pk]),
        {"note-contact": "phone", "note-text": "已致电客户"},
    )

    assert response.status_code == 302
    page = client.get(reverse("tracking:exception_detail", args=[lost.pk]))
    assert "已致电客户" in page.content.decode()


def test_a_claim_without_an_amount_is_shown_with_the_field_error(staff, lost):
    client = staff(CUSTOMER_SERVICE)

    response = client.post(
        reverse("tracking:exception_claim", args=[lost.pk]),
        {"claim-amount": "", "claim-evidence": "照片"},
    )

    assert response.status_code == 400
    assert response.context["claim_form"].errors == {
        "amount": ["This field is required."]
    }
    assert not CarrierClaim.objects.exists()


def test_customer_service_cannot_reship_but_the_warehouse_can(staff, lost):
    url = reverse("tracking:exception_reship", args=[lost.pk])

    assert staff(CUSTOMER_SERVICE).post(url).status_code == 403
    assert staff(WAREHOUSE).post(url).status_code == 302
    assert Shipment.objects.filter(status=Shipment.Status.PICKING).count() == 1


def test_the_warehouse_cannot_refund_a_lost_parcel_nor_see_the_refund_form(staff, lost):
    url = reverse("tracking:exception_refund", args=[lost.pk])
    data = {"refund-amount": "50.00", "refund-reason": "丢件"}
    warehouse = staff(WAREHOUSE)

    assert warehouse.post(url, data).status_code == 403
    page = warehouse.get(reverse("tracking:exception_detail", args=[lost.pk]))
    assert url not in page.content.decode()
    assert not Refund.objects.exists()
    assert staff(CUSTOMER_SERVICE).post(url, data).status_code == 302
    assert Refund.objects.count() == 1


def test_finance_settles_a_claim_from_the_page(staff, lost):
    claim = carrier_claim_file(
        exception=lost, amount=Decimal("60"), evidence="照片", actor="test"
    )

    staff(FINANCE).post(
        reverse("tracking:claim_update", args=[claim.pk]),
        {"settle-status": "settled", "settle-settlement_amount": "60"},
    )

    claim.refresh_from_db()
    assert claim.status == "settled"


def test_the_warehouse_sets_a_transit_standard_on_the_console(staff, carrier):
    client = staff(WAREHOUSE)

    bad = client.post(
        reverse("tracking:standards"), {"carrier": carrier.pk, "hours": 0}
    )
    good = client.post(
        reverse("tracking:standards"),
        {
            "carrier": carrier.pk,
            "origin_province": "浙江省",
            "destination_province": "广东省",
            "hours": 36,
        },
    )

    assert bad.status_code == 400 and "hours" in bad.context["form"].errors
    assert good.status_code == 302
    assert TransitStandard.objects.get().hours == 36


def test_the_dashboard_shows_exception_counts_and_rates_per_carrier(
    staff, lost, place_order, ship
):
    ship(place_order(payment_method="cod"))  # a second parcel, no trouble

    response = staff(OWNER).get(reverse("console:dashboard"))

    html = response.content.decode()
    assert '<tr data-carrier="顺丰速运">' in html
    assert 'data-rate="50.0"' in html  # 1 of 2 parcels lost
    assert '?status=open&amp;kind=lost" data-kind="lost"><strong>1</strong>' in html
