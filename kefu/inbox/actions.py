"""Every change to conversations and messages goes through these functions.

`ingest_messages` is the hot path: it stores a batch of messages from any
sender (customer, agent, bot) in one transaction, one row lock per
conversation, idempotent by client id, with the conversation's next `seq`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kefu.accounts import queries as accounts_queries
from kefu.core.clock import Clock, system_clock
from kefu.core.errors import ActionError, NotFound, PermissionDenied
from kefu.realtime.events import (
    ConversationChanged,
    MessageCreated,
    agent_group,
    conversation_group,
)
from kefu.realtime.publish import publish_on_commit

from . import store
from .models import (
    Channel,
    Conversation,
    ConversationEvent,
    EventKind,
    Message,
    SenderType,
    Status,
)
from .serializers import conversation_public, conversation_summary, message_dict, staff_message

PREVIEW_CHARS = 60


@dataclass(frozen=True, slots=True)
class IngestRequest:
    conversation_id: int
    sender_type: str
    client_id: str
    text: str
    sender_id: int | None = None
    sender_name: str = ""
    hold_seconds: int | None = None
    # Shops whose conversations this sender supervises (may write to any of them).
    supervised_shop_ids: frozenset[int] = field(default_factory=frozenset)
    # The sending socket's channel: it has the ack, so the push skips it.
    origin: str = ""
    # For the compliance guard: the agent's level (authority limits), a
    # supervisor's override of a blocked send, the language of its findings.
    agent_level: str = ""
    override: bool = False
    language: str = "zh-hans"
    # The guard's screening of this very text, when the caller already made it
    # with the shop's rules (the bot, deciding whether to answer): not redone.
    screening: Any = None


@dataclass(slots=True)
class IngestResult:
    client_id: str
    message: dict | None = None
    duplicate: bool = False
    error: ActionError | None = None
    # Set when the message went to a conversation the bot holds: the caller
    # hands this seq to the bot once the batch has committed.
    bot_seq: int | None = None


def ingest_message(request: IngestRequest, clock: Clock = system_clock) -> IngestResult:
    return ingest_messages([request], clock)[0]


def ingest_messages(
    requests: list[IngestRequest], clock: Clock = system_clock
) -> list[IngestResult]:
    """Store a batch; one result per request, in order. A refused request
    (closed, foreign conversation, blocked by the compliance guard) stores
    nothing and does not affect others. Agent and bot messages are screened
    by the guard first; what it found is recorded in the same transaction."""
    from kefu.compliance import actions as compliance

    now = clock.now()
    results = [IngestResult(client_id=r.client_id) for r in requests]
    # The stored (or newly stored) message behind each accepted request.
    outcome: list[Message | None] = [None] * len(requests)
    with transaction.atomic():
        conversation_ids = sorted({r.conversation_id for r in requests})
        conversations = store.lock_conversations(conversation_ids)
        stored = store.stored_messages(conversation_ids, {r.client_id for r in requests})
        new_messages: list[Message] = []
        pending: dict[tuple[int, str, str], Message] = {}
        violations: list = []
        for index, (request, result) in enumerate(zip(requests, results, strict=True)):
            key = (request.conversation_id, request.sender_type, request.client_id)
            if key in stored or key in pending:
                result.duplicate = True
                outcome[index] = stored.get(key) or pending[key]
                continue
            conversation = conversations.get(request.conversation_id)
            error = _refusal(request, conversation)
            if error:
                result.error = error
                continue
            assert conversation is not None
            screening = None
            if request.sender_type in GUARDED:
                screening = request.screening
                if screening is None or screening.text != request.text:
                    screening = compliance.screen_outgoing(
                        request.text,
                        shop_id=conversation["shop_id"],
                        agent_level=request.agent_level,
                        language=request.language,
                    )
                if screening.blocked and not request.override:
                    result.error = compliance.Blocked(screening)
                    violations += _violations(screening, request, conversation, None, now)
                    continue
            _advance(conversation, request, now)
            message = Message(
                conversation_id=request.conversation_id,
                seq=conversation["last_seq"],
                client_id=request.client_id,
                sender_type=request.sender_type,
                sender_id=request.sender_id,
                sender_name=request.sender_name,
                text=request.text,
                hold_seconds=request.hold_seconds,
                created_at=now,
            )
            pending[key] = message
            new_messages.append(message)
            outcome[index] = message
            if screening is not None and screening.findings:
                violations += _violations(screening, request, conversation, message.seq, now)
            if request.sender_type == SenderType.CUSTOMER and conversation["status"] == Status.BOT:
                result.bot_seq = message.seq
        if new_messages:
            store.insert_messages(new_messages)
            store.save_conversation_state(
                [conversations[i] for i in {m.conversation_id for m in new_messages}]
            )
        compliance.save_violations(violations)
    payloads = {id(message): message_dict(message) for message in outcome if message is not None}
    origins = {id(outcome[i]): r.origin for i, r in enumerate(requests) if outcome[i] is not None}
    for message in new_messages:
        conversation = conversations[message.conversation_id]
        groups = [conversation_group(message.conversation_id)]
        if conversation["agent_id"]:
            groups.append(agent_group(conversation["agent_id"]))
        payload = payloads[id(message)]
        staff = staff_message(payload)
        publish_on_commit(
            MessageCreated(
                groups=tuple(groups),
                message=payload,
                origin=origins[id(message)],
                staff_message=None if staff is payload else staff,
            )
        )
    for result, stored_message in zip(results, outcome, strict=True):
        if stored_message is not None:
            result.message = payloads[id(stored_message)]
    return results


# Everything the shop sends: agents, the bot, and the shop's templates (the
# greeting, the handoff text), which are also checked when saved.
GUARDED = frozenset({SenderType.AGENT, SenderType.BOT, SenderType.SYSTEM})


def _violations(screening, request: IngestRequest, conversation: dict, seq, now) -> list:
    from kefu.compliance import actions as compliance
    from kefu.compliance.models import Action

    return compliance.violations_for(
        screening,
        shop_id=conversation["shop_id"],
        conversation_id=conversation["id"],
        agent_id=request.sender_id if request.sender_type == SenderType.AGENT else None,
        sender_type=request.sender_type,
        client_id=request.client_id,
        action_of_block=Action.OVERRIDDEN if request.override else Action.BLOCKED,
        message_seq=seq,
        at=now,
    )


def _refusal(request: IngestRequest, conversation: dict | None) -> ActionError | None:
    if conversation is None:
        return NotFound(_("Conversation not found."))
    if request.sender_type == SenderType.AGENT:
        own = conversation["agent_id"] == request.sender_id
        if not own and conversation["shop_id"] not in request.supervised_shop_ids:
            # Same answer as for a missing one: never reveal others' conversations.
            return NotFound(_("Conversation not found."))
    if conversation["status"] == Status.CLOSED:
        return ActionError(_("This conversation is closed."), code="closed")
    limit = conversation["max_message_chars"]
    if len(request.text) > limit:
        return ActionError(
            _("The message is too long: %(length)d characters, at most %(limit)d.")
            % {"length": len(request.text), "limit": limit},
            code="text_too_long",
        )
    return None


def _advance(conversation: dict, request: IngestRequest, now: dt.datetime) -> None:
    """Apply one message to the conversation's counters (in memory; saved once)."""
    conversation["last_seq"] += 1
    conversation["last_message_at"] = now
    conversation["last_message_preview"] = request.text[:PREVIEW_CHARS]
    if request.sender_type == SenderType.CUSTOMER:
        conversation["unread_count"] += 1
        if conversation["waiting_since"] is None:
            conversation["waiting_since"] = now
        if conversation["first_customer_message_at"] is None:
            conversation["first_customer_message_at"] = now
    elif request.sender_type in (SenderType.AGENT, SenderType.BOT):
        if conversation["first_response_at"] is None and conversation["waiting_since"]:
            conversation["first_response_at"] = now
        conversation["waiting_since"] = None
        conversation["unread_count"] = 0
        conversation["hold_until"] = (
            now + dt.timedelta(seconds=request.hold_seconds) if request.hold_seconds else None
        )


