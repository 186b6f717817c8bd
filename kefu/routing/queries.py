"""Read helpers for routing screens and decisions."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Min

from kefu.accounts.models import AgentProfile, AgentStatus
from kefu.core.clock import Clock
from kefu.inbox.models import Conversation

from .models import QueueEntry, SkillGroup


def sticky_agent_id(
    customer_id: int, sticky_hours: int, exclude_conversation_id: int, clock: Clock
) -> int | None:
    """The agent who last served this customer within the sticky window."""
    if not sticky_hours:
        return None
    since = clock.now() - dt.timedelta(hours=sticky_hours)
    return (
        Conversation.objects.filter(
            customer_id=customer_id, agent__isnull=False, last_message_at__gte=since
        )
        .exclude(id=exclude_conversation_id)
        .order_by("-last_message_at")
        .values_list("agent_id", flat=True)
        .first()
    )


def group_of_agent(profile: AgentProfile, shop_id: int) -> SkillGroup | None:
    return profile.skill_groups.filter(shop_id=shop_id).order_by("id").first()


def queue_snapshot(shop_id: int, group_ids: list[int] | None = None) -> list[dict]:
    """Waiting count and oldest wait per group of a shop (every group, even empty)."""
    waiting = {
        row["group_id"]: row
        for row in QueueEntry.objects.filter(shop_id=shop_id)
        .values("group_id")
        .annotate(waiting=Count("id"), oldest=Min("enqueued_at"))
    }
    snapshot = []
    groups = SkillGroup.objects.filter(shop_id=shop_id).order_by("id")
    if group_ids is not None:
        groups = groups.filter(id__in=group_ids)
    for group in groups:
        row = waiting.get(group.id, {})
        oldest = row.get("oldest")
        snapshot.append(
            {
                "code": group.code,
                "name": group.name,
                "waiting": row.get("waiting", 0),
                "oldest_waiting_since": oldest.isoformat() if oldest else None,
            }
        )
    return snapshot


def waiting_entries(shop_ids: list[int], group_ids: list[int] | None = None, limit: int = 200):
    entries = QueueEntry.objects.filter(shop_id__in=shop_ids)
    if group_ids is not None:
        entries = entries.filter(group_id__in=group_ids)
    return entries.select_related("conversation__customer", "group").order_by(
        "-vip", "enqueued_at", "id"
    )[:limit]


def agents_with_room_for_waiting() -> list[int]:
    group_ids = QueueEntry.objects.values_list("group_id", flat=True).distinct()
    return list(
        AgentProfile.objects.filter(
            status=AgentStatus.ONLINE,
            active_count__lt=F("max_concurrent"),
            skill_groups__in=group_ids,
        )
        .distinct()
        .values_list("user_id", flat=True)
    )


def agent_board(shop_ids: list[int]) -> list[dict]:
    """Agents of these shops with status and load, for supervisors."""
    rows = (
        AgentProfile.objects.filter(shops__id__in=shop_ids)
        .distinct()
        .prefetch_related("skill_groups")
        .order_by("display_name")
    )
    return [
        {
            "user_id": p.user_id,
            "name": p.display_name,
            "role": p.role,
            "level": p.level,
            "status": p.status,
            "active_count": p.active_count,
            "max_concurrent": p.max_concurrent,
            "groups": [g.code for g in p.skill_groups.all()],
        }
        for p in rows
    ]
