"""Staff API keys: issuing and revoking them, and recognising the key a caller sends.

A key acts as its staff user for the shop's other systems (the order sync feed,
stock levels, products and stock adjustments). It can do no more than its user:
every endpoint asks for one of ``API_SCOPES`` and checks it against both the
user's own permissions, read at each request, and the key's scopes.
"""

import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.exceptions import OrderError
from orders.selectors import token_digest
from orders.token_models import StaffToken

# The permission each staff endpoint needs; a key's scopes are chosen from these.
API_SCOPES = {
    "orders.view_order": gettext_lazy("Read orders"),
    "inventory.view_stocklevel": gettext_lazy("Read stock levels"),
    "inventory.view_product": gettext_lazy("Read products"),
    "inventory.change_stocklevel": gettext_lazy("Adjust stock"),
}
# Staff keys start with this, so a key pasted in the wrong place is recognisable.
KEY_PREFIX = "staff_"
# last_used_at is written at most this often, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)


class StaffTokenError(OrderError):
    """A key cannot be issued as asked; the message is shown as it is."""


def staff_token_check(*, name: str, scopes=(), expires_at: datetime | None = None):
    """Raise StaffTokenError when a key cannot be issued so (the admin form asks too)."""
    if not (name or "").strip():
        raise StaffTokenError(_("Name the key after what will use it."))
    unknown = sorted(set(scopes) - API_SCOPES.keys())
    if unknown:
        raise StaffTokenError(
            _("Unknown scopes: %(scopes)s. Known: %(known)s.")
            % {"scopes": ", ".join(unknown), "known": ", ".join(API_SCOPES)}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise StaffTokenError(_("The expiry must lie in the future."))


@transaction.atomic
def staff_token_issue(
    *, user, name: str, scopes=(), expires_at: datetime | None = None
) -> tuple[StaffToken, str]:
    """Create an API key for the staff user; return it with the key, which is never shown again."""
    staff_token_check(name=name, scopes=scopes, expires_at=expires_at)
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    token = StaffToken.objects.create(
        user=user,
        name=name.strip()[:100],
        digest=token_digest(raw),
        prefix=raw[:12],
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    return token, raw


@transaction.atomic
def staff_token_revoke(*, token: StaffToken) -> StaffToken:
    """Stop the key working at once; revoking twice keeps the first time."""
    token = StaffToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def staff_token_for_key(raw: str) -> StaffToken | None:
    """Return the live key (not revoked, not expired, its user active) with its user, or None."""
    if not raw.startswith(KEY_PREFIX):
        return None
    token = (
        StaffToken.objects.select_related("user")
        .filter(digest=token_digest(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= timezone.now():
        return None
    return token


def staff_token_used(*, token: StaffToken) -> None:
    """Note when the key was last used, at most once a minute (one UPDATE, no lock)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        StaffToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def staff_token_allows(token: StaffToken, permission: str) -> bool:
    """Return whether the key may use an endpoint that needs ``permission``."""
    in_scope = not token.scopes or permission in token.scopes
    return in_scope and token.user.has_perm(permission)
