"""Supervisors edit their shops' rules and settings here; findings and
override requests are read-only records. A rule is saved only when RE2
compiles every expression and its own examples behave."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from kefu.accounts import queries as accounts_queries
from kefu.accounts.models import Shop

from . import actions
from .models import ComplianceRule, ComplianceSettings, OverrideRequest, Violation


class SupervisedAdmin(admin.ModelAdmin):
    def shop_ids(self, request) -> frozenset[int]:
        return accounts_queries.supervised_shop_ids(request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(shop_id__in=self.shop_ids(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "shop":
            kwargs["queryset"] = Shop.objects.filter(id__in=self.shop_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class RuleForm(forms.ModelForm):
    class Meta:
        model = ComplianceRule
        fields = ("shop", *actions.RULE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        fields = {name: cleaned.get(name) for name in actions.RULE_FIELDS if name in cleaned}
        try:
            actions.check_rule(fields)
        except actions.RuleInvalid as error:
            for problem in error.problems:
                self.add_error(None, problem)
        return cleaned


@admin.register(ComplianceRule)
class ComplianceRuleAdmin(SupervisedAdmin):
    form = RuleForm
    list_display = (
        "code",
        "title",
        "family",
        "kind",
        "severity",
        "penalty_points",
        "enabled",
        "shop",
    )
    list_filter = ("shop", "family", "severity", "enabled", "platform_rule")
    search_fields = ("code", "title", "title_en", "phrases")
    readonly_fields = ("builtin", "updated_at", "updated_by")

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data.get(name) for name in actions.RULE_FIELDS}
        rule, _changed = actions.save_rule(
            request.user, form.cleaned_data["shop"], fields, rule_id=obj.pk if change else None
        )
        obj.pk = rule.pk

    def delete_model(self, request, obj):
        shop_id = obj.shop_id
        super().delete_model(request, obj)
        actions.bump_revision(shop_id)


@admin.register(ComplianceSettings)
class ComplianceSettingsAdmin(SupervisedAdmin):
    list_display = ("shop", "free_shipping", "ship_within_hours", "revision")
    readonly_fields = ("revision",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        actions.bump_revision(obj.shop_id)


class ReadOnlyAdmin(SupervisedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdmin):
    list_display = ("at", "rule_code", "severity", "action", "points", "agent", "sender_type")
    list_filter = ("action", "severity", "family", "shop")
    date_hierarchy = "at"
    search_fields = ("rule_code", "excerpt")


@admin.register(OverrideRequest)
class OverrideRequestAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "agent", "status", "decided_by", "decided_at")
    list_filter = ("status", "shop")
