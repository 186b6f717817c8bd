"""Who may see what: least privilege per shop and skill group."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.core.errors import NotFound, PermissionDenied

from .models import AgentProfile, Role, Shop


def profile_of(user) -> AgentProfile:
    profile = getattr(user, "agent_profile", None) if user and user.is_authenticated else None
    if profile is None:
        raise PermissionDenied(_("This account has no agent profile."))
    return profile


def supervised_shop_ids(user) -> frozenset[int]:
    profile = getattr(user, "agent_profile", None)
    if profile is None or profile.role not in (Role.SUPERVISOR, Role.ADMIN):
        return frozenset()
    return frozenset(profile.shops.values_list("id", flat=True))


def supervises(user, shop_id: int) -> bool:
    return shop_id in supervised_shop_ids(user)


def visible_shops(user) -> QuerySet[Shop]:
    return Shop.objects.filter(agents__user=user)


def visible_conversations(user) -> QuerySet:
    """Agents: their own conversations and those of their groups in their shops;
    supervisors: everything in their shops."""
    from kefu.inbox.models import Conversation

    profile = profile_of(user)
    shop_ids = list(profile.shops.values_list("id", flat=True))
    if profile.is_supervisor:
        return Conversation.objects.filter(shop_id__in=shop_ids)
    group_ids = list(profile.skill_groups.values_list("id", flat=True))
    return Conversation.objects.filter(
        Q(agent_id=user.id) | Q(shop_id__in=shop_ids, group_id__in=group_ids)
    )


def conversation_for(user, conversation_id: int, *, for_update: bool = False):
    """The conversation if this user may see it; otherwise NotFound, never a hint."""
    queryset = visible_conversations(user).select_related(
        "shop", "customer", "group", "agent__agent_profile"
    )
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    conversation = queryset.filter(id=conversation_id).first()
    if conversation is None:
        raise NotFound(_("Conversation not found."))
    return conversation
