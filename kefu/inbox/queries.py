"""Read helpers for the inbox screens and the resume-after-reconnect path."""

from __future__ import annotations

from .models import Conversation, Message, Status
from .serializers import conversation_summary, message_dict, staff_message

MAX_PAGE = 500


def messages_after(
    conversation_id: int, after_seq: int, limit: int = 200, *, staff: bool = True
) -> list[dict]:
    """Messages after `after_seq`; for staff (default) with buyer data masked,
    for the customer's own widget (`staff=False`) as written."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = Message.objects.filter(conversation_id=conversation_id, seq__gt=after_seq).order_by(
        "seq"
    )[:limit]
    if not staff:
        return [message_dict(m) for m in rows]
    return [staff_message(message_dict(m)) for m in rows]


def summaries(queryset) -> list[dict]:
    rows = queryset.select_related("customer", "group", "agent__agent_profile")
    return [conversation_summary(c) for c in rows]


def my_open_conversations(user) -> list[dict]:
    return summaries(
        Conversation.objects.filter(agent_id=user.id)
        .exclude(status=Status.CLOSED)
        .order_by("-last_message_at", "-id")
    )
