"""Odd names and addresses: stored as sent and shown escaped, or refused with a field error.

Through the JSON API and the phone-order form; shown on the console order page, the
customer's status page and the parcel label.
"""

import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from fulfillment.labels import labels_pdf
from fulfillment.services import fulfillment_start
from fulfillment.shipping import shipment_tracking_assign
from orders.models import Channel, Order
from orders.roles import CUSTOMER_SERVICE
from orders.services import channel_token_issue
from tests.factories.orders import ChannelFactory
from tests.orders.test_console_phone_order import URL as PHONE_ORDER_URL
from tests.orders.test_console_phone_order import order_post

ODD_NAMES = [
    pytest.param("<script>alert('x')</script>", id="a script tag"),
    pytest.param("王\u202e明小", id="a right-to-left override"),
    pytest.param("王\u200d小\u200c明\u200b", id="zero-width joiners and spaces"),
    pytest.param("👩‍👩‍👧 小明 🇨🇳", id="emoji sequences"),
    pytest.param("Zoe\u0301\u0308\u0323\u0330", id="stacked combining marks"),
    pytest.param("王" * 100, id="the longest name"),
]

PAYLOAD = {
    "customer": {"name": "", "phone": "13800138000"},
    "shipping_address": {
        "province": "广东省",
        "city": "深圳市",
        "district": "南山区",
        "detail": "",
    },
    "lines": [{"sku": "TEA-001", "quantity": 1}],
    "payment_method": "cod",
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def api(channel, stocked_product):
    stocked_product.sku = "TEA-001"
    stocked_product.save()
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {channel_token_issue(channel=channel)}"
    )
    return client


def api_order(api, *, name, detail="科技园路1号", external_id="ODD-1"):
    payload = {
        **PAYLOAD,
        "external_id": external_id,
        "customer": {**PAYLOAD["customer"], "name": name},
        "shipping_address": {**PAYLOAD["shipping_address"], "detail": detail},
    }
    return api.post("/api/v1/orders/", payload, format="json")


def assert_escaped(html: str, text: str, *, shown: bool = True):
    """The raw text never reaches the page as markup; where shown, it is escaped."""
    assert "<script>alert" not in html
    if shown and "<" in text:
        assert "&lt;script&gt;alert" in html


@pytest.mark.parametrize("name", ODD_NAMES)
def test_an_odd_name_and_address_are_stored_as_sent_and_shown_escaped(
    api, client, member, carrier, name
):
    detail = f"{name} 科技园路1号"[:200]
    response = api_order(api, name=name, detail=detail)
    assert response.status_code == 201, response.content
    order = Order.objects.get(number=response.json()["number"])
    assert (order.customer.name, order.recipient_name) == (name, name)
    assert order.address_detail == detail

    client.force_login(member(CUSTOMER_SERVICE))
    console = client.get(reverse("console:order_detail", args=[order.number]))
    assert console.status_code == 200
    assert_escaped(console.text, name)

    client.logout()
    client.post(
        reverse("track:lookup"), {"number": order.number, "phone": "13800138000"}
    )
    status_page = client.get(reverse("track:order", args=[order.number]))
    assert status_page.status_code == 200
    assert_escaped(status_page.text, name, shown=False)  # it shows no name

    (parcel,) = fulfillment_start(order=order, actor="test")
    parcel = shipment_tracking_assign(
        shipment=parcel, carrier=carrier, tracking_number="SF1234567890123", actor="t"
    )
    assert labels_pdf([parcel]).startswith(b"%PDF")


NUL = "Null characters are not allowed."


@pytest.mark.parametrize(
    ("name", "detail", "errors"),
    [
        pytest.param(
            "王\x00明",
            "科技园路1号",
            {"customer": {"name": [NUL]}},
            id="NUL in the name",
        ),
        pytest.param(
            "王明",
            "科技园路\x001号",
            {"shipping_address": {"detail": [NUL]}},
            id="NUL in the address",
        ),
        pytest.param(
            "王" * 700,
            "科技园路1号",
            {
                "customer": {
                    "name": ["Ensure this field has no more than 100 characters."]
                }
            },
            id="a 2 KB name",
        ),
        pytest.param(
            "王明",
            "路" * 400,
            {
                "shipping_address": {
                    "detail": ["Ensure this field has no more than 200 characters."]
                }
            },
            id="a 1 KB address",
        ),
    ],
)
def test_a_nul_byte_or_an_overlong_field_is_a_field_error(api, name, detail, errors):
    response = api_order(api, name=name, detail=detail)

    assert response.status_code == 400
    assert response.json() == errors
    assert not Order.objects.exists()


@pytest.fixture
def phone_channel(db):
    return ChannelFactory(code="phone", name="电话订购", kind=Channel.Kind.PHONE)


@pytest.fixture
def clerk(client, member):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(CUSTOMER_SERVICE))
    return client


@pytest.mark.parametrize("name", ODD_NAMES)
def test_the_phone_order_form_stores_an_odd_name_and_shows_it_escaped(
    clerk,
    phone_channel,
    stocked_product,
    name,
):
    response = clerk.post(
        PHONE_ORDER_URL, order_post((stocked_product.sku, 1), customer_name=name)
    )

    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    assert order.customer.name == name
    assert_escaped(clerk.get(order.get_absolute_url()).text, name)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        pytest.param("customer_name", "王\x00明", NUL, id="NUL in the name"),
        pytest.param("address_detail", "路\x00", NUL, id="NUL in the address"),
        pytest.param(
            "customer_name",
            "王" * 700,
            "Ensure this value has at most 100 characters (it has 700).",
            id="a 2 KB name",
        ),
        pytest.param(
            "address_detail",
            "路" * 400,
            "Ensure this value has at most 200 characters (it has 400).",
            id="a 1 KB address",
        ),
    ],
)
def test_the_phone_order_form_refuses_a_nul_byte_or_an_overlong_field(
    clerk,
    phone_channel,
    stocked_product,
    field,
    value,
    message,
):
    response = clerk.post(
        PHONE_ORDER_URL, order_post((stocked_product.sku, 1), **{field: value})
    )

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/orders/A%00B/",
        "/api/v1/orders/A%00B/returns/",
        "/console/orders/A%00B/",
        "/console/orders/?q=%00",
        "/track/?number=A%00B",
    ],
)
def test_a_nul_byte_in_the_url_is_a_bad_request_not_a_database_error(api, clerk, url):
    """PostgreSQL cannot hold NUL in text: the order number in a URL once failed the query."""
    caller = api if url.startswith("/api/") else clerk

    assert caller.get(url).status_code == 400
