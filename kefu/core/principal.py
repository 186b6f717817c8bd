"""Who is calling the API: a logged-in agent or an integrator's token. Both
answer the same questions, so endpoints need not care which."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.core.errors import NotFound, PermissionDenied


def api_token_of(request):
    token = getattr(request, "api_token", None)
    return token if getattr(request, "auth", None) is token and token is not None else None


def conversations_for(request):
    from kefu.accounts import queries
    from kefu.inbox.models import Conversation

    token = api_token_of(request)
    if token is not None:
        return Conversation.objects.filter(shop_id=token.shop_id)
    return queries.visible_conversations(request.user)


def conversation_or_404(request, conversation_id: int):
    conversation = (
        conversations_for(request)
        .select_related("shop", "customer", "group", "agent__agent_profile")
        .filter(id=conversation_id)
        .first()
    )
    if conversation is None:
        raise NotFound(_("Conversation not found."))
    return conversation


def shop_ids_for(request) -> list[int]:
    from kefu.accounts import queries

    token = api_token_of(request)
    if token is not None:
        return [token.shop_id]
    profile = queries.profile_of(request.user)
    return list(profile.shops.values_list("id", flat=True))


def require_user(request):
    if api_token_of(request) is not None or not request.user.is_authenticated:
        raise PermissionDenied(_("This operation needs an agent's login."))
    return request.user


def group_ids_for(request) -> list[int] | None:
    """Skill groups an agent may see; None means every group of their shops
    (supervisors and integrators)."""
    from kefu.accounts import queries

    if api_token_of(request) is not None:
        return None
    profile = queries.profile_of(request.user)
    if profile.is_supervisor:
        return None
    return list(profile.skill_groups.values_list("id", flat=True))
