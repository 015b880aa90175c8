from django.contrib import admin

from tongban.licences.models import Licence, LicenceEvent, LicenceHolder, LicenceIndexEntry, LicenceType


class ReadOnly(admin.ModelAdmin):
    """Licence types come from content/licences; licences and the directory are written by the platform."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LicenceType)
class LicenceTypeAdmin(ReadOnly):
    list_display = ("code", "name", "type_code", "department_function", "holder_kind")
    search_fields = ("code", "name")


class HolderInline(admin.TabularInline):
    model = LicenceHolder
    extra = 0
    can_delete = False
    fields = ("order", "label", "kind", "name", "id_kind")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = LicenceEvent
    extra = 0
    can_delete = False
    fields = ("at", "operation", "from_state", "to_state", "actor", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Licence)
class LicenceAdmin(ReadOnly):
    list_display = ("identifier", "licence_type", "issuer_name", "state", "valid_until", "issued_at")
    list_filter = ("licence_type", "state", "node")
    search_fields = ("identifier", "case_no")
    exclude = ("data", "signature")
    inlines = [HolderInline, EventInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Licence._meta.fields if f.name not in self.exclude]


@admin.register(LicenceIndexEntry)
class LicenceIndexEntryAdmin(ReadOnly):
    list_display = ("identifier", "licence_type", "issuer_node", "state", "state_changed_at")
    list_filter = ("licence_type", "state", "issuer_node")
    search_fields = ("identifier",)
