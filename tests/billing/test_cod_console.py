"""Finance's console pages: COD reconciliation, remittances, settlements; who may see them."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.cod import cod_collection_record, cod_remittance_create
from billing.models import CodDifference, CodRemittance, MarketplaceSettlement
from orders.models import Channel
from orders.roles import CUSTOMER_SERVICE, FINANCE
from tests.factories.orders import ChannelFactory, OrderFactory


@pytest.fixture
def finance(client, member):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(FINANCE))
    return client


@pytest.fixture
def collected_parcel(place_order, ship, staff_user):
    order = place_order(payment_method="cod")
    [parcel] = ship(order)
    cod_collection_record(order=order, amount=order.total, actor=staff_user)
    return parcel


@pytest.mark.parametrize(
    "name",
    ["cod_reconciliation", "cod_remittances", "settlements"],
)
def test_customer_service_cannot_see_finance_screens(client, member, name):
    client.force_login(member(CUSTOMER_SERVICE))

    assert client.get(reverse(f"finance:{name}")).status_code == 403


def test_customer_service_cannot_resolve_a_difference(
    client, member, collected_parcel, carrier, staff_user
):
    cod_remittance_create(
        carrier=carrier,
        reference="R1",
        remitted_on=date(2026, 11, 27),
        rows=[(collected_parcel.tracking_number, "1.00")],
        actor=staff_user,
    )
    difference = CodDifference.objects.get()
    client.force_login(member(CUSTOMER_SERVICE))

    response = client.post(
        reverse("finance:cod_difference_resolve", args=[difference.pk]),
        {"note": "ok"},
    )

    assert response.status_code == 403
    difference.refresh_from_db()
    assert difference.resolved_at is None


def test_finance_imports_a_remittance_and_resolves_its_difference(
    finance, collected_parcel, carrier
):
    upload = SimpleUploadedFile(
        "回款.csv",
        f"运单号,金额\n{collected_parcel.tracking_number},120.00\nX,abc\n".encode(
            "gbk"
        ),
        content_type="text/csv",
    )

    response = finance.post(
        reverse("finance:cod_remittance_import"),
        {
            "import-carrier": carrier.pk,
            "import-reference": "SF-202611",
            "import-remitted_on": "2026-11-27",
            "import-file": upload,
        },
        follow=True,
    )

    remittance = CodRemittance.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "finance:cod_remittance_detail", args=[remittance.pk]
    )
    page = response.content.decode()
    assert "&#x27;abc&#x27; is not an amount." in page
    assert "Remitted short" in page

    page = finance.get(reverse("finance:cod_reconciliation")).content.decode()
    assert collected_parcel.tracking_number in page
    difference = CodDifference.objects.get()
    response = finance.post(
        reverse("finance:cod_difference_resolve", args=[difference.pk]),
        {"note": "顺丰补款"},
    )
    assert response.status_code == 302
    difference.refresh_from_db()
    assert difference.resolution_note == "顺丰补款"
    assert difference.resolved_by.username == f"user-{FINANCE}"


def test_an_upload_that_is_not_csv_is_refused_with_a_message(finance, carrier):
    upload = SimpleUploadedFile("回款.xlsx", b"PK\x03\x04", content_type="x")

    response = finance.post(
        reverse("finance:cod_remittance_import"),
        {
            "import-carrier": carrier.pk,
            "import-reference": "R",
            "import-remitted_on": "2026-11-27",
            "import-file": upload,
        },
    )

    assert response.status_code == 400
    assert "This is not a CSV file; save it as CSV and try again." in (
        response.content.decode()
    )
    assert not CodRemittance.objects.exists()


def test_finance_enters_a_remittance_by_hand(finance, collected_parcel, carrier):
    response = finance.post(
        reverse("finance:cod_remittance_new"),
        {
            "manual-carrier": carrier.pk,
            "manual-reference": "R-HAND",
            "manual-remitted_on": "2026-11-27",
            "manual-rows": f"{collected_parcel.tracking_number} 128.00\n",
        },
    )

    assert response.status_code == 302
    remittance = CodRemittance.objects.get()
    assert remittance.source == CodRemittance.Source.MANUAL
    assert remittance.lines.get().collection.shipment == collected_parcel
    assert not CodDifference.objects.exists()


def test_finance_imports_a_settlement_and_sees_the_unmatched_rows(finance):
    taobao = ChannelFactory(code="taobao", name="淘宝", kind=Channel.Kind.MARKETPLACE)
    OrderFactory(channel=taobao, external_id="3187000000000001")
    upload = SimpleUploadedFile(
        "结算.csv",
        "订单编号,实收金额,佣金,结算时间\n3187000000000001,95.00,5.00,2026-11-20\n"
        "3187000000000999,10.00,0.50,2026-11-20\n".encode("gb18030"),
        content_type="text/csv",
    )

    response = finance.post(
        reverse("finance:settlements"),
        {"channel": taobao.pk, "file": upload},
        follow=True,
    )

    settlement = MarketplaceSettlement.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "finance:settlement_detail", args=[settlement.pk]
    )
    page = response.content.decode()
    assert "3187000000000999" in page
    assert "No such order" in page


def test_the_order_page_shows_each_parcels_cash_and_its_remittance(
    finance, collected_parcel, carrier, staff_user
):
    cod_remittance_create(
        carrier=carrier,
        reference="SF-R-77",
        remitted_on=date(2026, 11, 27),
        rows=[(collected_parcel.tracking_number, "128.00")],
        actor=staff_user,
    )

    page = finance.get(collected_parcel.order.get_absolute_url()).content.decode()

    assert "Cash on delivery per parcel" in page
    assert "SF-R-77" in page
    assert "Cash on delivery: remitted" in page


def test_the_order_page_shows_the_marketplace_settlement(finance, staff_user):
    from billing.settlements import settlement_import

    taobao = ChannelFactory(code="taobao", name="淘宝", kind=Channel.Kind.MARKETPLACE)
    order = OrderFactory(channel=taobao, external_id="3187000000000001")
    settlement_import(
        channel=taobao,
        data="订单编号,实收金额,佣金\n3187000000000001,94.50,5.50\n".encode(),
        actor=staff_user,
    )

    page = finance.get(order.get_absolute_url()).content.decode()

    assert "Marketplace settlement" in page
    assert "94.50" in page and "5.50" in page


def test_finance_resolves_a_settlement_difference_from_the_settlement_page(
    finance, staff_user
):
    from billing.settlements import settlement_import

    taobao = ChannelFactory(code="taobao", name="淘宝", kind=Channel.Kind.MARKETPLACE)
    OrderFactory(channel=taobao, external_id="3187000000000001")
    settlement = settlement_import(
        channel=taobao,
        data="订单编号,实收金额,佣金\n3187000000000001,80.00,5.00\n".encode(),
        actor=staff_user,
    )
    detail = reverse("finance:settlement_detail", args=[settlement.pk])
    line = settlement.lines.get()
    resolve = reverse("finance:settlement_line_resolve", args=[line.pk])
    assert resolve in finance.get(detail).content.decode()
    listed = finance.get(reverse("finance:settlements")).context["settlements"]
    assert [s.open_count for s in listed] == [1]

    response = finance.post(
        resolve, {"note": "Platform coupon", "next": detail}, follow=True
    )

    assert response.redirect_chain[-1][0] == detail
    page = response.content.decode()
    assert "Difference resolved." in page
    assert resolve not in page  # no longer an open problem
    every_row = finance.get(detail + "?show=all").content.decode()
    assert "Platform coupon" in every_row
    listed = finance.get(reverse("finance:settlements")).context["settlements"]
    assert [s.open_count for s in listed] == [0]


def test_customer_service_cannot_resolve_a_settlement_row(client, member, staff_user):
    from billing.settlements import settlement_import

    taobao = ChannelFactory(code="taobao", name="淘宝", kind=Channel.Kind.MARKETPLACE)
    settlement = settlement_import(
        channel=taobao,
        data="订单编号,实收金额,佣金\n3187000000000999,80.00,5.00\n".encode(),
        actor=staff_user,
    )
    line = settlement.lines.get()
    client.force_login(member(CUSTOMER_SERVICE))

    response = client.post(
        reverse("finance:settlement_line_resolve", args=[line.pk]), {"note": "x"}
    )

    assert response.status_code == 403
    line.refresh_from_db()
    assert line.resolved_at is None
