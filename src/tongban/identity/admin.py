"""Admin pages for accounts, enterprises, agents, staff posts and real-name verifications (in Chinese)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from tongban.admin_base import ReadOnlyAdmin
from tongban.errors import DomainError
from tongban.identity.actors import actor_for_account, resolve_node
from tongban.identity.enterprises import review_enterprise
from tongban.identity.models import Account, Enterprise, EnterpriseAgent, RealNameVerification, StaffBinding
from tongban.identity.validators import mask_id_number, validate_citizen_id, validate_credit_code


def _clean_id_number(value: str) -> str:
    if not value:
        return value
    try:
        return validate_citizen_id(value)
    except DomainError as error:
        raise ValidationError(error.detail) from None


class AccountChangeForm(UserChangeForm):
    def clean_id_number(self) -> str:
        return _clean_id_number(self.cleaned_data.get("id_number", ""))


class AccountCreationForm(UserCreationForm):
    def clean_id_number(self) -> str:
        return _clean_id_number(self.cleaned_data.get("id_number", ""))


class AccountPasswordChangeForm(AdminPasswordChangeForm):
    # Django's own wording of this warning is not in its Chinese catalogue.
    usable_password_help_text = (
        "是否允许该用户以密码登录。停用后，仍可通过其他认证方式（如统一身份认证）登录。"
        '<ul id="id_unusable_warning" class="messagelist"><li class="warning">'
        "停用后，该用户现有的密码将失效。</li></ul>"
    )


class EnterpriseForm(forms.ModelForm):
    class Meta:
        model = Enterprise
        fields = "__all__"

    def clean_credit_code(self) -> str:
        try:
            return validate_credit_code(self.cleaned_data.get("credit_code", ""))
        except DomainError as error:
            raise ValidationError(error.detail) from None


@admin.register(Account)
class AccountAdmin(UserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    change_password_form = AccountPasswordChangeForm
    add_form_template = "admin/identity/account/add_form.html"
    list_display = ("username", "display_name", "masked_id_number", "real_name_level", "is_active", "is_staff")
    list_filter = ("real_name_level", "is_active", "is_staff", "is_superuser")
    search_fields = ("username", "display_name", "phone")
    readonly_fields = ("token_version", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("实名信息", {"fields": ("display_name", "id_number", "phone", "real_name_level")}),
        ("权限", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("登录", {"fields": ("last_login", "date_joined", "token_version")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        ("实名信息", {"classes": ("wide",), "fields": ("display_name", "id_number", "phone", "real_name_level")}),
    )

    @admin.display(description="公民身份号码")
    def masked_id_number(self, obj: Account) -> str:
        return mask_id_number(obj.id_number)


class EnterpriseAgentInline(admin.TabularInline):
    model = EnterpriseAgent
    extra = 0
    autocomplete_fields = ("account",)


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    form = EnterpriseForm
    list_display = ("credit_code", "name", "domicile", "legal_representative", "status", "registered_at", "reviewed_at")
    list_filter = ("status",)
    search_fields = ("credit_code", "name")
    readonly_fields = ("status", "registered_by", "registered_at", "reviewed_by", "reviewed_at", "review_note")
    inlines = (EnterpriseAgentInline,)
    actions = ("approve_selected", "reject_selected")

    @admin.action(description="审核通过所选企业", permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Enterprise]) -> None:
        self._review(request, queryset, approve=True, note="")

    @admin.action(description="不予通过所选企业", permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Enterprise]) -> None:
        self._review(request, queryset, approve=False, note="经管理后台审核，不予通过。")

    def _review(self, request: HttpRequest, queryset: QuerySet[Enterprise], *, approve: bool, note: str) -> None:
        # The same write function and the same scope check as the API: one audit trail.
        actor = actor_for_account(request.user, resolve_node(request, request.user))  # type: ignore[arg-type]
        done = 0
        for credit_code in queryset.values_list("credit_code", flat=True):
            try:
                review_enterprise(actor, credit_code, approve=approve, note=note)
                done += 1
            except DomainError as error:
                self.message_user(request, f"{credit_code}：{error.detail}", level=messages.ERROR)
        if done:
            self.message_user(request, f"已审核 {done} 家企业。", level=messages.SUCCESS)


@admin.register(EnterpriseAgent)
class EnterpriseAgentAdmin(admin.ModelAdmin):
    list_display = ("enterprise", "account", "active")
    list_filter = ("active",)
    search_fields = ("enterprise__name", "enterprise__credit_code", "account__username", "account__display_name")
    autocomplete_fields = ("enterprise", "account")


@admin.register(StaffBinding)
class StaffBindingAdmin(admin.ModelAdmin):
    list_display = ("account", "node", "region", "department", "role", "is_cross_province_window", "active")
    list_filter = ("role", "is_cross_province_window", "active", "node")
    search_fields = ("account__username", "account__display_name", "department__name")
    autocomplete_fields = ("account",)
    raw_id_fields = ("region", "department")


@admin.register(RealNameVerification)
class RealNameVerificationAdmin(ReadOnlyAdmin):
    list_display = ("account", "method", "level_before", "level", "verified_by", "node", "department", "verified_at")
    list_filter = ("method", "level", "node")
    search_fields = ("account__username", "account__display_name", "verified_by__username")
