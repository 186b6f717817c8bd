"""Skill groups and routing rules in the back office: supervisors see and
edit those of their own shops only (`ShopScopedAdmin`), and a rule can only
send to a group of its own shop."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kefu.knowledge.admin import ShopScopedAdmin

from .models import QueueEntry, RoutingRule, SkillGroup


@admin.register(SkillGroup)
class SkillGroupAdmin(ShopScopedAdmin):
    list_display = ("name", "code", "shop")
    list_filter = ("shop",)


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = "__all__"  # noqa: DJ007 - the admin's own field list

    def clean(self):
        cleaned = super().clean()
        shop, group = cleaned.get("shop"), cleaned.get("group")
        if shop is not None and group is not None and group.shop_id != shop.id:
            self.add_error("group", _("Choose a group of the rule's own shop."))
        return cleaned


@admin.register(RoutingRule)
class RoutingRuleAdmin(ShopScopedAdmin):
    form = RoutingRuleForm
    list_display = ("name", "shop", "position", "group", "tier", "channel", "risk", "enabled")
    list_filter = ("shop", "enabled")
    list_editable = ("position", "enabled")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "group":
            kwargs["queryset"] = SkillGroup.objects.filter(
                shop_id__in=self.editable_shop_ids(request)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(QueueEntry)
class QueueEntryAdmin(ShopScopedAdmin):
    list_display = ("conversation", "group", "vip", "enqueued_at")
    list_filter = ("group",)

    def has_add_permission(self, request):
        return False  # entries are made by routing, not by hand

    def has_change_permission(self, request, obj=None):
        return False
