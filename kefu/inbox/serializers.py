"""Plain dicts of conversations and messages, the same for sockets and the API."""

from __future__ import annotations

import datetime as dt

from .models import Conversation, Message


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def message_dict(message: Message) -> dict:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "client_id": message.client_id,
        "sender_type": message.sender_type,
        "sender_name": message.sender_name,
        "text": message.text,
        "hold_seconds": message.hold_seconds,
        "created_at": iso(message.created_at),
    }


def staff_message(payload: dict) -> dict:
    """The staff's view of a message: a buyer's phone numbers, addresses and
    ID numbers masked (revealed on request, audited). The same dict when
    there is nothing to mask."""
    if payload["sender_type"] != "customer":
        return payload
    from kefu.compliance.privacy import mask_text

    masked = mask_text(payload["text"])
    if masked == payload["text"]:
        return payload
    return {**payload, "text": masked, "masked": True}


def agent_name(conversation: Conversation) -> str:
    agent = conversation.agent if conversation.agent_id else None
    if agent is None:
        return ""
    profile = getattr(agent, "agent_profile", None)
    return profile.display_name if profile else agent.get_username()


def conversation_summary(conversation: Conversation) -> dict:
    """The agents' view of a conversation."""
    customer = conversation.customer
    group = conversation.group if conversation.group_id else None
    return {
        "id": conversation.id,
        "shop_id": conversation.shop_id,
        "channel": conversation.channel,
        "status": conversation.status,
        "group": group.code if group else None,
        "group_name": group.name if group else None,
        "agent_id": conversation.agent_id,
        "agent_name": agent_name(conversation),
        "customer": {"id": customer.id, "name": customer.name, "tier": customer.tier},
        "last_seq": conversation.last_seq,
        "unread_count": conversation.unread_count,
        "waiting_since": iso(conversation.waiting_since),
        "first_response_at": iso(conversation.first_response_at),
        "hold_until": iso(conversation.hold_until),
        "queued_at": iso(conversation.queued_at),
        "assigned_at": iso(conversation.assigned_at),
        "last_message_preview": _masked(conversation.last_message_preview),
        "last_message_at": iso(conversation.last_message_at),
        "created_at": iso(conversation.created_at),
        "closed_at": iso(conversation.closed_at),
    }


def _masked(text: str) -> str:
    from kefu.compliance.privacy import mask_text

    return mask_text(text) if text else text


def conversation_public(conversation: Conversation) -> dict:
    """What the customer's widget may know: no internal names or groups."""
    return {
        "id": conversation.id,
        "status": conversation.status,
        "agent_name": agent_name(conversation),
    }
