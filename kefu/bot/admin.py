from django import forms
from django.contrib import admin, messages
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kefu.compliance import actions as compliance_actions
from kefu.knowledge.admin import ShopScopedAdmin

from . import training
from .models import BotSettings, BotTurn, Intent, IntentExample, SentimentExample, TrainedModel


class BotSettingsForm(forms.ModelForm):
    class Meta:
        model = BotSettings
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose

    def clean(self):
        """The handoff text is sent to buyers: the shop's rules check it here,
        as they check every send."""
        cleaned = super().clean()
        shop = cleaned.get("shop") or getattr(self.instance, "shop", None)
        text = cleaned.get("handoff_text")
        if shop is not None and text:
            problems = compliance_actions.check_template(
                text, shop_id=shop.id, language=get_language() or "zh-hans"
            )
            if problems:
                self.add_error("handoff_text", problems)
        return cleaned


@admin.register(BotSettings)
class BotSettingsAdmin(ShopScopedAdmin):
    form = BotSettingsForm
    list_display = ("shop", "enabled", "answer_threshold", "max_unaccepted", "llm_enabled")
    fieldsets = (
        (None, {"fields": ("shop", "enabled", "name", "answer_threshold", "handoff_text")}),
        (
            _("Handoff"),
            {"fields": ("max_unaccepted", "handoff_vip", "handoff_negative", "idle_close_minutes")},
        ),
        (
            _("Shop's language model (optional)"),
            {
                "fields": (
                    "llm_enabled",
                    "llm_base_url",
                    "llm_model",
                    "llm_api_key",
                    "llm_timeout_seconds",
                )
            },
        ),
    )


class IntentExampleInline(admin.TabularInline):
    model = IntentExample
    extra = 3


@admin.register(Intent)
class IntentAdmin(ShopScopedAdmin):
    list_display = ("code", "name_zh", "name_en", "group_code", "handoff", "shop")
    list_filter = ("shop", "group_code", "handoff")
    inlines = [IntentExampleInline]
    actions = ["retrain"]

    @admin.action(description=_("Retrain the bot of these intents' shops"))
    def retrain(self, request, queryset):
        for shop_id in sorted(set(queryset.values_list("shop_id", flat=True))):
            shop = queryset.filter(shop_id=shop_id).first().shop
            report = training.train_intents(shop)
            messages.info(
                request,
                _("%(shop)s: %(examples)d examples, %(labels)d intents, %(seconds).1f s")
                % {
                    "shop": shop,
                    "examples": report.examples,
                    "labels": report.labels,
                    "seconds": report.seconds,
                },
            )


@admin.register(SentimentExample)
class SentimentExampleAdmin(ShopScopedAdmin):
    list_display = ("text", "label", "shop")
    list_filter = ("shop", "label")
    search_fields = ("text",)


@admin.register(TrainedModel)
class TrainedModelAdmin(ShopScopedAdmin):
    list_display = ("shop", "kind", "examples", "seconds", "trained_at")
    list_filter = ("shop", "kind")
    exclude = ("blob",)
    readonly_fields = ("shop", "kind", "examples", "labels", "seconds", "trained_at")

    def has_add_permission(self, request):
        return False


@admin.register(BotTurn)
class BotTurnAdmin(ShopScopedAdmin):
    list_display = (
        "created_at",
        "text",
        "intent",
        "sentiment",
        "confidence",
        "outcome",
        "reason",
        "feedback",
    )
    list_filter = ("shop", "outcome", "reason", "feedback", "sentiment")
    search_fields = ("text",)
    readonly_fields = [f.name for f in BotTurn._meta.fields]

    def has_add_permission(self, request):
        return False
