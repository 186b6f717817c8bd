"""Who serves a conversation.

Precedence for a new conversation: the customer's dedicated owner, then the
agent who served them within the shop's sticky window, then the first
matching shop rule picks a skill group (default pre-sales), and within it the
online agent with the most free capacity. Without capacity the conversation
waits in its group's queue (VIP first, then oldest) until an agent frees up.

Capacity is `AgentProfile.active_count`, changed under a row lock in the
transaction of each assignment, so no capacity check counts conversations."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kefu.accounts import actions as account_actions
from kefu.accounts import queries as accounts_queries
from kefu.accounts.models import AgentProfile, AgentStatus
from kefu.core.clock import Clock, system_clock
from kefu.core.errors import ActionError, NotFound, PermissionDenied
from kefu.customers.models import Tier
from kefu.inbox.models import Conversation, ConversationEvent, EventKind, Status
from kefu.inbox.serializers import conversation_public, conversation_summary
from kefu.realtime.events import (
    ConversationChanged,
    QueueChanged,
    agent_group,
    conversation_group,
    supervisors_group,
)
from kefu.realtime.publish import publish_on_commit

from . import queries
from .models import QueueEntry, SkillGroup
from .rules import choose_group


def _locked(queryset, *, skip_locked: bool = False):
    """Lock the rows of the queried model only (never the joined tables: a
    join must not lock a shop or a conversation by accident)."""
    if not connection.features.has_select_for_update:
        return queryset  # SQLite: BEGIN IMMEDIATE already serialises writers
    return queryset.select_for_update(of=("self",), skip_locked=skip_locked)


def _available(profile: AgentProfile | None) -> bool:
    return (
        profile is not None
        and profile.status == AgentStatus.ONLINE
        and profile.active_count < profile.max_concurrent
    )


def _lock_profile(user_id: int | None, shop_id: int) -> AgentProfile | None:
    if not user_id:
        return None
    return _locked(AgentProfile.objects.filter(user_id=user_id, shops__id=shop_id)).first()


def route_conversation(
    conversation: Conversation,
    first_text: str,
    *,
    clock: Clock = system_clock,
    group_code: str = "",
) -> Conversation:
    """Assign a new conversation or put it in its group's queue. `group_code` is
    the group the bot's intent chose; the shop's explicit rules still win."""
    customer = conversation.customer
    shop = conversation.shop
    for user_id, kind in (
        (customer.owner_id, "owner"),
        (queries.sticky_agent_id(customer.id, shop.sticky_hours, conversation.id, clock), "sticky"),
    ):
        profile = _lock_profile(user_id, shop.id)
        if _available(profile):
            assert profile is not None
            group = conversation.group or queries.group_of_agent(profile, shop.id)
            _assign(conversation, profile, group, reason=kind, clock=clock)
            return conversation
    group = choose_group(
        shop,
        first_text,
        tier=customer.tier,
        channel=conversation.channel,
        group_code=group_code,
        customer_id=customer.id,
    )
    conversation.group = group
    profile = _pick_agent(group)
    if profile is not None:
        _assign(conversation, profile, group, reason="rule", clock=clock)
    else:
        _enqueue(conversation, group, clock=clock)
    return conversation


def _pick_agent(group: SkillGroup, *, exclude_user_id: int | None = None) -> AgentProfile | None:
    """The online agent of the group with the most free capacity; among equals
    the one who waited longest since their last assignment."""
    candidates = AgentProfile.objects.filter(
        skill_groups=group,
        status=AgentStatus.ONLINE,
        active_count__lt=F("max_concurrent"),
    )
    if exclude_user_id:
        candidates = candidates.exclude(user_id=exclude_user_id)
    candidates = _locked(
        candidates.order_by(
            (F("active_count") - F("max_concurrent")).asc(),
            F("last_assigned_at").asc(nulls_first=True),
            "id",
        )
    )
    return candidates.first()


def _assign(
    conversation: Conversation,
    profile: AgentProfile,
    group: SkillGroup | None,
    *,
    reason: str,
    clock: Clock,
    actor=None,
    note: str = "",
    kind: str = EventKind.ASSIGNED,
) -> None:
    now = clock.now()
    previous_agent_id = conversation.agent_id
    conversation.agent = profile.user
    conversation.group = group
    conversation.status = Status.OPEN
    conversation.assigned_at = now
    conversation.save(update_fields=["agent", "group", "status", "assigned_at"])
    AgentProfile.objects.filter(pk=profile.pk).update(
        active_count=F("active_count") + 1, last_assigned_at=now
    )
    profile.active_count += 1
    profile.last_assigned_at = now
    was_queued = QueueEntry.objects.filter(conversation=conversation).delete()[0] > 0
    ConversationEvent.objects.create(
        conversation=conversation,
        kind=kind,
        actor=actor,
        agent=profile.user,
        group=group,
        note=note,
        data={"reason": reason, "from_agent_id": previous_agent_id},
        at=now,
    )
    summary = conversation_summary(conversation)
    if actor is not None and (note or kind == EventKind.TRANSFERRED):
        # The receiving agent sees who handed it over and why.
        actor_profile = getattr(actor, "agent_profile", None)
        summary["transfer"] = {
            "note": note,
            "by_name": actor_profile.display_name if actor_profile else actor.get_username(),
        }
    publish_on_commit(ConversationChanged(groups=(agent_group(profile.user_id),), summary=summary))
    publish_on_commit(
        ConversationChanged(
            groups=(conversation_group(conversation.id),), summary=conversation_public(conversation)
        )
    )
    if was_queued:
        _publish_queue(conversation.shop_id)
    account_actions.publish_agent_load(profile.user_id)


def _enqueue(conversation: Conversation, group: SkillGroup, *, clock: Clock, actor=None) -> None:
    now = clock.now()
    conversation.group = group
    conversation.agent = None
    conversation.status = Status.QUEUED
    conversation.queued_at = now
    conversation.save(update_fields=["group", "agent", "status", "queued_at"])
    QueueEntry.objects.update_or_create(
        conversation=conversation,
        defaults={
            "shop_id": conversation.shop_id,
            "group": group,
            "vip": conversation.customer.tier == Tier.VIP,
            "enqueued_at": now,
        },
    )
    ConversationEvent.objects.create(
        conversation=conversation, kind=EventKind.QUEUED, actor=actor, group=group, at=now
    )
    _publish_queue(conversation.shop_id)


def _publish_queue(shop_id: int) -> None:
    publish_on_commit(
        QueueChanged(
            groups=(supervisors_group(shop_id),),
            shop_id=shop_id,
            queue=queries.queue_snapshot(shop_id),
        )
    )


def release_conversation(conversation: Conversation, *, clock: Clock = system_clock) -> None:
    """Free the agent's capacity (on close); drop any queue place."""
    if conversation.agent_id:
        AgentProfile.objects.filter(user_id=conversation.agent_id, active_count__gt=0).update(
            active_count=F("active_count") - 1
        )
        account_actions.publish_agent_load(conversation.agent_id)
    if QueueEntry.objects.filter(conversation=conversation).delete()[0]:
        _publish_queue(conversation.shop_id)


