"""The supervisors' compliance page: findings and penalty points per rule,
agent and month, and the override requests waiting for a decision."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts import queries as accounts_queries
from kefu.accounts.models import Shop
from kefu.core.errors import ActionError

from . import actions, reports
from .models import OverrideStatus, Severity


def _supervised_shops(request):
    return Shop.objects.filter(id__in=accounts_queries.supervised_shop_ids(request.user)).order_by(
        "id"
    )


def _month(value: str | None) -> dt.date:
    today = timezone.localdate()
    if value:
        try:
            parsed = dt.datetime.strptime(value, "%Y-%m").date()
            return parsed.replace(day=1)
        except ValueError:
            pass
    return today.replace(day=1)


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    shops = _supervised_shops(request)
    wanted = request.GET.get("shop")
    shop = shops.filter(slug=wanted).first() if wanted else shops.first()
    if shop is None:
        return render(request, "compliance/overview.html", {"forbidden": True}, status=403)
    actions.ensure_settings(shop)
    month = _month(request.GET.get("month"))
    summary = reports.month_summary(shop.id, month, get_language() or "zh-hans")
    pending = list(
        reports.overrides_for(
            request.user, status=OverrideStatus.PENDING, shop_id=shop.id, limit=200
        )
    )
    for override in pending:
        override.finding_rows = _finding_rows(override)
    context = {
        "shops": shops,
        "shop": shop,
        "month": month,
        "rules": summary["rules"],
        "agents": summary["agents"],
        "months": reports.monthly_points(shop.id),
        "pending": pending,
        "decided": reports.overrides_for(
            request.user, exclude_status=OverrideStatus.PENDING, shop_id=shop.id, limit=20
        ),
    }
    return render(request, "compliance/overview.html", context)


def _finding_rows(override) -> list[dict]:
    """One row per rule: its severity (translated), the words, the explanation."""
    labels = dict(Severity.choices)
    rows: dict[str, dict] = {}
    for finding in override.findings:
        start, end = finding.get("span", [0, 0])
        row = rows.setdefault(
            finding["rule"],
            {
                "severity": finding["severity"],
                "label": labels.get(finding["severity"], finding["severity"]),
                "message": finding.get("message", ""),
                "words": [],
            },
        )
        words = override.text[start:end]
        if words and words not in row["words"]:
            row["words"].append(words)
    return list(rows.values())


@login_required
@require_POST
def decide(request: HttpRequest, override_id: int) -> HttpResponse:
    allow = request.POST.get("decision") == "allow"
    try:
        override = actions.decide_override(
            request.user, override_id, allow=allow, reason=request.POST.get("reason", "")
        )
    except ActionError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Allowed: the message was sent.") if allow else _("Refused: nothing was sent."),
        )
        return redirect(f"{reverse('compliance:overview')}?shop={override.shop.slug}")
    return redirect(reverse("compliance:overview"))
