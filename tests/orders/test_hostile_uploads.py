"""Every upload form refuses a file that is too big or not a spreadsheet, and every CSV
download neutralises cells a spreadsheet would run as a formula."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from billing.cod_forms import RemittanceImportForm, SettlementImportForm
from fulfillment.forms import TrackingUploadForm
from inventory.forms import StockImportForm
from inventory.services import stock_receive
from orders.exports import SafeCsvWriter
from orders.import_forms import ImportUploadForm
from orders.models import ImportBatch, ImportRejection
from orders.roles import CUSTOMER_SERVICE, WAREHOUSE
from tests.factories.inventory import ProductFactory

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(64)

# form, its size limit, the message for a file over it, the message for a binary
UPLOAD_FORMS = [
    pytest.param(
        ImportUploadForm,
        200 << 20,
        "The file is larger than 200 MB; import it with the command.",
        "This is neither a CSV nor an XLSX file; save it as one and try again.",
        id="marketplace orders",
    ),
    pytest.param(
        StockImportForm,
        5 << 20,
        "The file is larger than 5 MB.",
        "This is not a CSV file; save it as CSV and try again.",
        id="stock counts",
    ),
    pytest.param(
        TrackingUploadForm,
        2 << 20,
        "The file is larger than 2 MB; split it.",
        "This is not a CSV file; save it as CSV and try again.",
        id="tracking numbers",
    ),
    pytest.param(
        RemittanceImportForm,
        5 << 20,
        "The file is larger than 5 MB.",
        "This is not a CSV file; save it as CSV and try again.",
        id="COD remittance",
    ),
    pytest.param(
        SettlementImportForm,
        5 << 20,
        "The file is larger than 5 MB.",
        "This is not a CSV file; save it as CSV and try again.",
        id="marketplace settlement",
    ),
]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def file_errors(form_class, upload):
    form = form_class(data={}, files={"file": upload})
    form.is_valid()
    return form.errors.get("file")


@pytest.mark.django_db
@pytest.mark.parametrize(("form_class", "limit", "too_big", "_binary"), UPLOAD_FORMS)
def test_a_file_over_the_limit_is_refused_with_the_limit(
    form_class, limit, too_big, _binary
):
    upload = SimpleUploadedFile("orders.csv", b"a,b\n1,2\n")
    upload.size = limit + 1  # the form reads the size, not the bytes

    assert file_errors(form_class, upload) == [too_big]


@pytest.mark.django_db
@pytest.mark.parametrize(("form_class", "_limit", "_too_big", "binary"), UPLOAD_FORMS)
@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(("photo.csv", PNG), id="a PNG renamed .csv"),
        pytest.param(("orders.csv", ZIP), id="a zip renamed .csv"),
    ],
)
def test_a_binary_file_renamed_csv_is_refused(
    form_class, _limit, _too_big, binary, upload
):
    name, content = upload

    assert file_errors(form_class, SimpleUploadedFile(name, content)) == [binary]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("form_class", "name"),
    [
        (StockImportForm, "stock.csv"),
        (TrackingUploadForm, "ship.csv"),
        (RemittanceImportForm, "cod.csv"),
        (SettlementImportForm, "settle.csv"),
        (ImportUploadForm, "taobao.csv"),
    ],
)
def test_a_csv_in_gbk_passes_the_file_checks(form_class, name):
    upload = SimpleUploadedFile(name, "订单编号,金额\n1,=1+1\n".encode("gb18030"))

    assert file_errors(form_class, upload) is None


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_starts_a_formula_goes_out_quoted(lead):
    out = io.StringIO()

    SafeCsvWriter(out).writerow([f'{lead}HYPERLINK("http://evil")', "ok", -3])

    assert next(csv.reader(io.StringIO(out.getvalue()))) == [
        f'\'{lead}HYPERLINK("http://evil")',
        "ok",
        "-3",
    ]


def download_rows(response):
    text = (
        b"".join(response).decode("utf-8")
        if response.streaming
        else (response.content.decode("utf-8"))
    )
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_import_report_neutralises_cells_repeated_from_the_upload(
    client, member, channel
):
    client.force_login(member(CUSTOMER_SERVICE))
    batch = ImportBatch.objects.create(
        channel=channel, file="imports/x.csv", original_name="x.csv"
    )
    ImportRejection.objects.create(
        batch=batch, row=2, code="unknown_sku", message='=cmd|"/c calc"!A1'
    )

    rows = download_rows(client.get(reverse("imports:report", args=[batch.pk])))

    assert rows[1][5] == '\'=cmd|"/c calc"!A1'


@pytest.mark.parametrize("url", ["stock:export", "stock:replenishment_export"])
def test_stock_downloads_neutralise_a_product_named_like_a_formula(
    client, member, warehouse, url
):
    product = ProductFactory(sku="@SUM", name='=HYPERLINK("http://evil")')
    stock_receive(product=product, warehouse=warehouse, quantity=1, actor="test")
    client.force_login(member(WAREHOUSE))

    cells = [cell for row in download_rows(client.get(reverse(url))) for cell in row]

    assert "'@SUM" in cells
    assert not any(cell[:1] in "=+-@" and cell for cell in cells)


@pytest.mark.django_db
def test_a_real_xlsx_passes_the_marketplace_import_checks():
    from openpyxl import Workbook

    book, out = Workbook(), io.BytesIO()
    book.active.append(["订单编号", "买家实际支付金额"])
    book.save(out)

    upload = SimpleUploadedFile("taobao.csv", out.getvalue())

    assert file_errors(ImportUploadForm, upload) is None
