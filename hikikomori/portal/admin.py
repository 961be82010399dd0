"""The admin page (ministry administrators): accounts, and read-only views of uploads and the audit log."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpRequest, HttpResponse

from hikikomori.portal import audit
from hikikomori.portal.accounts import end_sessions
from hikikomori.portal.models import AuditEvent, Upload, User
from hikikomori.portal.uploads import reference_data
from hikikomori.portal.vocabulary import AuditAction, Role


class _RoleAndCenter(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        role, center_code = cleaned.get("role"), cleaned.get("center_code") or ""
        if role == Role.CENTER and center_code not in reference_data().centers:
            self.add_error(
                "center_code", "センター名簿にある団体コードを入れてください / a center code of the registry"
            )
        if role == Role.MINISTRY and center_code:
            self.add_error(
                "center_code", "厚生労働省のアカウントには団体コードを入れません / leave empty for the ministry"
            )
        if role == Role.CENTER and cleaned.get("is_staff"):
            self.add_error(
                "is_staff", "センターのアカウントは管理画面を使えません / center accounts have no admin access"
            )
        return cleaned


class PortalUserCreationForm(_RoleAndCenter, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "role", "center_code")


class PortalUserChangeForm(_RoleAndCenter, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    list_display = ("username", "role", "center_code", "is_active", "is_superuser", "last_login")
    list_filter = ("role", "is_active", "is_superuser")
    search_fields = ("username", "center_code")
    readonly_fields = ("last_login", "date_joined", "api_token_created_at")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("所属 / affiliation", {"fields": ("role", "center_code")}),
        ("状態 / status", {"fields": ("is_active", "is_staff", "is_superuser", "last_login", "date_joined")}),
        ("API", {"fields": ("api_token_created_at",)}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "role", "center_code", "password1", "password2")}),
    )

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:
            audit.record(AuditAction.ACCOUNT_CHANGED, request=request, account=obj.username, fields=form.changed_data)
            if not obj.is_active:
                end_sessions(obj)
        else:
            audit.record(
                AuditAction.ACCOUNT_CREATED,
                request=request,
                account=obj.username,
                role=obj.role,
                center_code=obj.center_code,
            )

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        audit.record(AuditAction.ACCOUNT_DELETED, request=request, account=obj.username)
        super().delete_model(request, obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit.record(AuditAction.PASSWORD_SET, request=request, account=self.get_object(request, id).username)
        return response


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Upload)
class UploadAdmin(_ReadOnly):
    list_display = ("uploaded_at", "center_code", "fiscal_year", "file_name", "verdict", "via", "user")
    list_filter = ("verdict", "via", "fiscal_year")
    search_fields = ("center_code", "sha256", "file_name")
    exclude = ("issues", "warnings", "totals")


@admin.register(AuditEvent)
class AuditEventAdmin(_ReadOnly):
    list_display = ("at", "action", "username", "center_code", "address", "detail")
    list_filter = ("action",)
    search_fields = ("username", "center_code")


admin.site.site_header = "ひきこもり地域支援センター 提出ポータル 管理 / portal admin"
admin.site.site_title = "提出ポータル 管理"
