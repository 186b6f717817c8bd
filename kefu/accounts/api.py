from __future__ import annotations

from ninja import Field, Router, Schema

from kefu.api import staff_auth
from kefu.core import principal
from kefu.routing import queries as routing_queries

from . import actions, queries

router = Router(auth=staff_auth)


class AgentOut(Schema):
    user_id: int
    name: str
    role: str
    level: str
    status: str
    active_count: int
    max_concurrent: int
    groups: list[str]


class MeOut(Schema):
    user_id: int
    username: str
    name: str
    role: str
    level: str
    status: str
    max_concurrent: int
    active_count: int
    shops: list[dict]
    groups: list[dict]
    supervised_shop_ids: list[int]


class StatusIn(Schema):
    status: str = Field(..., max_length=10)


class ErrorOut(Schema):
    code: str
    detail: object


@router.get("", response=list[AgentOut], summary="Agents with status and load")
def list_agents(request):
    return routing_queries.agent_board(principal.shop_ids_for(request))


@router.get("/me", response={200: MeOut, 403: ErrorOut})
def me(request):
    user = principal.require_user(request)
    profile = queries.profile_of(user)
    return {
        "user_id": user.id,
        "username": user.get_username(),
        "name": profile.display_name,
        "role": profile.role,
        "level": profile.level,
        "status": profile.status,
        "max_concurrent": profile.max_concurrent,
        "active_count": profile.active_count,
        "shops": [
            {
                "id": s.id,
                "name": s.name,
                "slug": s.slug,
                "first_reply_target_seconds": s.first_reply_target_seconds,
                "reply_alert_seconds": s.reply_alert_seconds,
                "holding_text": s.holding_text,
                "max_message_chars": s.max_message_chars,
                # Every group of the shop is a transfer target, not only mine.
                "groups": [{"code": g.code, "name": g.name} for g in s.groups.all().order_by("id")],
            }
            for s in profile.shops.all().order_by("id")
        ],
        "groups": [
            {"id": g.id, "code": g.code, "name": g.name, "shop_id": g.shop_id}
            for g in profile.skill_groups.all().order_by("id")
        ],
        "supervised_shop_ids": sorted(queries.supervised_shop_ids(user)),
    }


@router.post("/me/status", response={200: AgentOut, 400: ErrorOut, 403: ErrorOut})
def set_status(request, payload: StatusIn):
    user = principal.require_user(request)
    actions.set_agent_status(user, payload.status)
    board = routing_queries.agent_board([s.id for s in queries.profile_of(user).shops.all()])
    return next(row for row in board if row["user_id"] == user.id)
