"""Marketplace order imports: a Taobao/JD/Pinduoduo export file in, orders out, exactly once.

A file is read as a stream (``orders.adapters.marketplaces``) and taken in chunks: the
chunk's new orders are created together in one transaction (``orders.bulk``) under the
same rules as single orders, and orders seen before are compared with their last
import: a closed order is cancelled, a paid one has its payment recorded, a changed
address corrects the order, each through the order's own services so the change is
on its timeline. Every row not taken is kept with its row number and why; the good
rows land. Importing the same file again finds every order unchanged.
"""

import gc
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Payment
from billing.services import payment_confirm, payments_record_marketplace
from config.bulk import bulk_insert
from config.processes import pool_map, pool_worker_index
from inventory.models import Product
from orders.adapters.marketplace_files import MarketplaceFileError, row_estimate
from orders.adapters.marketplaces import (
    MarketplaceOrder,
    RowError,
    read_orders,
)
from orders.addresses import address_parse
from orders.bulk import BulkItem, orders_create_bulk
from orders.exceptions import OrderError
from orders.models import (
    Channel,
    ChannelListing,
    ImportBatch,
    ImportRejection,
    Order,
)
from orders.services import (
    CORRECTABLE_FIELDS,
    LineInput,
    OrderInput,
    order_cancel,
    order_correct,
)

log = logging.getLogger(__name__)

S = Order.Status
PS = Order.PaymentStatus
CHUNK_ORDERS = 2000
PAID_ON_PLATFORM = ("paid", "shipped", "completed")

# Why a row was not taken, in the reader's language; the stored message adds detail.
REJECTION_MESSAGES = {
    "missing_id": _("The order id is empty."),
    "duplicate_order": _("The order appears twice in the file."),
    "order_has_errors": _("Another row of this order has an error."),
    "item_without_order": _("The items file lists an order the orders file does not."),
    "unknown_status": _("The platform's order status is not known."),
    "bad_quantity": _("The quantity is not a positive whole number."),
    "bad_money": _("An amount is not a number."),
    "bad_date": _("A date cannot be read."),
    "no_lines": _(
        "The file lists no items for this order; for Taobao, upload the 宝贝报表 too."
    ),
    "unknown_sku": _(
        "No product matches this item; add its SKU or a marketplace listing."
    ),
    "closed": _("Closed on the platform before it was imported: nothing to ship."),
    "already_shipped": _(
        "Already shipped or finished on the platform; it is not imported to ship again."
    ),
    "refused": _("The order was refused."),
    "closed_too_late": _(
        "Closed on the platform, but the order has already left the warehouse."
    ),
    "changed_too_late": _(
        "The address changed on the platform after fulfilment started; call the warehouse."
    ),
    "amount_too_high": _("The paid amount is more than the goods and shipping."),
}


def rejection_message(rejection: ImportRejection) -> str:
    return str(REJECTION_MESSAGES.get(rejection.code, rejection.message))


@dataclass
class _Chunk:
    records: list[MarketplaceOrder] = field(default_factory=list)
    rejections: list[ImportRejection] = field(default_factory=list)
    rows_done: int = 0  # rows of the file read up to the end of this chunk


@dataclass
class ChunkCounts:
    """What taking one chunk did."""

    rows_done: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0  # rows


@transaction.atomic
def import_batch_create(
    *,
    channel: Channel,
    file,
    actor,
    items_file=None,
    platform: str = "",
    queue: bool = True,
) -> ImportBatch:
    """Store the uploaded export (and Taobao items file); queue its import unless told not to."""
    from orders.tasks import import_batch_run_task

    batch = ImportBatch(
        channel=channel,
        platform=platform or channel.import_platform,
        original_name=getattr(file, "name", "")[:200],
        created_by=actor if getattr(actor, "pk", None) else None,
        rows_total=row_estimate(file),
    )
    batch.file.save(file.name, file, save=False)
    if items_file is not None:
        batch.items_file.save(items_file.name, items_file, save=False)
    batch.save()
    if queue:
        transaction.on_commit(
            lambda: import_batch_run_task.delay(batch.pk), robust=True
        )
    return batch


