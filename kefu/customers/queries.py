from __future__ import annotations

from kefu.inbox.models import Conversation
from kefu.inbox.serializers import agent_name, iso

from .models import Customer, CustomerIdentity, IdentityKind


def find_customer(shop_id: int, kind: str, value: str) -> Customer | None:
    identity = (
        CustomerIdentity.objects.select_related("customer")
        .filter(shop_id=shop_id, kind=kind, value=value)
        .first()
    )
    return identity.customer if identity else None


def find_visitor_customer(shop_id: int, visitor_id: str) -> Customer | None:
    return find_customer(shop_id, IdentityKind.VISITOR, visitor_id)


def customer_profile(customer: Customer, *, history: int = 20) -> dict:
    """Profile for the workbench side panel, with earlier conversations."""
    conversations = (
        Conversation.objects.filter(customer=customer)
        .select_related("agent__agent_profile")
        .order_by("-id")[:history]
    )
    return {
        "id": customer.id,
        "shop_id": customer.shop_id,
        "name": customer.name,
        "tier": customer.tier,
        "owner_id": customer.owner_id,
        "tags": customer.tags,
        "notes": customer.notes,
        "created_at": iso(customer.created_at),
        "identities": [
            {"kind": i.kind, "value": i.value} for i in customer.identities.all().order_by("id")
        ],
        "conversations": [
            {
                "id": c.id,
                "status": c.status,
                "channel": c.channel,
                "agent_name": agent_name(c),
                "created_at": iso(c.created_at),
                "closed_at": iso(c.closed_at),
                "last_message_preview": c.last_message_preview,
            }
            for c in conversations
        ],
    }
