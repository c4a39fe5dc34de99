from django.conf import settings
from django.utils.translation import gettext as _


def shop_name() -> str:
    """Return the shop's name as customers see it."""
    return settings.SHOP_NAME or _("Our Shop")


def shop(request):
    """Return the shop-wide values every page shows."""
    return {"SHOP_NAME": shop_name(), "SHOP_CURRENCY": settings.SHOP_CURRENCY}
