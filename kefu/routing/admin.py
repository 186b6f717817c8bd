from django.contrib import admin

from .models import QueueEntry, RoutingRule, SkillGroup


@admin.register(SkillGroup)
class SkillGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "shop")
    list_filter = ("shop",)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "shop", "position", "group", "tier", "channel", "risk", "enabled")
    list_filter = ("shop", "enabled")
    list_editable = ("position", "enabled")


@admin.register(QueueEntry)
class QueueEntryAdmin(admin.ModelAdmin):
    list_display = ("conversation", "group", "vip", "enqueued_at")
    list_filter = ("group",)
