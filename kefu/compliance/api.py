"""The guard for the workbench and integrators: check a text, ask for and
decide overrides of blocked sends."""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Router, Schema

from kefu.accounts import queries as accounts_queries
from kefu.api import staff_auth
from kefu.core import principal
from kefu.core.errors import ActionError

from . import actions, reports
from .models import OverrideStatus

router = Router(auth=staff_auth)
MAX_TEXT_CHARS = 20_000


class ErrorOut(Schema):
    code: str
    detail: object


class CheckIn(Schema):
    conversation_id: int | None = None
    shop_id: int | None = None
    text: str


class FindingOut(Schema):
    rule: str
    family: str
    severity: str
    span: list[int]
    message: str
    suggestion: str | None
    points: int


class CheckOut(Schema):
    blocked: bool
    findings: list[FindingOut]


class OverrideIn(Schema):
    conversation_id: int
    client_id: str
    text: str
    reason: str = ""


class DecisionIn(Schema):
    allow: bool
    reason: str


class OverrideOut(Schema):
    id: int
    shop_id: int
    conversation_id: int
    agent_id: int
    client_id: str
    text: str
    findings: list[dict]
    agent_reason: str
    status: str
    decision_reason: str
    message_seq: int | None
    created_at: str


def _override_out(override) -> dict:
    return {
        "id": override.id,
        "shop_id": override.shop_id,
        "conversation_id": override.conversation_id,
        "agent_id": override.agent_id,
        "client_id": override.client_id,
        "text": override.text,
        "findings": override.findings,
        "agent_reason": override.agent_reason,
        "status": override.status,
        "decision_reason": override.decision_reason,
        "message_seq": override.message_seq,
        "created_at": override.created_at.isoformat(),
    }


@router.post("/check", response={200: CheckOut, 400: ErrorOut, 404: ErrorOut})
def check(request, payload: CheckIn):
    """Screen a text as it would be sent (nothing is stored). With a
    conversation: its shop and the caller's authority; else a shop of theirs."""
    user = principal.require_user(request)
    if len(payload.text) > MAX_TEXT_CHARS:
        raise ActionError(_("The text is too long."), code="text_too_long")
    if payload.conversation_id is not None:
        shop_id = accounts_queries.conversation_for(user, payload.conversation_id).shop_id
    else:
        shop_ids = principal.shop_ids_for(request)
        shop_id = payload.shop_id if payload.shop_id in shop_ids else None
        if shop_id is None:
            raise ActionError(_("Give a conversation or one of your shops."), code="bad_request")
    level = accounts_queries.profile_of(user).level
    screening = actions.screen_outgoing(
        payload.text, shop_id=shop_id, agent_level=level, language=get_language() or "zh-hans"
    )
    return {"blocked": screening.blocked, "findings": screening.as_dicts()}


@router.post("/overrides", response={201: OverrideOut, 400: ErrorOut, 404: ErrorOut})
def request_override(request, payload: OverrideIn):
    override = actions.request_override(
        principal.require_user(request),
        payload.conversation_id,
        client_id=payload.client_id,
        text=payload.text,
        reason=payload.reason,
    )
    return 201, _override_out(override)


@router.get("/overrides", response=list[OverrideOut])
def list_overrides(request, status: OverrideStatus | None = None, limit: int = 50):
    user = principal.require_user(request)
    rows = reports.overrides_for(user, status=status, limit=max(1, min(limit, 200)))
    return [_override_out(o) for o in rows]


@router.post(
    "/overrides/{int:override_id}/decide",
    response={200: OverrideOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def decide(request, override_id: int, payload: DecisionIn):
    override = actions.decide_override(
        principal.require_user(request), override_id, allow=payload.allow, reason=payload.reason
    )
    return _override_out(override)
