from __future__ import annotations

from ninja import Router, Schema

from kefu.api import staff_auth
from kefu.core import principal
from kefu.inbox.serializers import iso

from . import queries

router = Router(auth=staff_auth)


class GroupQueueOut(Schema):
    shop_id: int
    code: str
    name: str
    waiting: int
    oldest_waiting_since: str | None


class WaitingOut(Schema):
    conversation_id: int
    shop_id: int
    group: str
    vip: bool
    customer_name: str
    enqueued_at: str
    preview: str


@router.get("", response=list[GroupQueueOut], summary="Queue length per skill group")
def list_queues(request):
    rows = []
    group_ids = principal.group_ids_for(request)
    for shop_id in principal.shop_ids_for(request):
        rows += [{"shop_id": shop_id, **row} for row in queries.queue_snapshot(shop_id, group_ids)]
    return rows


@router.get("/waiting", response=list[WaitingOut], summary="Waiting conversations, in order")
def waiting(request):
    return [
        {
            "conversation_id": e.conversation_id,
            "shop_id": e.shop_id,
            "group": e.group.code,
            "vip": e.vip,
            "customer_name": e.conversation.customer.name,
            "enqueued_at": iso(e.enqueued_at),
            "preview": e.conversation.last_message_preview,
        }
        for e in queries.waiting_entries(
            principal.shop_ids_for(request), principal.group_ids_for(request)
        )
    ]