# --- Conversations -------------------------------------------------------------


def open_conversation(
    *,
    shop,
    customer,
    channel: str = Channel.WIDGET,
    first_text: str,
    client_id: str,
    clock: Clock = system_clock,
) -> tuple[Conversation, IngestResult]:
    """Open a conversation with its greeting (seq 1) and the customer's first
    message (seq 2), then route it — or leave it with the bot when the shop
    lets the bot answer first (the result's `bot_seq` says so). One transaction."""
    from kefu.bot import queries as bot_queries
    from kefu.routing import actions as routing_actions

    now = clock.now()
    with transaction.atomic():
        with_bot = bot_queries.bot_enabled(shop)
        conversation = Conversation.objects.create(
            shop=shop,
            customer=customer,
            channel=channel,
            status=Status.BOT if with_bot else Status.QUEUED,
            created_at=now,
        )
        ConversationEvent.objects.create(conversation=conversation, kind=EventKind.OPENED, at=now)
        greeting = [
            IngestRequest(
                conversation_id=conversation.id,
                sender_type=SenderType.SYSTEM,
                client_id="greeting",
                text=shop.greeting,
                sender_name=shop.name,
            )
        ]
        first = IngestRequest(
            conversation_id=conversation.id,
            sender_type=SenderType.CUSTOMER,
            client_id=client_id,
            text=first_text,
            sender_name=customer.name,
        )
        results = ingest_messages(greeting + [first], clock)
        conversation.refresh_from_db()
        if not with_bot:
            routing_actions.route_conversation(conversation, first_text, clock=clock)
        if conversation.status in (
            Status.QUEUED,
            Status.BOT,
        ):  # an assignment has told the widget already
            publish_on_commit(
                ConversationChanged(
                    groups=(conversation_group(conversation.id),),
                    summary=conversation_public(conversation),
                )
            )
    return conversation, results[1]


