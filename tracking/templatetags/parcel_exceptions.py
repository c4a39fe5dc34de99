"""The dashboard's parcel-exception panel, kept in tracking so orders need not import it."""

from django import template

from tracking.exception_selectors import RATE_WINDOW_DAYS, carrier_exception_stats
from tracking.models import ParcelException

register = template.Library()


@register.inclusion_tag("tracking/partials/carrier_exceptions.html", takes_context=True)
def carrier_exceptions_panel(context):
    """Open exceptions per kind, and per carrier the share of recent parcels with one."""
    panel = carrier_exception_stats()
    counts = panel.open_by_kind
    return {
        "perms": context.get("perms"),
        "kind_counts": [
            (kind, label, counts[kind]) for kind, label in ParcelException.Kind.choices
        ],
        "open_total": sum(counts.values()),
        "rows": panel.rows,
        "days": RATE_WINDOW_DAYS,
    }
