import csv
import io

import pytest
from django.urls import reverse

from orders.models import ImportBatch, Order
from orders.roles import CUSTOMER_SERVICE, WAREHOUSE
from tests.factories.marketplace_files import taobao_file, taobao_row


@pytest.fixture
def clerk(client, member):
    client.force_login(member(CUSTOMER_SERVICE))
    return client


def upload(client, taobao, rows, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("imports:list"),
            {"channel": taobao.pk, "platform": "", "file": taobao_file(rows)},
        )


def test_a_clerk_uploads_an_export_and_sees_what_it_did(
    clerk, taobao, tea, django_capture_on_commit_callbacks
):
    response = upload(
        clerk,
        taobao,
        [taobao_row("T1"), taobao_row("T2", title="没有对应的商品")],
        django_capture_on_commit_callbacks,
    )

    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("imports:detail", args=[batch.pk])
    page = clerk.get(response.url).content.decode()
    assert "没有对应的商品" in page
    assert Order.objects.filter(external_id="T1").exists()
    progress = clerk.get(reverse("imports:progress", args=[batch.pk])).json()
    assert progress["finished"] and progress["percent"] == 100
    assert (progress["created"], progress["rejected"]) == (1, 1)


def test_the_report_lists_every_rejected_row_for_excel(
    clerk, taobao, tea, django_capture_on_commit_callbacks
):
    upload(
        clerk,
        taobao,
        [taobao_row("T1", title="?"), taobao_row("T2", status="交易关闭")],
        django_capture_on_commit_callbacks,
    )
    batch = ImportBatch.objects.get()

    response = clerk.get(reverse("imports:report", args=[batch.pk]))

    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert [(row[0], row[3]) for row in rows[1:]] == [
        ("2", "unknown_sku"),
        ("3", "closed"),
    ]


def test_an_upload_without_a_file_says_what_is_missing(clerk, taobao):
    response = clerk.post(reverse("imports:list"), {"channel": taobao.pk})

    assert response.status_code == 400
    assert response.context["form"].errors["file"]
    assert not ImportBatch.objects.exists()


def test_the_warehouse_cannot_import_orders(client, member, taobao):
    client.force_login(member(WAREHOUSE))

    assert client.get(reverse("imports:list")).status_code == 403


def test_the_upload_needs_a_csrf_token(taobao, member):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member(CUSTOMER_SERVICE))

    response = browser.post(
        reverse("imports:list"),
        {"channel": taobao.pk, "file": taobao_file([taobao_row("T1")])},
    )

    assert response.status_code == 403
