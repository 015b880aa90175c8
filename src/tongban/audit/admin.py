from django.contrib import admin

from tongban.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail is append-only: readable here, never edited."""

    list_display = ("at", "code", "node", "actor", "role", "object_type", "object_id")
    list_filter = ("code", "node", "role")
    search_fields = ("object_id", "actor", "code")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