def import_batch_run(
    *, batch_id: int, progress: Callable[[ImportBatch], None] | None = None
) -> ImportBatch:
    """Import the batch's file; safe to run again after a crash (nothing is doubled)."""
    batch = ImportBatch.objects.select_related("channel", "created_by").get(pk=batch_id)
    if batch.status == ImportBatch.Status.DONE:
        return batch
    _restart(batch)
    try:
        stream = _open(batch)
    except MarketplaceFileError as exc:
        return _finish(batch, status=ImportBatch.Status.FAILED, error=str(exc))
    if not batch.platform:
        batch.platform = stream.platform
    chunks = _chunks(stream, batch)
    for counts in import_chunks_take(batch=batch, chunks=chunks):
        _progress_add(batch, counts)
        if progress:
            progress(batch)
    batch = _finish(batch, status=ImportBatch.Status.DONE)
    if progress:
        progress(batch)
    return batch


def _chunks(stream, batch):
    """Yield the file's records in chunks of CHUNK_ORDERS orders, with rows read so far."""
    chunk = _Chunk()
    for record in stream:
        if isinstance(record, RowError):
            chunk.rejections.append(_rejection(batch, record.row, record))
        else:
            chunk.records.append(record)
        if len(chunk.records) >= CHUNK_ORDERS:
            chunk.rows_done = stream.rows_read
            yield chunk
            chunk = _Chunk()
    chunk.rows_done = stream.rows_read
    yield chunk


def _progress_add(batch: ImportBatch, counts: ChunkCounts):
    batch.created_count += counts.created
    batch.updated_count += counts.updated
    batch.unchanged_count += counts.unchanged
    batch.rejected_count += counts.rejected
    # Chunks taken in parallel finish in any order: rows_done only grows.
    batch.rows_done = max(batch.rows_done, counts.rows_done)
    batch.save(
        update_fields=[
            "platform",
            "rows_done",
            "created_count",
            "updated_count",
            "unchanged_count",
            "rejected_count",
        ]
    )


def import_workers() -> int:
    """How many processes take chunks: IMPORT_WORKERS on PostgreSQL, else one.

    SQLite takes one writer at a time, and a caller inside a transaction (a test) must
    see the orders on its own connection.
    """
    connection = connections[router.db_for_write(Order)]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, settings.IMPORT_WORKERS)


def import_chunks_take(*, batch: ImportBatch, chunks) -> Iterator[ChunkCounts]:
    """Take the chunks, in several processes when ``import_workers()`` says so.

    In parallel, chunks finish in any order, so across chunks stock goes to orders
    in the order they are taken, not strictly oldest first (within a chunk it is).
    """
    workers = import_workers()
    if workers == 1:
        importer = _Importer(batch)
        for chunk in chunks:
            yield importer.take(chunk)
        return
    yield from pool_map(
        _worker_take,
        chunks,
        workers=workers,
        start=_worker_start,
        start_args=(batch.pk, workers),
    )


_worker_importer = None  # in a worker process: the importer of the batch it serves


def _worker_start(batch_id: int, workers: int):
    global _worker_importer
    batch = ImportBatch.objects.select_related("channel", "created_by").get(pk=batch_id)
    # Order numbers are random within a day: two chunks drawing the same one would
    # wait for each other on the unique index (almost every pair of 2,000 orders).
    lane = (pool_worker_index() % workers, workers)
    _worker_importer = _Importer(batch, number_lane=lane)


def _worker_take(chunk: _Chunk) -> ChunkCounts:
    return _worker_importer.take(chunk)


def _restart(batch: ImportBatch):
    """Start from a clean report: a worker that died mid-way left a partial one."""
    batch.rejections.all().delete()
    batch.status = ImportBatch.Status.RUNNING
    batch.rows_done = batch.updated_count = batch.unchanged_count = 0
    batch.rejected_count = batch.created_count = 0
    batch.error = ""
    batch.save()


def _open(batch: ImportBatch):
    channel = batch.channel
    return read_orders(
        batch.file.open("rb"),
        platform=None if channel.import_mapping else (batch.platform or None),
        items_file=batch.items_file.open("rb") if batch.items_file else None,
        mapping=channel.import_mapping or None,
    )


def _finish(batch: ImportBatch, *, status: str, error: str = "") -> ImportBatch:
    batch.status = status
    batch.error = error[:500]
    batch.finished_at = timezone.now()
    batch.save()
    log.info(
        "import %s (%s) %s: %s rows, created %s, updated %s, unchanged %s, "
        "rejected rows %s %s",
        batch.pk,
        batch.original_name,
        status,
        batch.rows_done,
        batch.created_count,
        batch.updated_count,
        batch.unchanged_count,
        batch.rejected_count,
        error,
    )
    for stored in (batch.file, batch.items_file):
        if stored:
            stored.close()
    return batch


