"""Buyer data for staff: reveal one masked value (with a reason, audited) and
search the audit log (supervisors). Mounted under /api/v1/compliance."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema

from kefu.api import staff_auth
from kefu.core import principal
from kefu.core.errors import ActionError

from . import audit, queries
from .models import AuditAction

router = Router(auth=staff_auth)


class ErrorOut(Schema):
    code: str
    detail: object


class RevealIn(Schema):
    """Either `identity_id` (a customer's phone number, …) or
    `conversation_id` and `seq` (one message's text as written)."""

    identity_id: int | None = None
    conversation_id: int | None = None
    seq: int | None = None
    reason: str = ""


class RevealOut(Schema):
    value: str


class AuditEntryOut(Schema):
    id: int
    at: str
    shop_id: int | None
    actor_id: int | None
    actor_name: str
    action: str
    customer_id: int | None
    subject: str
    reason: str
    data: dict


def _entry_out(entry) -> dict:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "shop_id": entry.shop_id,
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "customer_id": entry.customer_id,
        "subject": entry.subject,
        "reason": entry.reason,
        "data": entry.data,
    }


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment)


@router.post("/reveal", response={200: RevealOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def reveal(request, payload: RevealIn):
    user = principal.require_user(request)
    if payload.identity_id is not None and payload.conversation_id is None:
        value = audit.reveal_customer_identity(user, payload.identity_id, payload.reason)
    elif payload.identity_id is None and payload.conversation_id is not None:
        if payload.seq is None:
            raise ActionError(_("Give the message's seq."), code="bad_request")
        value = audit.reveal_message_text(
            user, payload.conversation_id, payload.seq, payload.reason
        )
    else:
        raise ActionError(
            _("Give either an identity, or a conversation and a message."), code="bad_request"
        )
    return {"value": value}


@router.get("/audit", response={200: list[AuditEntryOut], 403: ErrorOut, 404: ErrorOut})
def search_audit(
    request,
    shop_id: int | None = None,
    actor: str = "",
    action: AuditAction | None = None,
    customer_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    q: str = "",
    limit: int = 100,
):
    rows = queries.search_audit(
        principal.require_user(request),
        shop_id=shop_id,
        actor=actor or None,
        action=action,
        customer_id=customer_id,
        since=_aware(since),
        until=_aware(until),
        q=q,
        limit=limit,
    )
    return [_entry_out(entry) for entry in rows]
