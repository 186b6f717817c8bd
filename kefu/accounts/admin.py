from django import forms
from django.contrib import admin, messages
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kefu.compliance import actions as compliance_actions

from . import actions
from .models import AgentProfile, AgentStatusChange, ApiToken, LoginLock, Shop


class ShopForm(forms.ModelForm):
    class Meta:
        model = Shop
        fields = "__all__"  # noqa: DJ007 - the admin's own field list

    def clean_greeting(self):
        """The greeting is sent as the shop's first message: the shop's rules
        check it here, as they check every send."""
        greeting = self.cleaned_data["greeting"]
        problems = compliance_actions.check_template(
            greeting, shop_id=self.instance.pk or 0, language=get_language() or "zh-hans"
        )
        if problems:
            raise forms.ValidationError(problems)
        return greeting


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    form = ShopForm
    list_display = ("name", "slug", "platform", "sticky_hours", "first_reply_target_seconds")
    search_fields = ("name", "slug")


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = (
        "display_name",
        "user",
        "role",
        "level",
        "status",
        "active_count",
        "max_concurrent",
    )
    list_filter = ("role", "level", "status", "shops")
    search_fields = ("display_name", "user__username")
    filter_horizontal = ("shops", "skill_groups")
    readonly_fields = ("active_count", "status_changed_at", "last_assigned_at")


@admin.register(AgentStatusChange)
class AgentStatusChangeAdmin(admin.ModelAdmin):
    list_display = ("user", "status", "at")
    list_filter = ("status",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "shop", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_by", "last_used_at")
    fields = ("shop", "name", "prefix", "created_by", "last_used_at", "revoked_at")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, raw = actions.create_api_token(obj.shop, obj.name, created_by=request.user)
        obj.pk = token.pk
        messages.warning(
            request, _("Copy this token now; it is not shown again: %(token)s") % {"token": raw}
        )


@admin.register(LoginLock)
class LoginLockAdmin(admin.ModelAdmin):
    list_display = ("username", "locked_until", "unlocked_by")
    actions = ["unlock"]

    @admin.action(description=_("Unlock the selected accounts"))
    def unlock(self, request, queryset):
        for lock in queryset:
            actions.unlock_login(request.user, lock.username)
        self.message_user(request, _("Unlocked."))
