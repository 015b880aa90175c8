"""Catalog admin. Content lives in content/items/*.yaml; the admin is for looking, and edits made here
are overwritten by the next `load_content`."""

from __future__ import annotations

from django.contrib import admin

from tongban.catalog.models import Coverage, Item, ItemVersion, Leg, Material, Mode
from tongban.regions.models import DepartmentFunction


def mode_names(modes: list[str]) -> str:
    """`全程网办、多地联办`: the modes by their Chinese names, in the catalog's order."""
    return "、".join(Mode(m).label for m in Mode.values if m in modes) or "—"


@admin.display(description="办理模式")
def modes_label(obj: ItemVersion | Coverage) -> str:
    return mode_names(obj.modes)


class ItemVersionInline(admin.TabularInline):
    model = ItemVersion
    fields = ("version", "valid_from", "valid_until", modes_label, "jurisdiction_rule", "promised_limit", "source")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    verbose_name = "版本"
    verbose_name_plural = "版本列表"

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class MaterialInline(admin.TabularInline):
    model = Material
    fields = ("order", "code", "name", "requirement", "condition", "when", "form", "licence_type")
    extra = 0
    verbose_name = "申请材料"
    verbose_name_plural = "申请材料"


class LegInline(admin.TabularInline):
    model = Leg
    fields = ("order", "name", "place", "department_function", "limit")
    extra = 0
    verbose_name = "联办环节"
    verbose_name_plural = "联办环节"


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "theme", "applicant_type", "function_label", "item_type")
    list_filter = ("theme", "applicant_type", "item_type", "department_function")
    search_fields = ("code", "name", "name_initials", "name_pinyin")
    readonly_fields = ("name_initials", "name_pinyin", "content_file")
    inlines = [ItemVersionInline]

    @admin.display(description="部门职能", ordering="department_function")
    def function_label(self, obj: Item) -> str:
        labels = dict(DepartmentFunction.choices)
        return labels.get(obj.department_function, obj.department_function)


@admin.register(ItemVersion)
class ItemVersionAdmin(admin.ModelAdmin):
    list_display = (
        "item",
        "version",
        "valid_from",
        "valid_until",
        modes_label,
        "jurisdiction_rule",
        "is_immediate",
        "source",
    )
    list_filter = ("jurisdiction_rule", "is_immediate")
    search_fields = ("item__code", "item__name")
    list_select_related = ("item",)
    inlines = [MaterialInline, LegInline]


@admin.register(Coverage)
class CoverageAdmin(admin.ModelAdmin):
    list_display = ("item", "node", modes_label, "valid_from", "valid_until", "note")
    list_filter = ("node",)
    search_fields = ("item__code", "item__name")
    list_select_related = ("item", "node")
