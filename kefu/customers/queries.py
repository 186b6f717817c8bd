"""Finding customers, and the staff's view of one: a buyer's phone numbers,
addresses and ID numbers masked (revealed through
`compliance.audit.reveal_customer_identity`, which writes the audit row)."""

from __future__ import annotations

from collections.abc import Iterable

from kefu.compliance import privacy
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


def identity_in_shops(identity_id: int, shop_ids: Iterable[int]) -> CustomerIdentity | None:
    return CustomerIdentity.objects.filter(id=identity_id, shop_id__in=list(shop_ids)).first()


def masked_identity(identity: CustomerIdentity) -> dict:
    """An identity as staff see it; `masked` tells the UI it can ask for a reveal."""
    if identity.kind == IdentityKind.PHONE:
        value = privacy.mask(identity.value, privacy.PHONE)
    else:  # an account name or visitor id can hold a phone number too
        value = privacy.mask_text(identity.value)
    return {
        "id": identity.id,
        "kind": identity.kind,
        "value": value,
        "masked": value != identity.value,
    }


def staff_customer(customer: Customer) -> dict:
    """A customer as staff see it in lists: buyer data in the name and notes masked."""
    return {
        "id": customer.id,
        "shop_id": customer.shop_id,
        "name": privacy.mask_text(customer.name),
        "tier": customer.tier,
        "owner_id": customer.owner_id,
        "tags": customer.tags,
        "notes": privacy.mask_text(customer.notes),
        "created_at": customer.created_at.isoformat(),
    }


def customer_profile(customer: Customer, *, history: int = 20) -> dict:
    """Profile for the workbench side panel, with earlier conversations."""
    conversations = (
        Conversation.objects.filter(customer=customer)
        .select_related("agent__agent_profile")
        .order_by("-id")[:history]
    )
    return {
        **staff_customer(customer),
        "created_at": iso(customer.created_at),
        "identities": [masked_identity(i) for i in customer.identities.all().order_by("id")],
        "conversations": [
            {
                "id": c.id,
                "status": c.status,
                "channel": c.channel,
                "agent_name": agent_name(c),
                "created_at": iso(c.created_at),
                "closed_at": iso(c.closed_at),
                "last_message_preview": privacy.mask_text(c.last_message_preview),
            }
            for c in conversations
        ],
    }