def current_conversation(customer_id: int) -> Conversation | None:
    return (
        Conversation.objects.filter(customer_id=customer_id)
        .exclude(status=Status.CLOSED)
        .order_by("-id")
        .first()
    )


def mark_read(user, conversation_id: int, seq: int) -> None:
    conversation = accounts_queries.conversation_for(user, conversation_id)
    with transaction.atomic():
        updated = Conversation.objects.filter(
            id=conversation.id, agent_id=user.id, last_seq__lte=seq
        ).update(unread_count=0)
    if updated:
        conversation.unread_count = 0


def close_conversation(actor, conversation_id: int, clock: Clock = system_clock) -> Conversation:
    from kefu.routing import actions as routing_actions

    now = clock.now()
    with transaction.atomic():
        conversation = accounts_queries.conversation_for(actor, conversation_id, for_update=True)
        if conversation.agent_id != actor.id and not accounts_queries.supervises(
            actor, conversation.shop_id
        ):
            raise PermissionDenied(_("Only the assigned agent or a supervisor can close it."))
        if conversation.status == Status.CLOSED:
            raise ActionError(_("This conversation is already closed."), code="closed")
        previous_agent_id = conversation.agent_id
        _mark_closed(conversation, now, actor=actor)
        routing_actions.release_conversation(conversation, clock=clock)
        groups = [conversation_group(conversation.id)]
        if previous_agent_id:
            groups.append(agent_group(previous_agent_id))
        publish_on_commit(
            ConversationChanged(
                groups=tuple(groups[1:]), summary=conversation_summary(conversation)
            )
        )
        publish_on_commit(
            ConversationChanged(groups=tuple(groups[:1]), summary=conversation_public(conversation))
        )
        if previous_agent_id:
            routing_actions.fill_agent_capacity(previous_agent_id, clock=clock)
    return conversation


def _mark_closed(conversation: Conversation, now: dt.datetime, *, actor=None, **data) -> None:
    conversation.status = Status.CLOSED
    conversation.closed_at = now
    conversation.waiting_since = None
    conversation.hold_until = None
    conversation.save(update_fields=["status", "closed_at", "waiting_since", "hold_until"])
    ConversationEvent.objects.create(
        conversation=conversation, kind=EventKind.CLOSED, actor=actor, data=data, at=now
    )


def close_quiet_bot_conversation(
    conversation_id: int, quiet_since: dt.datetime, *, clock: Clock = system_clock
) -> bool:
    """Close a conversation the bot still holds when nothing was said in it
    since `quiet_since` (the customer left). Idempotent; False when it was
    not closed (taken over, or the customer wrote meanwhile)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().filter(id=conversation_id).first()
        if (
            conversation is None
            or conversation.status != Status.BOT
            or (conversation.last_message_at and conversation.last_message_at >= quiet_since)
        ):
            return False
        _mark_closed(conversation, clock.now(), reason="bot_idle")
        publish_on_commit(
            ConversationChanged(
                groups=(conversation_group(conversation.id),),
                summary=conversation_public(conversation),
            )
        )
    return True


def send_agent_message(
    user, conversation_id: int, *, client_id: str, text: str, hold_seconds: int | None = None
) -> IngestResult:
    """The agent's send for synchronous callers (HTTP API); sockets batch instead."""
    profile = accounts_queries.profile_of(user)
    conversation = accounts_queries.conversation_for(user, conversation_id)
    from kefu.core.text import clean_client_id, clean_message_text

    return ingest_message(
        IngestRequest(
            conversation_id=conversation.id,
            sender_type=SenderType.AGENT,
            client_id=clean_client_id(client_id),
            text=clean_message_text(text, conversation.shop.max_message_chars),
            sender_id=user.id,
            sender_name=profile.display_name,
            hold_seconds=hold_seconds,
            supervised_shop_ids=accounts_queries.supervised_shop_ids(user),
            agent_level=profile.level,
            language=get_language() or "zh-hans",
        )
    )
