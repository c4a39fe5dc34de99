"""4×6 inch shipping labels, one page per parcel.

Who draws a parcel's label is a ``LabelSource``: our own renderer by default, later a
carrier's e-waybill (电子面单) API. A source may also issue the tracking number (an
e-waybill API does when the label is asked for; our renderer only for the demo
carrier, whose numbers are made up). Each source draws onto a page of a shared
canvas, so labels of different carriers merge into one PDF for bulk printing: an
e-waybill source would draw the PNG or PDF page the carrier returns with
``canvas.drawImage``.

Which source a parcel uses: the label source of the carrier's active account for the
parcel's warehouse (or for every warehouse), else our own.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.units import inch

from fulfillment.cod import cod_parcel_amounts
from fulfillment.models import CarrierAccount, Shipment
from fulfillment.pdf import (
    CJK_FONT,
    LATIN_FONT,
    draw_code128,
    draw_qr,
    mm,
    new_canvas,
    text_width,
)
from orders.models import Order

PAGE = (4 * inch, 6 * inch)
DEMO_CARRIER = "demo"


@dataclass(frozen=True)
class Party:
    name: str
    phone: str
    address: str


@dataclass(frozen=True)
class LabelData:
    """Everything printed on one parcel's label."""

    shipment_id: int
    order_number: str
    carrier_code: str
    carrier_name: str
    service: str
    tracking_number: str
    sender: Party
    receiver: Party
    cod_amount: Decimal | None  # cash to collect; None: prepaid
    weight_kg: Decimal
    items: int
    parcel_no: int = 1
    parcels: int = 1
    status_url: str = ""
    printed_at: object = None
    lines: list[str] = field(default_factory=list)


def phone_masked(phone: str) -> str:
    """Return the phone with its middle digits hidden, as privacy labels (隐私面单) print it."""
    digits = phone.strip().replace(" ", "")
    if digits.startswith("+86"):
        digits = digits[3:]  # stored in E.164; the courier dials the national number
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return digits


def cod_amount_for(shipment: Shipment, parcels: list[Shipment]) -> Decimal | None:
    """Return the cash the courier collects with this parcel, or None.

    Each parcel of a split order collects its own share of the order's cash, by
    the value of its lines (fulfillment/cod.py); the shares sum to the total.
    """
    order = shipment.order
    if order.payment_method != Order.PaymentMethod.COD:
        return None
    if order.payment_status != Order.PaymentStatus.COD_PENDING:
        return Decimal("0.00")
    return cod_parcel_amounts(order).get(shipment.pk, Decimal("0.00"))


def label_data(shipment: Shipment) -> LabelData:
    """Return what the parcel's label shows."""
    order = shipment.order
    warehouse = shipment.warehouse
    parcels = list(
        order.shipments.exclude(
            status__in=(Shipment.Status.CANCELLED, Shipment.Status.REPLACED)
        ).order_by("created_at", "id")
    )
    number = next((i for i, p in enumerate(parcels, 1) if p.pk == shipment.pk), 1)
    lines = list(shipment.lines.select_related("order_line__product"))
    shop = settings.SHOP_NAME or warehouse.name
    return LabelData(
        shipment_id=shipment.pk,
        order_number=order.number,
        carrier_code=shipment.carrier.code if shipment.carrier else "",
        carrier_name=shipment.carrier.name if shipment.carrier else "",
        service=shipment.service.name if shipment.service else "",
        tracking_number=shipment.tracking_number,
        sender=Party(
            # STSong-Light has no glyph for "·": plain spaces separate.
            name=f"{shop}  {warehouse.name}" if shop != warehouse.name else shop,
            phone="",
            address=f"{warehouse.province}{warehouse.city}{warehouse.address}",
        ),
        receiver=Party(
            name=order.recipient_name,
            phone=phone_masked(order.recipient_phone),
            address=order.full_address,
        ),
        cod_amount=cod_amount_for(shipment, parcels),
        # Not weighed yet: what the goods weigh.
        weight_kg=shipment.weight_kg
        or sum(
            (line.order_line.product.weight_kg * line.quantity for line in lines),
            Decimal("0"),
        ),
        items=sum(line.quantity for line in lines),
        parcel_no=number,
        parcels=max(len(parcels), 1),
        status_url=order.status_url,
        printed_at=timezone.localtime(),
        lines=[f"{line.order_line.sku} ×{line.quantity}" for line in lines],
    )


class LabelSource:
    """Where a carrier's labels (and maybe its tracking numbers) come from."""

    def tracking_number(self, shipment: Shipment) -> str:
        """Return a new tracking number for the parcel, or "" when staff must give one."""
        return ""

    def draw(self, canvas, label: LabelData) -> None:
        """Draw the label as the current page of ``canvas`` (4×6 inches)."""
        raise NotImplementedError


def _wrap(text: str, size: float, width: float, font: str = CJK_FONT) -> list[str]:
    """Split text into lines that fit the width (Chinese breaks between any characters)."""
    lines, current = [], ""
    for char in text:
        if text_width(current + char, size, font) > width and current:
            lines.append(current)
            current = char
        else:
            current += char
    if current:
        lines.append(current)
    return lines or [""]


