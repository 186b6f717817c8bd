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


class IdentityOut(Schema):
    """A phone number arrives masked (138****5678); `masked` says a reveal
    (POST /api/v1/compliance/reveal with the id and a reason) would show more."""

    id: int
    kind: str
    value: str
    masked: bool


class CustomerProfileOut(CustomerOut):
    identities: list[IdentityOut]
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
    return [queries.staff_customer(c) for c in rows]


@router.get("/{int:customer_id}", response={200: CustomerProfileOut, 404: ErrorOut})
def get_customer(request, customer_id: int):
    customer = _visible(request).filter(id=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    return queries.customer_profile(customer)
