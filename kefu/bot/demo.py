"""The demo shop's bot: default intents, settings and a trained classifier."""

from __future__ import annotations

from . import training
from .models import BotSettings


def load_bot_demo(shop, *, enable: bool = False) -> BotSettings:
    training.ensure_default_intents(shop)
    settings, _created = BotSettings.objects.get_or_create(shop=shop)
    if enable and not settings.enabled:
        settings.enabled = True
        settings.save(update_fields=["enabled"])
    training.train_intents(shop)
    return settings
