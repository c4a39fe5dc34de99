"""Reads of orders, shaped for the pages that show them."""

import hashlib

from orders.models import Channel, ChannelToken, Order
from orders.phones import phone_digits


def order_matches_phone(order: Order, phone: str) -> bool:
    """Return whether the phone (full number or its last 4 digits) belongs to the order."""
    given = phone_digits(phone)
    if len(given) < 4:
        return False
    known = {
        phone_digits(order.recipient_phone),
        phone_digits(order.customer.phone),
    } - {""}
    if len(given) == 4:
        return any(number.endswith(given) for number in known)
    return given in known


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def channel_for_token(raw: str) -> Channel | None:
    """Return the active channel whose live API key this is."""
    token = (
        ChannelToken.objects.select_related("channel")
        .filter(digest=token_digest(raw), revoked_at__isnull=True, channel__active=True)
        .first()
    )
    return token.channel if token else None


def order_for_channel(*, channel: Channel, number: str) -> Order | None:
    """Return the channel's order with its lines, parcels and scans, or None for any other."""
    return (
        Order.objects.filter(channel=channel, number=number)
        .select_related("channel", "customer")
        .prefetch_related("lines", "shipments__carrier", "shipments__tracking_events")
        .first()
    )
