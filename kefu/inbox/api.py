"""HTTP endpoints for conversations and messages (workbench, integrators) and
the widget's fallback when it cannot hold a WebSocket."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kefu.api import staff_auth, visitor_auth
from kefu.core import principal
from kefu.core.errors import ActionError
from kefu.core.text import clean_client_id, clean_message_text

from . import actions, queries
from .connectors import widget
from .models import SenderType, Status
from .serializers import conversation_summary

router = Router(auth=staff_auth)
widget_router = Router(auth=visitor_auth)


class ErrorOut(Schema):
    code: str
    detail: object
    # A send the compliance guard blocked: what it found (rule, span, rewrite).
    findings: list[dict] | None = None


class MessageOut(Schema):
    id: int
    conversation_id: int
    seq: int
    client_id: str
    sender_type: str
    sender_name: str
    text: str
    hold_seconds: int | None = None
    created_at: str


class CustomerBrief(Schema):
    id: int
    name: str
    tier: str


class ConversationOut(Schema):
    id: int
    shop_id: int
    channel: str
    status: str
    group: str | None
    group_name: str | None
    agent_id: int | None
    agent_name: str
    customer: CustomerBrief
    last_seq: int
    unread_count: int
    waiting_since: str | None
    first_response_at: str | None
    hold_until: str | None
    queued_at: str | None
    assigned_at: str | None
    last_message_preview: str
    last_message_at: str | None
    created_at: str
    closed_at: str | None


class MessagesOut(Schema):
    conversation_id: int | None
    status: str | None = None
    messages: list[MessageOut]


class SendIn(Schema):
    client_id: str = Field(..., min_length=1, max_length=64)
    text: str = Field(..., max_length=100_000)
    hold_seconds: int | None = Field(None, ge=1, le=3600)


class AckOut(Schema):
    duplicate: bool
    message: MessageOut


class TransferIn(Schema):
    agent_id: int | None = Field(None, ge=1)
    group: str | None = Field(None, max_length=30)
    note: str = Field("", max_length=1000)


class ReadIn(Schema):
    seq: int = Field(..., ge=0)


def _ack(result: actions.IngestResult) -> dict:
    if result.error:
        raise result.error
    return {"duplicate": result.duplicate, "message": result.message}


@router.get("", response=list[ConversationOut], summary="List conversations")
def list_conversations(request, status: Status | None = None, mine: bool = False, limit: int = 100):
    queryset = principal.conversations_for(request)
    if mine:
        queryset = queryset.filter(agent_id=principal.require_user(request).id)
    if status:
        queryset = queryset.filter(status=status)
    limit = max(1, min(limit, 500))
    return queries.summaries(queryset.order_by("-last_message_at", "-id")[:limit])


@router.get("/{int:conversation_id}", response={200: ConversationOut, 404: ErrorOut})
def get_conversation(request, conversation_id: int):
    return conversation_summary(principal.conversation_or_404(request, conversation_id))


@router.get(
    "/{int:conversation_id}/messages",
    response={200: MessagesOut, 404: ErrorOut},
    summary="Messages after a sequence number (resume after reconnect)",
)
def list_messages(request, conversation_id: int, after_seq: int = 0, limit: int = 200):
    conversation = principal.conversation_or_404(request, conversation_id)
    return {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "messages": queries.messages_after(conversation.id, max(after_seq, 0), limit),
    }


@router.post(
    "/{int:conversation_id}/messages",
    response={200: AckOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Send a message (idempotent by client_id)",
)
def send_message(request, conversation_id: int, payload: SendIn):
    token = principal.api_token_of(request)
    if token is None:
        return _ack(
            actions.send_agent_message(
                request.user,
                conversation_id,
                client_id=payload.client_id,
                text=payload.text,
                hold_seconds=payload.hold_seconds,
            )
        )
    conversation = principal.conversation_or_404(request, conversation_id)
    return _ack(
        actions.ingest_message(
            actions.IngestRequest(
                conversation_id=conversation.id,
                sender_type=SenderType.BOT,
                client_id=clean_client_id(payload.client_id),
                text=clean_message_text(payload.text, conversation.shop.max_message_chars),
                sender_name=token.name,
            )
        )
    )


@router.post(
    "/{int:conversation_id}/transfer",
    response={200: ConversationOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def transfer(request, conversation_id: int, payload: TransferIn):
    from kefu.routing import actions as routing_actions

    user = principal.require_user(request)
    conversation = routing_actions.transfer_conversation(
        user,
        conversation_id,
        to_agent_id=payload.agent_id,
        to_group_code=payload.group,
        note=payload.note,
    )
    return conversation_summary(conversation)


@router.post(
    "/{int:conversation_id}/close",
    response={200: ConversationOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def close(request, conversation_id: int):
    user = principal.require_user(request)
    return conversation_summary(actions.close_conversation(user, conversation_id))


@router.post("/{int:conversation_id}/read", response={204: None, 403: ErrorOut, 404: ErrorOut})
def read(request, conversation_id: int, payload: ReadIn):
    user = principal.require_user(request)
    actions.mark_read(user, conversation_id, payload.seq)
    return 204, None


# --- Widget fallback ---------------------------------------------------------------


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


@widget_router.post(
    "/messages",
    response={200: AckOut, 400: ErrorOut, 401: ErrorOut, 429: ErrorOut},
    summary="Widget: send a message over HTTP",
)
def widget_send(request, payload: SendIn):
    if payload.hold_seconds is not None:
        raise ActionError(_("Customers cannot set a promised time."))
    _conversation_id, result = widget.visitor_send(
        request.visitor, text=payload.text, client_id=payload.client_id, ip=_client_ip(request)
    )
    return _ack(result)


@widget_router.get(
    "/messages",
    response={200: MessagesOut, 401: ErrorOut},
    summary="Widget: messages after a sequence number",
)
def widget_messages(request, after_seq: int = 0):
    return widget.visitor_messages(request.visitor, max(after_seq, 0))
