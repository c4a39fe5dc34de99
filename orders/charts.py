"""Small SVG charts for server-rendered pages: a heat map, bars and a line.

The SVG is written as text; every label and title passes through ``escape``, so a
product or channel name cannot inject markup. Numbers are formatted by us. Each chart
carries a <title> for screen readers; the page shows the same figures as a table.
"""

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT = 'font-family="system-ui, sans-serif" font-size="11"'
BAR_COLOUR = "#2563eb"
HIGHLIGHT_COLOUR = "#dc2626"
MUTED_COLOUR = "#9ca3af"


def _svg(width: int, height: int, title: str, body: list[str]) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" {FONT}>'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _number(value) -> str:
    if isinstance(value, Decimal | float):
        return f"{value:,.1f}" if value % 1 else f"{value:,.0f}"
    return f"{value:,}"


def heat_map(
    values: Sequence[Sequence[float]],
    *,
    rows: Sequence[str],
    columns: Sequence[str],
    title: str,
) -> SafeString:
    """Return a grid of cells shaded by value (darker is more), one row per ``rows``."""
    cell, left, top = 26, 44, 18
    highest = max((v for row in values for v in row), default=0) or 1
    body = [
        f'<text x="{left + i * cell + cell / 2}" y="12" text-anchor="middle">'
        f"{escape(label)}</text>"
        for i, label in enumerate(columns)
    ]
    for r, (label, row) in enumerate(zip(rows, values, strict=True)):
        y = top + r * cell
        body.append(
            f'<text x="{left - 6}" y="{y + cell / 2 + 4}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        for c, value in enumerate(row):
            opacity = 0.06 + 0.94 * float(value) / float(highest) if value else 0.03
            body.append(
                f'<rect x="{left + c * cell}" y="{y}" width="{cell - 2}" '
                f'height="{cell - 2}" rx="3" fill="{BAR_COLOUR}" '
                f'fill-opacity="{opacity:.2f}"><title>{escape(label)} '
                f"{escape(columns[c])}: {_number(value)}</title></rect>"
            )
    width = left + len(columns) * cell + 4
    return _svg(width, top + len(rows) * cell + 4, title, body)


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    highlight: str | None = None,
    unit: str = "",
) -> SafeString:
    """Return horizontal bars, one per (label, value); the ``highlight`` label in red."""
    bar, gap, left, width = 18, 6, 180, 640
    highest = max((float(v or 0) for _l, v in bars), default=0) or 1
    body = []
    for i, (label, value) in enumerate(bars):
        y = i * (bar + gap) + 4
        length = (width - left - 90) * float(value or 0) / highest
        colour = HIGHLIGHT_COLOUR if label == highlight else BAR_COLOUR
        shown = "—" if value is None else f"{_number(value)}{unit}"
        body += [
            f'<text x="{left - 8}" y="{y + bar - 5}" text-anchor="end">'
            f"{escape(_short(label))}</text>",
            f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar}" rx="3" '
            f'fill="{colour}"><title>{escape(label)}: {escape(shown)}</title></rect>',
            f'<text x="{left + length + 6:.1f}" y="{y + bar - 5}">{escape(shown)}</text>',
        ]
    return _svg(width, len(bars) * (bar + gap) + 8, title, body)


def line_chart(
    points: Sequence[tuple[str, float]],
    *,
    title: str,
    forecast: Sequence[tuple[str, float]] = (),
) -> SafeString:
    """Return a line over the points (label, value), with ``forecast`` points dashed after."""
    width, height, left, bottom, top = 760, 220, 44, 28, 12
    everything = [*points, *forecast]
    highest = max((float(v) for _l, v in everything), default=0) or 1
    step = (width - left - 10) / max(len(everything) - 1, 1)

    def xy(i, value):
        y = top + (height - top - bottom) * (1 - float(value) / highest)
        return f"{left + i * step:.1f},{y:.1f}"

    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" '
        f'y2="{height - bottom}" stroke="{MUTED_COLOUR}"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{_number(highest)}</text>',
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>',
    ]
    if points:
        body.append(
            f'<polyline fill="none" stroke="{BAR_COLOUR}" stroke-width="2" points="'
            + " ".join(xy(i, v) for i, (_l, v) in enumerate(points))
            + '"/>'
        )
    if forecast:
        start = max(len(points) - 1, 0)
        joined = [*points[-1:], *forecast]
        body.append(
            f'<polyline fill="none" stroke="{HIGHLIGHT_COLOUR}" stroke-width="2" '
            f'stroke-dasharray="5 4" points="'
            + " ".join(xy(start + i, v) for i, (_l, v) in enumerate(joined))
            + '"/>'
        )
    for i, (label, value) in enumerate(everything):
        body.append(
            f'<circle cx="{xy(i, value).split(",")[0]}" cy="{xy(i, value).split(",")[1]}"'
            f' r="2.5" fill="{BAR_COLOUR if i < len(points) else HIGHLIGHT_COLOUR}">'
            f"<title>{escape(label)}: {_number(value)}</title></circle>"
        )
    labels_every = max(len(everything) // 8, 1)
    for i, (label, _v) in enumerate(everything):
        if i % labels_every == 0 or i == len(everything) - 1:
            body.append(
                f'<text x="{left + i * step:.1f}" y="{height - 10}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return _svg(width, height, title, body)


def _short(label: str, limit: int = 26) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
