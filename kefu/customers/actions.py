"""Creating and finding customers by their channel identities."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from . import queries
from .models import Customer, CustomerIdentity, IdentityKind


def customer_for_identity(shop, kind: str, value: str, *, name: str = "") -> Customer:
    """The customer behind an identity, created on first contact."""
    customer = queries.find_customer(shop.id, kind, value)
    if customer:
        return customer
    try:
        with transaction.atomic():
            default_name = _("Visitor %(code)s") % {"code": value[-4:].upper()}
            customer = Customer.objects.create(shop=shop, name=name or default_name)
            CustomerIdentity.objects.create(shop=shop, customer=customer, kind=kind, value=value)
            return customer
    except IntegrityError:
        # Another process created it between our read and write.
        return CustomerIdentity.objects.get(shop=shop, kind=kind, value=value).customer


def visitor_customer(shop, visitor_id: str, *, name: str = "") -> Customer:
    return customer_for_identity(shop, IdentityKind.VISITOR, visitor_id, name=name)
