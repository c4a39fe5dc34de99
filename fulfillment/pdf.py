"""Drawing helpers for the warehouse's PDFs (pick lists, packing slips, shipping labels).

reportlab's built-in CID font STSong-Light draws Chinese without shipping a font
file; code128 and QR codes come from reportlab's barcode module. Each helper draws
on a ``reportlab.pdfgen.canvas.Canvas`` at a point given in PDF units (1/72 inch)
from the bottom left.
"""

import io

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128, qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas as pdf_canvas

CJK_FONT = "STSong-Light"
# Latin text and numbers read better in Helvetica; Chinese needs the CID font.
LATIN_FONT = "Helvetica"

__all__ = [
    "CJK_FONT",
    "LATIN_FONT",
    "mm",
    "cjk_font_register",
    "new_canvas",
    "draw_code128",
    "draw_qr",
    "text_width",
]


def cjk_font_register() -> str:
    """Register the Chinese CID font once per process; return its name."""
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def new_canvas(*, pagesize, title: str = "") -> tuple[pdf_canvas.Canvas, io.BytesIO]:
    """Return a canvas writing into memory (with the CJK font ready) and its buffer."""
    cjk_font_register()
    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=pagesize)
    if title:
        canvas.setTitle(title)
    canvas.setAuthor("shop-oms")
    return canvas, buffer


def text_width(text: str, size: float, font: str = CJK_FONT) -> float:
    """Return how wide ``text`` is in points in the font."""
    return pdfmetrics.stringWidth(text, font, size)


def draw_code128(
    canvas,
    value: str,
    x: float,
    y: float,
    *,
    height: float = 12 * mm,
    bar_width: float = 0.33 * mm,
    max_width: float | None = None,
    human_readable: bool = True,
) -> float:
    """Draw a code128 barcode of ``value`` with its text below; return its width.

    ``max_width`` narrows the bars so a long value still fits (down to a third of
    a millimetre per module, which scanners still read).
    """
    barcode = code128.Code128(value, barHeight=height, barWidth=bar_width)
    if max_width and barcode.width > max_width:
        barcode = code128.Code128(
            value, barHeight=height, barWidth=bar_width * max_width / barcode.width
        )
    barcode.drawOn(canvas, x, y)
    if human_readable:
        canvas.setFont(LATIN_FONT, 8)
        canvas.drawCentredString(x + barcode.width / 2, y - 9, value)
    return barcode.width


def draw_qr(canvas, value: str, x: float, y: float, *, size: float = 20 * mm) -> None:
    """Draw a square QR code of ``value`` with its bottom left corner at (x, y)."""
    widget = qr.QrCodeWidget(value)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(
        size,
        size,
        transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0],
    )
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)


def code128_svg(value: str, *, height: float = 10 * mm) -> str:
    """Return a code128 barcode of ``value`` as inline SVG (for printed HTML pages)."""
    from reportlab.graphics import renderSVG
    from reportlab.graphics.barcode import createBarcodeDrawing

    drawing = createBarcodeDrawing(
        "Code128", value=value, barHeight=height, humanReadable=True
    )
    svg = renderSVG.drawToString(drawing)
    # Drop the XML prolog and doctype so the SVG can sit inside HTML.
    return svg[svg.index("<svg") :]
