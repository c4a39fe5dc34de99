"""API keys of staff users, for the shop's other systems (the sync and stock API)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StaffToken(models.Model):
    """An API key acting as one staff user. Only its SHA-256 digest is stored; the key is shown once.

    A key can do no more than its user: each endpoint checks the user's own
    permissions, and ``scopes`` (permission names) can narrow the key further.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("staff member"),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What uses the key, e.g. “ERP sync”.")
    )
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=16)
    # Permission names ("orders.view_order") the key may use; empty: all of the API's.
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff API key")
        verbose_name_plural = _("staff API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
