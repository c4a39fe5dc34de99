"""Admin for the journal: read-only, since entries are written by services and corrected by reversal."""

from django.contrib import admin

from billing.journal_models import Account, JournalEntry, JournalLine
from orders.admin import ReadOnlyAdmin, ReadOnlyInline


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "kind")
    list_filter = ("kind",)


class JournalLineInline(ReadOnlyInline):
    model = JournalLine
    fields = ("account", "debit", "credit")
    readonly_fields = fields


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("date", "kind", "source", "order", "memo", "reverses")
    list_filter = ("kind",)
    list_select_related = ("order", "reverses")
    search_fields = ("source", "order__number", "memo")
    date_hierarchy = "date"
    inlines = [JournalLineInline]
