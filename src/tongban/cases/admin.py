from django.contrib import admin

from tongban.cases.models import Case, CaseAction, CaseMaterial, HubCaseSummary


class CaseActionInline(admin.TabularInline):
    model = CaseAction
    extra = 0
    can_delete = False
    fields = ("seq", "name", "at", "actor_name", "role", "node", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False  # the action log is append-only and written by the platform


class CaseMaterialInline(admin.TabularInline):
    model = CaseMaterial
    extra = 0
    can_delete = False
    fields = ("material_code", "filename", "size", "content_type", "sha256", "supplement", "uploaded_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("case_no", "node", "item", "mode", "status", "warning", "received_at", "promised_due")
    list_filter = ("node", "mode", "status", "warning")
    search_fields = ("case_no", "applicant_name", "enterprise_name")
    inlines = [CaseActionInline, CaseMaterialInline]
    exclude = ("applicant_id_number", "form_data")

    def get_readonly_fields(self, request, obj=None):
        # A case changes only through its actions; the admin shows it and never edits it.
        return [f.name for f in Case._meta.fields if f.name not in self.exclude]

    def has_add_permission(self, request):
        return False


@admin.register(HubCaseSummary)
class HubCaseSummaryAdmin(admin.ModelAdmin):
    list_display = ("case_no", "item_name", "status", "owner_node", "processing_node", "warning", "as_of")
    list_filter = ("status", "warning", "owner_node", "mode", "unassigned")
    search_fields = ("case_no", "item_code", "item_name")

    def get_readonly_fields(self, request, obj=None):
        # Summaries are written only by the nodes' reports.
        return [f.name for f in HubCaseSummary._meta.fields]

    def has_add_permission(self, request):
        return False