def _rejection(batch, row, error: RowError | None = None, **fields) -> ImportRejection:
    if error is not None:
        fields = {
            "file": error.file,
            "field": error.field,
            "code": error.code,
            "message": error.message,
        }
    fields["message"] = str(fields["message"])[:300]
    return ImportRejection(batch=batch, row=row, **fields)


@contextmanager
def _collector_paused():
    """Pause Python's cycle collector while a chunk is taken.

    A chunk makes a few hundred thousand objects (records, orders, lines, events…)
    that all live until it is written. The collector, woken every 700 new objects,
    would walk them again and again: a quarter of an import's CPU time. They are
    freed by reference counting when the chunk is done; the few cycles among them
    are collected on the collector's next run after it resumes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _record_fingerprint(record: MarketplaceOrder) -> str:
    """Digest of what the platform said, without where in the file it stood."""
    parts = [str(getattr(record, name)) for name in _FINGERPRINT_FIELDS]
    for line in record.lines:
        parts += (
            line.sku,
            line.title,
            str(line.quantity),
            str(line.unit_price),
            line.spec,
            line.product_id,
        )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


_FINGERPRINT_FIELDS = [
    f.name
    for f in dataclass_fields(MarketplaceOrder)
    if f.name not in ("lines", "problems", "source_rows")
]


class _Importer:
    """Takes chunks of one batch: knows the channel's products and who is acting."""

    def __init__(self, batch: ImportBatch, number_lane: tuple[int, int] = (0, 1)):
        self.batch = batch
        self.number_lane = number_lane
        self.channel = batch.channel
        self.actor = batch.created_by or f"channel:{self.channel.code}"
        products = list(Product.objects.all())
        self.by_sku = {p.sku: p for p in products}
        self.by_barcode = {p.barcode: p for p in products if p.barcode}
        self.by_listing = {
            listing.code: listing.product
            for listing in ChannelListing.objects.filter(
                channel=self.channel
            ).select_related("product")
        }

    def take(self, chunk: _Chunk) -> ChunkCounts:
        """Create the chunk's new orders, compare the known ones; return what happened."""
        with _collector_paused():
            return self._take(chunk)

    def _take(self, chunk: _Chunk) -> ChunkCounts:
        counts = ChunkCounts(rows_done=chunk.rows_done)
        rejections = chunk.rejections
        existing = self._existing(chunk.records)
        new = [r for r in chunk.records if r.external_id not in existing]
        try:
            counts.created = self._create(new, rejections)
        except IntegrityError:
            # Another import took some of these orders meanwhile: look again.
            existing = self._existing(chunk.records)
            new = [r for r in chunk.records if r.external_id not in existing]
            counts.created = self._create(new, rejections)
        for record in chunk.records:
            order = existing.get(record.external_id)
            if order is not None:
                self._compare(order, record, rejections, counts)
        bulk_insert(ImportRejection, rejections)
        counts.rejected = len({r.row for r in rejections})
        return counts

    def _existing(self, records) -> dict[str, Order]:
        ids = [r.external_id for r in records]
        return {
            o.external_id: o
            for o in Order.objects.filter(
                channel=self.channel, external_id__in=ids
            ).exclude(external_id="")  # the unique index's condition, so it is used
        }

    # --- new orders -------------------------------------------------------------

    @transaction.atomic
    def _create(self, records, rejections) -> int:
        items, taken = [], []
        for record in records:
            item = self._item(record, rejections)
            if item is not None:
                items.append(item)
                taken.append(record)
        if not items:
            return 0
        result = orders_create_bulk(
            items=items,
            actor=self.actor,
            import_batch=self.batch,
            number_lane=self.number_lane,
        )
        for index, reason in result.errors.items():
            rejections.extend(
                _rejection(self.batch, row, code="refused", field="", message=reason)
                for row in taken[index].source_rows
            )
        paid = {
            r.external_id: r.paid_amount for r in taken if r.status in PAID_ON_PLATFORM
        }
        payments_record_marketplace(
            paid=[
                (order, paid[order.external_id])
                for order in result.orders
                if paid.get(order.external_id)
            ],
            actor=self.actor,
        )
        return len(result.orders)

    def _item(self, record: MarketplaceOrder, rejections) -> BulkItem | None:
        """Return the order to create from the record, or None with its rows rejected."""

        def reject(code, field="", detail="", rows=None):
            message = detail or REJECTION_MESSAGES[code]
            rejections.extend(
                _rejection(self.batch, row, code=code, field=field, message=message)
                for row in rows or record.source_rows
            )

        if record.status == "closed":
            return reject("closed", "status", record.closed_reason)
        if record.status in ("shipped", "completed"):
            return reject("already_shipped", "status", record.raw_status)
        if not record.lines:
            return reject("no_lines", "lines")
        lines, unknown = [], []
        for line in record.lines:
            product = self._product(line)
            if product is None:
                unknown.append(line)
            else:
                lines.append(LineInput(product, line.quantity, line.unit_price))
        if unknown:
            for line in unknown:
                reject("unknown_sku", "sku", f"{line.sku or '—'} {line.title}".strip())
            return None
        data = self._order_input(record, lines)
        if data is None:
            return reject("amount_too_high", "paid_amount")
        return BulkItem(data=data, paid=record.status in PAID_ON_PLATFORM)

    def _product(self, line):
        for code in (line.sku, line.product_id, line.title):
            if code and (found := self.by_sku.get(code) or self.by_listing.get(code)):
                return found
        return self.by_barcode.get(line.sku) if line.sku else None

    def _order_input(self, record, lines) -> OrderInput | None:
        subtotal = sum(
            (
                (line.unit_price if line.unit_price is not None else line.product.price)
                * line.quantity
                for line in lines
            ),
            Decimal("0"),
        )
        discount = record.discounts
        if record.paid_amount:
            # The platform priced it: what the buyer pays (or paid) is the total.
            discount = subtotal + record.shipping_fee - record.paid_amount
            if discount < 0:
                return None
        return OrderInput(
            channel=self.channel,
            customer_name=record.receiver_name or record.buyer_name,
            customer_phone=record.phone,
            recipient_name=record.receiver_name,
            lines=lines,
            payment_method=Order.PaymentMethod.PREPAID,
            address=_address(record),
            external_id=record.external_id,
            buyer_note=record.buyer_note[:500],
            shipping_fee=record.shipping_fee,
            discount_total=min(discount, subtotal + record.shipping_fee),
            placed_at=record.placed_at,
            fingerprint=_record_fingerprint(record),
        )

    # --- orders seen before -------------------------------------------------------

    def _compare(self, order: Order, record: MarketplaceOrder, rejections, counts):
        fingerprint = _record_fingerprint(record)
        if order.intake_fingerprint == fingerprint:
            if order.import_batch_id != self.batch.pk:
                counts.unchanged += 1
            return
        try:
            changed = self._apply_changes(order, record)
        except OrderError as exc:
            code = (
                "closed_too_late" if record.status == "closed" else "changed_too_late"
            )
            rejections.extend(
                _rejection(self.batch, row, code=code, field="", message=str(exc))
                for row in record.source_rows
            )
            return
        Order.objects.filter(pk=order.pk).update(intake_fingerprint=fingerprint)
        if changed:
            counts.updated += 1
        else:
            counts.unchanged += 1

    @transaction.atomic
    def _apply_changes(self, order: Order, record: MarketplaceOrder) -> bool:
        """Bring the order in line with the platform; return whether anything changed."""
        if record.status == "closed":
            if order.status == S.CANCELLED:
                return False
            order_cancel(
                order=order,
                actor=self.actor,
                reason=str(_("Closed on the platform: %(reason)s"))
                % {"reason": record.closed_reason or record.raw_status},
            )
            return True
        changed = False
        if (
            record.status in PAID_ON_PLATFORM
            and order.payment_status == PS.UNPAID
            and order.status != S.CANCELLED
        ):
            payment_confirm(
                order=order,
                method=Payment.Method.MARKETPLACE,
                amount=record.paid_amount or order.total,
                actor=self.actor,
                reference=f"{self.channel.code}:{record.external_id}",
            )
            changed = True
        changes = _contact_changes(order, record)
        if changes:
            order_correct(order=order, changes=changes, actor=self.actor)
            changed = True
        return changed


def _address(record: MarketplaceOrder) -> dict:
    parts = record.address_parts()
    if record.address_full and not (parts["province"] or parts["city"]):
        parsed = address_parse(record.address_full)
        parts.update(
            province=parsed.province,
            city=parsed.city,
            district=parsed.district,
            address_detail=parsed.detail,
            postal_code=parts["postal_code"] or parsed.postal_code,
        )
    return parts


def _contact_changes(order: Order, record: MarketplaceOrder) -> dict:
    """Return the recipient fields the platform now states differently."""
    from orders.phones import phone_normalise

    stated = {
        **_address(record),
        "recipient_name": record.receiver_name,
        "recipient_phone": phone_normalise(record.phone),
    }
    return {
        name: stated[name]
        for name in CORRECTABLE_FIELDS
        if stated.get(name, "").strip() != getattr(order, name)
    }
