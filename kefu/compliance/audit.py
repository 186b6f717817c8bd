"""The append-only audit log: who revealed which buyer's personal data and why,
overrides, rule and permission changes, data exports.

`record` is the one way to write a row; the other actions here check access
and call it in the same transaction as what they audit.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core.clock import Clock, system_clock
from kefu.core.errors import ActionError, NotFound, PermissionDenied

from .models import AuditAction, AuditLog

REASON_MIN_CHARS = 4
REASON_MAX_CHARS = 300
REVEAL_PERMISSION = "compliance.reveal_buyer_data"

# Who is acting in this request or task, for rows written where the acting
# user is not passed in (permission changes caught by signals). Set per
# request by `signals.AuditActorMiddleware`; a context variable, so each
# request, thread and task sees its own.
_acting: contextvars.ContextVar[Any] = contextvars.ContextVar("kefu_audit_actor", default=None)


@contextlib.contextmanager
def acting_as(user_or_request) -> Iterator[None]:
    """Rows written inside are attributed to this user (or the request's user,
    looked up only when a row is written)."""
    token = _acting.set(user_or_request)
    try:
        yield
    finally:
        _acting.reset(token)


def current_actor():
    value = _acting.get()
    if value is not None and hasattr(value, "META"):  # a request
        value = getattr(value, "user", None)
    if value is None or not getattr(value, "is_authenticated", False):
        return None
    return value


def actor_name(user) -> str:
    if user is None:
        return ""
    profile = getattr(user, "agent_profile", None)
    return profile.display_name if profile is not None else user.get_username()


def record(
    actor,
    action: str,
    *,
    shop_id: int | None = None,
    customer_id: int | None = None,
    subject: str = "",
    reason: str = "",
    data: dict | None = None,
    clock: Clock = system_clock,
) -> AuditLog:
    """Append one row. `actor` is the user, or None for the system."""
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action: {action!r}")
    return AuditLog.objects.create(
        shop_id=shop_id,
        actor_id=actor.pk if actor is not None else None,
        actor_name=actor_name(actor)[:150],
        action=action,
        customer_id=customer_id,
        subject=subject[:200],
        reason=reason[:REASON_MAX_CHARS],
        data=data or {},
        at=clock.now(),
    )


def clean_reason(reason: object) -> str:
    """The reason as stored, or ActionError: at least 4 characters that are
    not spaces, at most 300."""
    text = " ".join(str(reason or "").split())
    if len(text.replace(" ", "")) < REASON_MIN_CHARS:
        raise ActionError(
            _("Give a reason of at least %(n)d characters; it is recorded in the audit log.")
            % {"n": REASON_MIN_CHARS},
            code="reason_required",
        )
    if len(text) > REASON_MAX_CHARS:
        raise ActionError(
            _("The reason is too long (at most %(n)d characters).") % {"n": REASON_MAX_CHARS},
            code="reason_too_long",
        )
    return text


# --- Revealing buyer data -------------------------------------------------------------


def can_reveal(user, shop_id: int) -> bool:
    """Supervisors and administrators of the shop always; other staff with the
    `compliance.reveal_buyer_data` permission (e.g. through a group)."""
    from kefu.accounts import queries as accounts_queries

    return accounts_queries.supervises(user, shop_id) or user.has_perm(REVEAL_PERMISSION)


def _require_reveal(user, shop_id: int) -> None:
    if not can_reveal(user, shop_id):
        raise PermissionDenied(_("You may not see buyers' personal data."))


def reveal_customer_identity(user, identity_id: int, reason: str, *, clock=system_clock) -> str:
    """The plain value of one of a customer's identities (a phone number, …),
    audited. 404 for a customer of a shop the user does not work in."""
    from kefu.accounts import queries as accounts_queries
    from kefu.customers import queries as customer_queries

    profile = accounts_queries.profile_of(user)
    shop_ids = list(profile.shops.values_list("id", flat=True))
    identity = customer_queries.identity_in_shops(identity_id, shop_ids)
    if identity is None:
        raise NotFound(_("Customer not found."))
    _require_reveal(user, identity.shop_id)
    reason = clean_reason(reason)
    with transaction.atomic():
        record(
            user,
            AuditAction.REVEAL,
            shop_id=identity.shop_id,
            customer_id=identity.customer_id,
            subject=f"customer {identity.customer_id}: identity {identity.id} ({identity.kind})",
            reason=reason,
            data={"field": "identity", "identity_id": identity.id, "kind": identity.kind},
            clock=clock,
        )
    return identity.value


def reveal_message_text(
    user, conversation_id: int, seq: int, reason: str, *, clock=system_clock
) -> str:
    """The text of one message as written (buyer data not masked), audited.
    404 for a conversation the user may not see or a message it does not have."""
    from kefu.accounts import queries as accounts_queries
    from kefu.inbox import queries as inbox_queries

    from .privacy import find_pii

    conversation = accounts_queries.conversation_for(user, conversation_id)
    found = inbox_queries.messages_after(conversation.id, seq - 1, limit=1, staff=False)
    if not found or found[0]["seq"] != seq:
        raise NotFound(_("Message not found."))
    _require_reveal(user, conversation.shop_id)
    reason = clean_reason(reason)
    text = found[0]["text"]
    with transaction.atomic():
        record(
            user,
            AuditAction.REVEAL,
            shop_id=conversation.shop_id,
            customer_id=conversation.customer_id,
            subject=f"conversation {conversation.id}: message {seq}",
            reason=reason,
            data={
                "field": "message",
                "conversation_id": conversation.id,
                "seq": seq,
                "kinds": sorted({pii.kind for pii in find_pii(text)}),
            },
            clock=clock,
        )
    return text


# --- Exports and permission changes ---------------------------------------------------


def record_export(actor, kind: str, shop_id: int | None, rows: int, *, clock=system_clock):
    """One row per export of a table (`kefu export`, the admin's export action)."""
    return record(
        actor if actor is not None else current_actor(),
        AuditAction.EXPORT,
        shop_id=shop_id,
        subject=f"export {kind}",
        data={"kind": kind, "rows": rows},
        clock=clock,
    )


def record_permission_change(
    user_id: int,
    *,
    change: str,
    items: Iterable[str] = (),
    shop_ids: Iterable[int] = (),
    actor=None,
    username: str = "",
    clock: Clock = system_clock,
) -> list[AuditLog]:
    """A user's groups, permissions or role changed: one row per shop they
    work in (so each shop's supervisors see it), one without a shop if none.
    `change` says what ("groups added", "role", …); `items` lists them."""
    actor = actor if actor is not None else current_actor()
    names = sorted(items)
    label = username or f"user {user_id}"
    targets: list[int | None] = [*sorted(shop_ids)] or [None]
    return [
        record(
            actor,
            AuditAction.PERMISSION,
            shop_id=shop_id,
            subject=f"{label}: {change}"[:200],
            data={"user_id": user_id, "change": change, "names": names},
            clock=clock,
        )
        for shop_id in targets
    ]
