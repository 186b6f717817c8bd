"""The supervisor's compliance page: findings per rule and agent, the points
blocked attempts would have cost and allowed overrides did cost, by month;
override requests."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from kefu.accounts import queries as accounts_queries

from .models import Action, ComplianceRule, OverrideRequest, Violation


def overrides_for(
    user,
    *,
    status: str | None = None,
    exclude_status: str | None = None,
    shop_id: int | None = None,
    limit: int = 50,
) -> QuerySet:
    """Requests a supervisor may decide (their shops), or an agent's own."""
    shop_ids = accounts_queries.supervised_shop_ids(user)
    rows = OverrideRequest.objects.filter(Q(shop_id__in=shop_ids) | Q(agent=user))
    if shop_id is not None:
        rows = rows.filter(shop_id=shop_id)
    if status:
        rows = rows.filter(status=status)
    if exclude_status:
        rows = rows.exclude(status=exclude_status)
    return rows.select_related("agent", "conversation").order_by("-created_at", "-id")[:limit]


@dataclass
class Line:
    key: str
    label: str
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    points_avoided: int = 0
    points_incurred: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    from django.utils import timezone

    start = dt.datetime(month.year, month.month, 1)
    end = dt.datetime(month.year + (month.month == 12), month.month % 12 + 1, 1)
    tz = timezone.get_current_timezone()
    return timezone.make_aware(start, tz), timezone.make_aware(end, tz)


def _lines(rows, key_of, label_of) -> list[Line]:
    lines: dict[str, Line] = {}
    for row in rows:
        key = key_of(row)
        line = lines.setdefault(key, Line(key, label_of(row)))
        line.counts[row["action"]] += row["n"]
        if row["action"] == Action.BLOCKED:
            line.points_avoided += row["points"] or 0
        elif row["action"] == Action.OVERRIDDEN:
            line.points_incurred += row["points"] or 0
    return sorted(lines.values(), key=lambda line: (-line.total, line.label))


def month_summary(shop_id: int, month: dt.date, language: str = "zh-hans") -> dict:
    start, end = _month_bounds(month)
    found = Violation.objects.filter(shop_id=shop_id, at__gte=start, at__lt=end)
    titles = {
        r.code: (r.title_en if language.startswith("en") and r.title_en else r.title)
        for r in ComplianceRule.objects.filter(shop_id=shop_id)
    }
    by_rule = found.values("rule_code", "action").annotate(n=Count("id"), points=Sum("points"))
    by_agent = found.values(
        "agent_id", "agent__agent_profile__display_name", "sender_type", "action"
    ).annotate(n=Count("id"), points=Sum("points"))
    return {
        "rules": _lines(
            by_rule, lambda r: r["rule_code"], lambda r: titles.get(r["rule_code"], r["rule_code"])
        ),
        "agents": _lines(
            by_agent,
            lambda r: str(r["agent_id"] or r["sender_type"]),
            lambda r: r["agent__agent_profile__display_name"] or r["sender_type"],
        ),
    }


def monthly_points(shop_id: int, months: int = 6) -> list[dict]:
    rows = (
        Violation.objects.filter(shop_id=shop_id, action__in=[Action.BLOCKED, Action.OVERRIDDEN])
        .annotate(month=TruncMonth("at"))
        .values("month", "action")
        .annotate(points=Sum("points"), n=Count("id"))
        .order_by("-month")
    )
    table: dict[dt.date, dict] = {}
    for row in rows:
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        entry = table.setdefault(
            month, {"month": month, "avoided": 0, "incurred": 0, "blocked": 0, "overridden": 0}
        )
        if row["action"] == Action.BLOCKED:
            entry["avoided"] += row["points"] or 0
            entry["blocked"] += row["n"]
        else:
            entry["incurred"] += row["points"] or 0
            entry["overridden"] += row["n"]
    return sorted(table.values(), key=lambda e: e["month"], reverse=True)[:months]
