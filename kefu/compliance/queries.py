"""Searching the audit log: supervisors see the rows of the shops they
supervise; other staff need the `compliance.view_audit_log` permission (and
then see the shops they work in); rows about no shop only superusers."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.core.errors import NotFound, PermissionDenied

from .models import AuditLog

VIEW_PERMISSION = "compliance.view_audit_log"
MAX_LIMIT = 500


def audit_shop_ids(user) -> frozenset[int]:
    """The shops whose audit rows this user may search."""
    from kefu.accounts import queries as accounts_queries

    shop_ids = set(accounts_queries.supervised_shop_ids(user))
    profile = getattr(user, "agent_profile", None)
    if profile is not None and user.has_perm(VIEW_PERMISSION):
        shop_ids.update(profile.shops.values_list("id", flat=True))
    return frozenset(shop_ids)


def can_view_audit(user) -> bool:
    if not user or not user.is_authenticated:
        return False
    return user.is_superuser or bool(audit_shop_ids(user))


def audit_entries(
    user,
    *,
    shop_id: int | None = None,
    actor: int | str | None = None,
    action: str | None = None,
    customer_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    q: str = "",
) -> QuerySet[AuditLog]:
    """The rows this user may see that match every filter given, newest first.
    `actor`: a user id, or part of the actor's name; `until` is exclusive."""
    if not can_view_audit(user):
        raise PermissionDenied(_("Only supervisors can search the audit log."))
    rows = AuditLog.objects.all()
    if not user.is_superuser:
        rows = rows.filter(shop_id__in=sorted(audit_shop_ids(user)))
    if shop_id is not None:
        if not user.is_superuser and shop_id not in audit_shop_ids(user):
            raise NotFound(_("Shop not found."))
        rows = rows.filter(shop_id=shop_id)
    if isinstance(actor, int):
        rows = rows.filter(actor_id=actor)
    elif actor:
        actor = actor.strip()
        rows = rows.filter(
            Q(actor_id=int(actor)) if actor.isdigit() else Q(actor_name__icontains=actor[:150])
        )
    if action:
        rows = rows.filter(action=action)
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if since is not None:
        rows = rows.filter(at__gte=since)
    if until is not None:
        rows = rows.filter(at__lt=until)
    q = q.strip()[:200]
    if q:
        rows = rows.filter(
            Q(subject__icontains=q) | Q(reason__icontains=q) | Q(actor_name__icontains=q)
        )
    return rows.order_by("-at", "-id")


def search_audit(user, *, limit: int = 100, **filters) -> list[AuditLog]:
    """`audit_entries` with the same filters, at most `limit` rows (1–500)."""
    rows = audit_entries(user, **filters)
    return list(rows[: max(1, min(limit, MAX_LIMIT))])
