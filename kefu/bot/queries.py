"""Reads for routing, the workbench and the knowledge-gap report."""

from __future__ import annotations

from .analysis import INTENT_CONFIDENT
from .models import BotSettings, Intent, ModelKind
from .training import current_model


def settings_of(shop) -> BotSettings:
    found = BotSettings.objects.filter(shop=shop).first()
    return found if found is not None else BotSettings(shop=shop)


def bot_enabled(shop) -> bool:
    return BotSettings.objects.filter(shop=shop, enabled=True).exists()


def group_code_for_text(shop, text: str) -> str:
    """The skill group of the text's intent when the shop's classifier is
    confident; "" otherwise. Never trains (this runs on every new conversation)."""
    model = current_model(shop.id, ModelKind.INTENT)
    if model is None or not text.strip():
        return ""
    prediction = model.predict(text)
    return group_code_of_intent(shop, prediction.label, prediction.confidence)


def group_code_of_intent(shop, intent: str, confidence: float) -> str:
    """The skill group a confidently recognised intent routes to ("" if none)."""
    if not intent or confidence < INTENT_CONFIDENT:
        return ""
    return (
        Intent.objects.filter(shop=shop, code=intent).values_list("group_code", flat=True).first()
        or ""
    )


def intent_names(shop, language: str | None) -> dict[str, str]:
    """Intent code → its name in the page's language."""
    field = "name_zh" if (language or "").startswith("zh") else "name_en"
    return dict(Intent.objects.filter(shop=shop).values_list("code", field))
