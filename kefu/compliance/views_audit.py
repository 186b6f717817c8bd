"""The supervisors' audit log page: who revealed which buyer's data and why,
overrides, rule and permission changes, exports; filtered and paginated."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kefu.accounts.models import Shop

from . import queries
from .models import AuditAction

PAGE_SIZE = 50


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not queries.can_view_audit(user):
        return render(request, "compliance/audit.html", {"forbidden": True}, status=403)
    shops = Shop.objects.order_by("id")
    if not user.is_superuser:
        shops = shops.filter(id__in=sorted(queries.audit_shop_ids(user)))
    params = request.GET
    shop_id = _int(params.get("shop", ""))
    if shop_id is not None and not shops.filter(id=shop_id).exists():
        shop_id = None
    action = params.get("action", "")
    action = action if action in AuditAction.values else ""
    since, until = _date(params.get("since", "")), _date(params.get("until", ""))
    actor = params.get("actor", "").strip()[:150]
    customer_id = _int(params.get("customer", ""))
    text = params.get("q", "").strip()[:200]
    entries = queries.audit_entries(
        user,
        shop_id=shop_id,
        actor=actor or None,
        action=action or None,
        customer_id=customer_id,
        since=_start_of(since) if since else None,
        # The "until" day is included.
        until=_start_of(until + dt.timedelta(days=1)) if until else None,
        q=text,
    )
    page = Paginator(entries, PAGE_SIZE).get_page(params.get("page"))
    keep = QueryDict(mutable=True)
    for name in ("shop", "action", "actor", "customer", "since", "until", "q"):
        if params.get(name):
            keep[name] = params[name]
    filters = {
        "shop": shop_id,
        "action": action,
        "actor": actor,
        "customer": customer_id,
        "since": since,
        "until": until,
        "q": text,
    }
    context = {
        "shops": shops,
        "actions": AuditAction.choices,
        "filters": filters,
        "page": page,
        "query": keep.urlencode(),
    }
    return render(request, "compliance/audit.html", context)