def fill_agent_capacity(user_id: int, *, clock: Clock = system_clock) -> int:
    """Give an agent who has room the waiting conversations of their groups,
    VIP first, then oldest. Returns how many were assigned."""
    assigned = 0
    with transaction.atomic():
        profile = _locked(AgentProfile.objects.filter(user_id=user_id)).first()
        if profile is None:
            return 0
        group_ids = list(profile.skill_groups.values_list("id", flat=True))
        shop_ids = list(profile.shops.values_list("id", flat=True))
        while _available(profile):
            # skip_locked: two agents freeing up at once take different entries.
            entry = _locked(
                QueueEntry.objects.filter(group_id__in=group_ids, shop_id__in=shop_ids)
                .select_related("conversation__customer", "conversation__shop", "group")
                .order_by("-vip", "enqueued_at", "id"),
                skip_locked=True,
            ).first()
            if entry is None:
                break
            _assign(entry.conversation, profile, entry.group, reason="queue", clock=clock)
            assigned += 1
    return assigned


def drain_queues(*, clock: Clock = system_clock) -> int:
    """Sweep: assign every waiting conversation that has an agent with room.
    Idempotent; a safety net behind the event-driven assignment."""
    assigned = 0
    for user_id in queries.agents_with_room_for_waiting():
        assigned += fill_agent_capacity(user_id, clock=clock)
    return assigned


def transfer_conversation(
    actor,
    conversation_id: int,
    *,
    to_agent_id: int | None = None,
    to_group_code: str | None = None,
    note: str = "",
    clock: Clock = system_clock,
) -> Conversation:
    """Hand a conversation to another agent or group, with a note for them.
    The assigned agent may transfer; a supervisor of the shop may reassign any."""
    if bool(to_agent_id) == bool(to_group_code):
        raise ActionError(_("Choose either an agent or a group to transfer to."))
    if len(note) > 1000:
        raise ActionError(_("The transfer note is too long (at most 1000 characters)."))
    with transaction.atomic():
        conversation = accounts_queries.conversation_for(actor, conversation_id, for_update=True)
        supervisor = accounts_queries.supervises(actor, conversation.shop_id)
        if conversation.agent_id != actor.id and not supervisor:
            raise PermissionDenied(_("Only the assigned agent or a supervisor can transfer it."))
        if conversation.status == Status.CLOSED:
            raise ActionError(_("This conversation is closed."), code="closed")
        previous_agent_id = conversation.agent_id
        if to_agent_id:
            target = _lock_profile(to_agent_id, conversation.shop_id)
            if target is None:
                raise NotFound(_("No such agent in this shop."))
            if target.user_id == previous_agent_id:
                raise ActionError(_("The conversation is already with this agent."))
            if target.status == AgentStatus.OFFLINE:
                raise ActionError(_("This agent is offline."), code="agent_offline")
            release_conversation(conversation, clock=clock)
            group = conversation.group or queries.group_of_agent(target, conversation.shop_id)
            _assign(
                conversation,
                target,
                group,
                reason="transfer",
                clock=clock,
                actor=actor,
                note=note,
                kind=EventKind.TRANSFERRED,
            )
        else:
            group = SkillGroup.objects.filter(
                shop_id=conversation.shop_id, code=to_group_code
            ).first()
            if group is None:
                raise NotFound(_("No such group in this shop."))
            release_conversation(conversation, clock=clock)
            ConversationEvent.objects.create(
                conversation=conversation,
                kind=EventKind.TRANSFERRED,
                actor=actor,
                group=group,
                note=note,
                data={"from_agent_id": previous_agent_id},
                at=clock.now(),
            )
            conversation.agent = None
            profile = _pick_agent(group, exclude_user_id=previous_agent_id)
            if profile is not None:
                _assign(
                    conversation,
                    profile,
                    group,
                    reason="transfer",
                    clock=clock,
                    actor=actor,
                    note=note,
                )
            else:
                _enqueue(conversation, group, clock=clock, actor=actor)
        if previous_agent_id and previous_agent_id != conversation.agent_id:
            publish_on_commit(
                ConversationChanged(
                    groups=(agent_group(previous_agent_id),),
                    summary=conversation_summary(conversation),
                )
            )
            fill_agent_capacity(previous_agent_id, clock=clock)
    return conversation