class OwnLabelSource(LabelSource):
    """Our own label: carrier, tracking barcode, receiver, sender, COD, order."""

    MARGIN = 4 * mm

    def tracking_number(self, shipment: Shipment) -> str:
        if shipment.carrier and shipment.carrier.code == DEMO_CARRIER:
            from fulfillment.services import demo_tracking_number

            return demo_tracking_number()
        return ""

    def draw(self, canvas, label: LabelData) -> None:
        width, height = PAGE
        m = self.MARGIN
        inner = width - 2 * m
        canvas.setLineWidth(0.8)
        canvas.rect(m, m, inner, height - 2 * m)

        # Band 1: carrier, service, parcel n of m; the COD box on the right.
        top = height - m
        canvas.setFont(CJK_FONT, 16)
        canvas.drawString(m + 3 * mm, top - 8 * mm, label.carrier_name or "—")
        canvas.setFont(CJK_FONT, 8)
        meta = " ".join(
            part
            for part in (
                label.service,
                _("Parcel %(n)d/%(total)d")
                % {"n": label.parcel_no, "total": label.parcels}
                if label.parcels > 1
                else "",
            )
            if part
        )
        if meta:
            canvas.drawString(m + 3 * mm, top - 12.5 * mm, meta)
        if label.cod_amount is not None:
            box_w, box_h = 38 * mm, 12 * mm
            x = width - m - box_w - 2 * mm
            canvas.rect(x, top - box_h - 2.5 * mm, box_w, box_h)
            canvas.setFont(CJK_FONT, 7)
            canvas.drawString(x + 1.5 * mm, top - 5 * mm, "代收货款 COD")
            canvas.setFont(CJK_FONT, 12)
            canvas.drawString(x + 1.5 * mm, top - 11.5 * mm, f"¥{label.cod_amount:.2f}")
        y = top - 15 * mm
        canvas.line(m, y, width - m, y)

        # Band 2: the tracking number's barcode, as large as fits.
        bar_h = 16 * mm
        bar_y = y - bar_h - 3 * mm
        if label.tracking_number:
            bar_w = draw_code128(
                canvas,
                label.tracking_number,
                m + 3 * mm,
                bar_y,
                height=bar_h,
                bar_width=0.4 * mm,
                max_width=inner - 6 * mm,
                human_readable=False,
            )
            canvas.setFont(LATIN_FONT, 11)
            canvas.drawCentredString(
                m + 3 * mm + bar_w / 2, bar_y - 4.5 * mm, label.tracking_number
            )
        y = bar_y - 7 * mm
        canvas.line(m, y, width - m, y)

        # Band 3: receiver (large), then sender.
        y = self._party(canvas, "收", label.receiver, y, size=13, lines=3)
        canvas.line(m, y, width - m, y)
        y = self._party(canvas, "寄", label.sender, y, size=8, lines=2)
        canvas.line(m, y, width - m, y)

        # Band 4: order, weight, items, contents; a QR code of the status page.
        canvas.setFont(CJK_FONT, 8)
        text_y = y - 4.5 * mm
        facts = [
            f"{_('Order')} {label.order_number}",
            f"{_('Weight')} {label.weight_kg:.3f} kg  /  {_('Items')} {label.items}",
        ]
        contents = ", ".join(label.lines)
        facts += _wrap(contents, 7, inner - 30 * mm)[:3]
        for fact in facts:
            canvas.drawString(m + 3 * mm, text_y, fact)
            text_y -= 3.6 * mm
        if label.status_url:
            draw_qr(
                canvas, label.status_url, width - m - 24 * mm, y - 24 * mm, size=21 * mm
            )
        draw_code128(
            canvas,
            label.order_number,
            m + 3 * mm,
            m + 9 * mm,
            height=8 * mm,
            bar_width=0.3 * mm,
            max_width=inner - 34 * mm,
            human_readable=False,
        )
        canvas.setFont(CJK_FONT, 6.5)
        printed = (
            label.printed_at.strftime("%Y-%m-%d %H:%M") if label.printed_at else ""
        )
        canvas.drawString(
            m + 3 * mm, m + 3 * mm, f"{_('Printed')} {printed}  签收人/时间："
        )

    def _party(self, canvas, mark, party: Party, y, *, size, lines) -> float:
        m = self.MARGIN
        width = PAGE[0]
        canvas.setFont(CJK_FONT, size + 4)
        canvas.drawString(m + 2 * mm, y - (size + 6), mark)
        x = m + 2 * mm + size + 8
        canvas.setFont(CJK_FONT, size)
        y -= size + 4
        canvas.drawString(x, y, f"{party.name}  {party.phone}".strip())
        for line in _wrap(party.address, size - 1, width - m - x - 2 * mm)[:lines]:
            y -= size + 1
            canvas.setFont(CJK_FONT, size - 1)
            canvas.drawString(x, y, line)
        return y - 3 * mm


LABEL_SOURCES: dict[str, type[LabelSource]] = {
    CarrierAccount.LabelSource.OWN: OwnLabelSource,
}


def label_source_for(shipment: Shipment) -> LabelSource:
    """Return who draws the parcel's label (see the module docstring)."""
    if shipment.carrier_id:
        account = (
            CarrierAccount.objects.filter(carrier_id=shipment.carrier_id, active=True)
            .filter(Q(warehouse_id=shipment.warehouse_id) | Q(warehouse__isnull=True))
            # The warehouse's own account before one for every warehouse.
            .order_by(F("warehouse_id").asc(nulls_last=True), "id")
            .first()
        )
        if account is not None and account.label_source in LABEL_SOURCES:
            return LABEL_SOURCES[account.label_source]()
    return OwnLabelSource()


def labels_pdf(shipments: list[Shipment]) -> bytes:
    """Return one PDF with a 4×6 page per parcel, in the order given."""
    title = (
        _("Shipping label %(number)s") % {"number": shipments[0].tracking_number}
        if len(shipments) == 1
        else _("Shipping labels (%(count)d)") % {"count": len(shipments)}
    )
    canvas, buffer = new_canvas(pagesize=PAGE, title=title)
    for shipment in shipments:
        label_source_for(shipment).draw(canvas, label_data(shipment))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
