"""The customer pages (客户关系): totals, notes, contact details, merging two records, export."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from fulfillment.return_models import ReturnRequest
from orders.customer_services import customers_merge
from orders.exceptions import OrderError
from orders.models import Customer, CustomerNote, Order, OrderEvent
from orders.roles import CUSTOMER_SERVICE, FINANCE, OWNER, WAREHOUSE
from tests.factories.orders import ChannelFactory, CustomerFactory, OrderFactory
from tracking.models import Notification


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def english_pages(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def console(client, member):
    client.force_login(member(OWNER))
    return client


def _notification(customer, order=None, **fields):
    return Notification.objects.create(
        customer=customer,
        order=order,
        channel=fields.pop("channel", Notification.Channel.SMS),
        template=fields.pop("template", "order_shipped"),
        recipient=customer.phone,
        dedupe_key=f"test-{customer.pk}-{order.pk if order else 0}",
        **fields,
    )


def test_customer_page_shows_totals_counted_by_hand(console, warehouse):
    customer = CustomerFactory()
    OrderFactory(customer=customer, subtotal=Decimal("100.00"), total=Decimal("100.00"))
    OrderFactory(
        customer=customer,
        subtotal=Decimal("50.50"),
        total=Decimal("50.50"),
        channel=ChannelFactory(code="taobao", name="淘宝"),
    )
    returned = OrderFactory(
        customer=customer, subtotal=Decimal("30.00"), total=Decimal("30.00")
    )
    OrderFactory(
        customer=customer,
        subtotal=Decimal("999.00"),
        total=Decimal("999.00"),
        status="cancelled",
    )
    OrderFactory()  # someone else's
    ReturnRequest.objects.create(
        number="R1", order=returned, reason="damaged", warehouse=warehouse
    )

    response = console.get(reverse("customers:detail", args=[customer.pk]))

    totals = response.context["totals"]
    assert totals.orders == 4
    assert totals.spent == Decimal("180.50")
    assert totals.average == Decimal("60.17")  # 180.50 / 3 orders not cancelled
    assert totals.returns == 1
    assert len(response.context["orders"]) == 4
    assert b"R1" in response.content


def test_customer_page_reads_as_many_queries_for_ten_orders_as_for_one(
    console, warehouse
):
    def queries(count):
        customer = CustomerFactory()
        for _ in range(count):
            order = OrderFactory(customer=customer)
            _notification(customer, order)
            ReturnRequest.objects.create(
                number=f"R{order.pk}",
                order=order,
                reason="damaged",
                warehouse=warehouse,
            )
            CustomerNote.objects.create(customer=customer, text="called")
        url = reverse("customers:detail", args=[customer.pk])
        with CaptureQueriesContext(connection) as captured:
            assert console.get(url).status_code == 200
        return len(captured)

    assert queries(1) == queries(10)


def test_customer_page_lists_the_messages_sent(console):
    customer = CustomerFactory()
    order = OrderFactory(customer=customer)
    _notification(customer, order, status=Notification.Status.SENT)

    response = console.get(reverse("customers:detail", args=[customer.pk]))

    assert [n.template for n in response.context["notifications"]] == ["order_shipped"]
    assert b"order_shipped" in response.content


def test_staff_add_a_note_with_who_and_when(client, member):
    user = member(CUSTOMER_SERVICE)
    client.force_login(user)
    customer = CustomerFactory()

    response = client.post(
        reverse("customers:note", args=[customer.pk]), {"text": "Prefers calls"}
    )

    assert response.status_code == 302
    note = customer.notes.get()
    assert (note.text, note.author) == ("Prefers calls", user)
    page = client.get(reverse("customers:detail", args=[customer.pk]))
    assert "Prefers calls" in page.content.decode()


def test_customer_service_changes_the_contact_details_with_the_phone_normalised(
    client, member
):
    client.force_login(member(CUSTOMER_SERVICE))
    customer = CustomerFactory()

    client.post(
        reverse("customers:contact", args=[customer.pk]),
        {"name": "李四", "phone": "139 0013 9000", "email": "li@example.com"},
    )

    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.email) == (
        "李四",
        "+8613900139000",
        "li@example.com",
    )
    assert customer.notes.get().text.startswith(
        "Contact details changed: name: 张三 → 李四"
    )


def test_a_phone_of_another_customer_is_refused(client, member):
    client.force_login(member(CUSTOMER_SERVICE))
    other = CustomerFactory(phone="+8613900139000")
    customer = CustomerFactory()

    response = client.post(
        reverse("customers:contact", args=[customer.pk]),
        {"name": "李四", "phone": "13900139000", "email": ""},
        follow=True,
    )

    customer.refresh_from_db()
    assert customer.phone != other.phone
    assert (
        "Another customer has the phone +8613900139000: merge the two records instead."
        in response.content.decode()
    )


def test_the_list_finds_customers_by_name_phone_last_four_and_email(console):
    wang = CustomerFactory(
        name="王五", phone="+8613912345678", email="wang@example.com"
    )
    CustomerFactory(name="赵六", phone="+8613800001111", email="zhao@example.com")

    def found(q):
        response = console.get(reverse("customers:list"), {"q": q})
        return [c.pk for c in response.context["page"].customers]

    assert found("王") == [wang.pk]
    assert found("5678") == [wang.pk]
    assert found("139 1234 5678") == [wang.pk]
    assert found("+86 139 1234 5678") == [wang.pk]
    assert found("wang@example.com") == [wang.pk]


def test_merge_moves_orders_messages_and_notes_and_records_who_merged(staff_user):
    keep = CustomerFactory(name="张三", phone="+8613800138000", email="")
    merge = CustomerFactory(name="张三", phone="+8613900139000", email="z@example.com")
    moved = [OrderFactory(customer=merge), OrderFactory(customer=merge)]
    kept_order = OrderFactory(customer=keep)
    message = _notification(merge, moved[0])
    CustomerNote.objects.create(customer=merge, text="VIP")

    customers_merge(keep=keep, merge=merge, actor=staff_user)

    assert not Customer.objects.filter(pk=merge.pk).exists()
    assert set(Order.objects.filter(customer=keep)) == {*moved, kept_order}
    message.refresh_from_db()
    assert message.customer == keep
    keep.refresh_from_db()
    assert (keep.phone, keep.email) == ("+8613800138000", "z@example.com")
    texts = list(keep.notes.values_list("text", flat=True))
    assert "VIP" in texts
    assert (
        "Merged customer 张三 (+8613900139000) into 张三 (+8613800138000). "
        "2 orders moved." in texts
    )
    events = OrderEvent.objects.filter(order__in=moved, kind=OrderEvent.Kind.NOTE)
    assert {(e.order_id, e.actor) for e in events} == {
        (o.pk, staff_user) for o in moved
    }
    assert not OrderEvent.objects.filter(order=kept_order, kind="note").exists()


def test_merge_takes_the_merged_phone_when_the_kept_record_has_none(staff_user):
    keep = CustomerFactory(phone="")
    merge = CustomerFactory(phone="+8613900139000")

    customers_merge(keep=keep, merge=merge, actor=staff_user)

    keep.refresh_from_db()
    assert keep.phone == "+8613900139000"


def test_a_customer_cannot_be_merged_into_itself(staff_user):
    customer = CustomerFactory()

    with pytest.raises(OrderError, match="A customer cannot be merged into itself."):
        customers_merge(keep=customer, merge=customer, actor=staff_user)


def test_the_merge_screen_merges_the_chosen_customer(console):
    keep, merge = CustomerFactory(), CustomerFactory(name="李四")
    OrderFactory(customer=merge)

    search = console.get(
        reverse("customers:detail", args=[keep.pk]), {"merge_q": "李四"}
    )
    assert [c.pk for c in search.context["merge_candidates"]] == [merge.pk]
    response = console.post(
        reverse("customers:merge", args=[keep.pk]), {"merge": merge.pk}, follow=True
    )

    assert "was merged into this customer" in response.content.decode()
    assert keep.orders.count() == 1


@pytest.mark.parametrize(
    "name", ["customers:list", "customers:detail", "customers:merge"]
)
def test_warehouse_staff_may_not_open_the_customer_pages(client, member, name):
    client.force_login(member(WAREHOUSE))
    customer = CustomerFactory()
    kwargs = {} if name == "customers:list" else {"pk": customer.pk}

    response = client.post(reverse(name, kwargs=kwargs), {"merge": customer.pk})
    get = client.get(reverse(name, kwargs=kwargs))

    assert response.status_code == 403
    assert get.status_code in (403, 405)


def test_finance_may_not_merge_customers(client, member):
    client.force_login(member(FINANCE))
    keep, merge = CustomerFactory(), CustomerFactory()

    response = client.post(
        reverse("customers:merge", args=[keep.pk]), {"merge": merge.pk}
    )

    assert response.status_code == 403
    assert Customer.objects.filter(pk=merge.pk).exists()


def test_export_writes_the_searched_customers_with_their_figures(console):
    wang = CustomerFactory(
        name="王五", phone="+8613912345678", email="=cmd@example.com"
    )
    OrderFactory(customer=wang, subtotal=Decimal("20.00"), total=Decimal("20.00"))
    OrderFactory(customer=wang, subtotal=Decimal("5.00"), total=Decimal("5.00"))
    CustomerFactory(name="赵六")

    response = console.get(reverse("customers:export"), {"q": "王"})

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:5] == ["Name", "Phone", "Email", "Orders", "Spent"]
    assert rows[1][:5] == ["王五", "'+8613912345678", "'=cmd@example.com", "2", "25.00"]
    assert len(rows) == 2


def test_export_as_xlsx(console):
    CustomerFactory(name="王五")

    response = console.get(reverse("customers:export"), {"format": "xlsx"})

    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument"
    )


def test_the_order_page_links_the_customer(console):
    order = OrderFactory()

    response = console.get(order.get_absolute_url())

    assert order.customer.get_absolute_url() in response.content.decode()
