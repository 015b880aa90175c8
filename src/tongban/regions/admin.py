from django.contrib import admin

from tongban.admin_base import ReadOnlyAdmin
from tongban.regions.models import Alliance, Department, DivisionEdition, Node, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "current")
    list_filter = ("level", "current")
    search_fields = ("code", "name")
    # ~3,200 divisions: a search box instead of a select with every one of them.
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)


@admin.register(DivisionEdition)
class DivisionEditionAdmin(ReadOnlyAdmin):
    # Written by load_content from the header of divisions.csv; edited there, not here.
    list_display = ("name", "date", "source")


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region", "is_hub", "active")
    list_filter = ("is_hub", "active")
    search_fields = ("code", "name")
    autocomplete_fields = ("region",)
    list_select_related = ("region",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "function", "region", "node", "credit_code")
    list_filter = ("function", "region__level", "node")
    search_fields = ("name", "region__code", "region__name", "credit_code")
    autocomplete_fields = ("region", "node")
    list_select_related = ("region", "node")


@admin.register(Alliance)
class AllianceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "valid_from", "valid_until", "workflow")
    search_fields = ("code", "name")
    filter_horizontal = ("members",)
