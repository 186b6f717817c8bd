from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router, Schema

from kefu.api import staff_auth
from kefu.core import principal
from kefu.core.errors import NotFound

from . import queries
from .models import Customer

router = Router(auth=staff_auth)


class CustomerOut(Schema):
    id: int
    shop_id: int
    name: str
    tier: str
    owner_id: int | None
    tags: list
    notes: str
    created_at: str


class CustomerProfileOut(CustomerOut):
    identities: list[dict]
    conversations: list[dict]


class ErrorOut(Schema):
    code: str
    detail: object


def _visible(request):
    return Customer.objects.filter(shop_id__in=principal.shop_ids_for(request))


@router.get("", response=list[CustomerOut])
def list_customers(request, q: str = "", tier: str = "", limit: int = 50):
    queryset = _visible(request)
    if q:
        queryset = queryset.filter(name__icontains=q[:100])
    if tier:
        queryset = queryset.filter(tier=tier)
    rows = queryset.order_by("-id")[: max(1, min(limit, 500))]
    return [
        {
            "id": c.id,
            "shop_id": c.shop_id,
            "name": c.name,
            "tier": c.tier,
            "owner_id": c.owner_id,
            "tags": c.tags,
            "notes": c.notes,
            "created_at": c.created_at.isoformat(),
        }
        for c in rows
    ]


@router.get("/{int:customer_id}", response={200: CustomerProfileOut, 404: ErrorOut})
def get_customer(request, customer_id: int):
    customer = _visible(request).filter(id=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    return queries.customer_profile(customer)
