"""The pick list PDF (A4, rows by bin with per-order slots) and the packing slip (A5)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4, A5

from fulfillment.pdf import (
    CJK_FONT,
    LATIN_FONT,
    draw_code128,
    draw_qr,
    mm,
    new_canvas,
)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pick_list_pdf(*, pick_list, rows, entries) -> bytes:
    """Return the pick list as a PDF: header barcode and QR, then one block per SKU by bin."""
    width, height = A4
    canvas, buffer = new_canvas(
        pagesize=A4, title=_("Pick list %(number)s") % {"number": pick_list.number}
    )
    slots = {e.position: e.shipment.order.number for e in entries}

    def header():
        canvas.setFont(CJK_FONT, 18)
        canvas.drawString(15 * mm, height - 20 * mm, _("Pick list"))
        canvas.setFont(CJK_FONT, 10)
        canvas.drawString(
            15 * mm,
            height - 27 * mm,
            _("%(warehouse)s | %(parcels)d parcel(s) | printed %(time)s")
            % {
                "warehouse": pick_list.warehouse.name,
                "parcels": len(slots),
                "time": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
            },
        )
        draw_code128(
            canvas, pick_list.number, 95 * mm, height - 24 * mm, height=12 * mm
        )
        draw_qr(
            canvas, pick_list.number, width - 35 * mm, height - 32 * mm, size=22 * mm
        )
        canvas.setFont(CJK_FONT, 9)
        canvas.drawString(15 * mm, height - 38 * mm, _("Slots") + ":")
        y = height - 38 * mm
        x = 30 * mm
        for position, number in sorted(slots.items()):
            label = f"{position}={number}"
            if x + 40 * mm > width - 15 * mm:
                x, y = 30 * mm, y - 5 * mm
            canvas.drawString(x, y, label)
            x += 42 * mm
        canvas.line(15 * mm, y - 4 * mm, width - 15 * mm, y - 4 * mm)
        return y - 10 * mm

    y = header()
    for row in rows:
        block = 24 * mm + 5 * mm * ((len(row.per_order) - 1) // 4)
        if y - block < 15 * mm:
            canvas.showPage()
            y = header()
        canvas.rect(15 * mm, y - 4 * mm, 5 * mm, 5 * mm)  # tick box
        canvas.setFont(CJK_FONT, 14)
        canvas.drawString(23 * mm, y - 3 * mm, row.bin or _("no bin"))
        canvas.setFont(LATIN_FONT, 12)
        canvas.drawString(55 * mm, y - 3 * mm, row.sku)
        canvas.setFont(CJK_FONT, 10)
        canvas.drawString(55 * mm, y - 9 * mm, _fit(row.name, 30))
        canvas.setFont(CJK_FONT, 16)
        canvas.drawRightString(
            125 * mm, y - 4 * mm, _("× %(units)d") % {"units": row.total}
        )
        draw_code128(
            canvas,
            row.barcode or row.sku,
            132 * mm,
            y - 10 * mm,
            height=9 * mm,
            max_width=60 * mm,
        )
        canvas.setFont(CJK_FONT, 9)
        line_y, x = y - 16 * mm, 23 * mm
        for i, (position, number, units) in enumerate(row.per_order):
            if i and i % 4 == 0:
                line_y, x = line_y - 5 * mm, 23 * mm
            canvas.drawString(
                x,
                line_y,
                _("slot %(slot)d (%(order)s): %(units)d")
                % {"slot": position, "order": number, "units": units},
            )
            x += 45 * mm
        y = line_y - 6 * mm
        canvas.setStrokeGray(0.8)
        canvas.line(15 * mm, y + 2 * mm, width - 15 * mm, y + 2 * mm)
        canvas.setStrokeGray(0)
    if not rows:
        canvas.setFont(CJK_FONT, 12)
        canvas.drawString(15 * mm, y, _("Nothing left to pick on this list."))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def packing_slip_pdf(*, shipment, items) -> bytes:
    """Return the packing slip for one parcel (A5): who it is for and what is inside."""
    order = shipment.order
    width, height = A5
    canvas, buffer = new_canvas(
        pagesize=A5, title=_("Packing slip %(number)s") % {"number": order.number}
    )
    canvas.setFont(CJK_FONT, 16)
    canvas.drawString(12 * mm, height - 18 * mm, _("Packing slip"))
    draw_code128(canvas, order.number, 12 * mm, height - 36 * mm, height=10 * mm)
    canvas.setFont(CJK_FONT, 10)
    lines = [
        _("Order: %(number)s") % {"number": order.number},
        _("Recipient: %(name)s %(phone)s")
        % {"name": order.recipient_name, "phone": order.recipient_phone},
        " ".join(
            p
            for p in (order.province, order.city, order.district, order.address_detail)
            if p
        ),
        _("Parcel #%(parcel)s from %(warehouse)s")
        % {"parcel": shipment.pk, "warehouse": shipment.warehouse.name},
    ]
    y = height - 48 * mm
    for text in lines:
        canvas.drawString(12 * mm, y, _fit(text, 40))
        y -= 6 * mm
    y -= 4 * mm
    canvas.setFont(CJK_FONT, 10)
    canvas.drawString(12 * mm, y, _("SKU"))
    canvas.drawString(45 * mm, y, _("Item"))
    canvas.drawRightString(width - 12 * mm, y, _("Quantity"))
    canvas.line(12 * mm, y - 2 * mm, width - 12 * mm, y - 2 * mm)
    y -= 8 * mm
    for item in items:
        if y < 20 * mm:
            canvas.showPage()
            canvas.setFont(CJK_FONT, 10)
            y = height - 15 * mm
        canvas.setFont(LATIN_FONT, 9)
        canvas.drawString(12 * mm, y, _fit(item.sku, 18))
        canvas.setFont(CJK_FONT, 10)
        canvas.drawString(45 * mm, y, _fit(item.name, 22))
        canvas.drawRightString(width - 12 * mm, y, str(item.wanted))
        y -= 6 * mm
    canvas.setFont(CJK_FONT, 9)
    canvas.drawString(
        12 * mm, 12 * mm, _("Thank you for your order. Keep this slip for returns.")
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
