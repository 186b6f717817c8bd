"""Idempotent sweeps for the bot."""

from __future__ import annotations

import datetime as dt

from kefu.core.clock import Clock, system_clock
from kefu.inbox import actions as inbox_actions
from kefu.inbox.models import Conversation, Status

from .models import BotSettings

DEFAULT_IDLE_MINUTES = BotSettings._meta.get_field("idle_close_minutes").default


def close_quiet_conversations(clock: Clock = system_clock) -> int:
    """Close conversations the bot holds once the customer has gone quiet for
    the shop's `idle_close_minutes`, so a visit days later starts afresh."""
    now = clock.now()
    minutes = dict(BotSettings.objects.values_list("shop_id", "idle_close_minutes"))
    quiet = Conversation.objects.filter(
        status=Status.BOT,
        last_message_at__lt=now
        - dt.timedelta(minutes=min([DEFAULT_IDLE_MINUTES, *minutes.values()])),
    ).values_list("id", "shop_id")
    closed = 0
    for conversation_id, shop_id in quiet:
        since = now - dt.timedelta(minutes=minutes.get(shop_id, DEFAULT_IDLE_MINUTES))
        closed += inbox_actions.close_quiet_bot_conversation(conversation_id, since, clock=clock)
    return closed
