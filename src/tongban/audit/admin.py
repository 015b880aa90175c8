from django.contrib import admin

from tongban.admin_base import ReadOnlyAdmin
from tongban.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail is append-only: readable here, never edited."""

    list_display = ("at", "code", "node", "actor", "role", "object_type", "object_id")
    list_filter = ("code", "node", "role")
    search_fields = ("object_id", "actor", "code")
    date_hierarchy = "at"
