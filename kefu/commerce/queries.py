"""Reading orders for the workbench: whose order it is (the identity rule),
the customer's orders, one order's timeline, risk flags and dispute rates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from kefu.compliance import identity
from kefu.compliance.identity import BuyerIdentity
from kefu.core.clock import Clock, system_clock
from kefu.core.errors import NotFound
from kefu.customers.models import CustomerIdentity, IdentityKind

from .models import (
    CASE_STEPS,
    AfterSalesCase,
    ApprovalState,
    CaseState,
    CommerceSettings,
    Compensation,
    Order,
    OrderChange,
    OrderStatus,
    Product,
    RiskEntry,
    RiskKind,
)

NOT_SHIPPED = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID)
PAID_STATES = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
)
SERIAL_RETURNER_DAYS = 90
DISPUTE_DAYS = 30


DEFAULT_SHIP_WITHIN_HOURS = 72


def settings_of(shop_id: int) -> CommerceSettings:
    """The shop's settings, or the defaults (unsaved) when it has none yet:
    reading never writes."""
    found = CommerceSettings.objects.filter(shop_id=shop_id).first()
    return found if found is not None else CommerceSettings(shop_id=shop_id)


def ship_within_hours(shop_ids: Iterable[int]) -> dict[int, int]:
    """The promised shipping time per shop: the compliance settings' one value,
    which the guard reads too."""
    from kefu.compliance.models import ComplianceSettings

    ids = list(shop_ids)
    hours = dict(
        ComplianceSettings.objects.filter(shop_id__in=ids).values_list(
            "shop_id", "ship_within_hours"
        )
    )
    return {shop_id: hours.get(shop_id, DEFAULT_SHIP_WITHIN_HOURS) for shop_id in ids}


def marketplace_accounts(customer_id: int) -> list[str]:
    return list(
        CustomerIdentity.objects.filter(
            customer_id=customer_id, kind=IdentityKind.MARKETPLACE
        ).values_list("value", flat=True)
    )


def requester_of(conversation, order: Order | None = None) -> BuyerIdentity | None:
    """Who asks, in a conversation: the customer's marketplace account (the one
    that placed `order` when the customer record holds it), else the first
    identity the customer has (a web visitor …), else nobody."""
    identities = list(
        CustomerIdentity.objects.filter(customer_id=conversation.customer_id).order_by("id")
    )
    if not identities:
        return None
    accounts = [i for i in identities if i.kind == IdentityKind.MARKETPLACE]
    chosen = next(
        (i for i in accounts if order is not None and i.value == order.buyer_account),
        accounts[0] if accounts else identities[0],
    )
    return identity.as_identity(chosen)


def buyer_of(order: Order) -> BuyerIdentity:
    return BuyerIdentity(order.shop_id, identity.MARKETPLACE, order.buyer_account)


def customer_orders(conversation) -> QuerySet[Order]:
    """The conversation customer's orders: linked to the customer, or placed by
    one of the customer's marketplace accounts; newest first."""
    accounts = marketplace_accounts(conversation.customer_id)
    return (
        Order.objects.filter(shop_id=conversation.shop_id)
        .filter(Q(customer_id=conversation.customer_id) | Q(buyer_account__in=accounts))
        .order_by("-ordered_at", "-id")
    )


def order_in_shop(shop_id: int, *, order_id: int | None = None, number: str = "") -> Order:
    queryset = Order.objects.filter(shop_id=shop_id)
    order = (
        queryset.filter(id=order_id).first()
        if order_id is not None
        else queryset.filter(external_id=number.strip()).first()
    )
    if order is None:
        raise NotFound(_("Order not found."))
    return order


@dataclass(frozen=True)
class RiskFlag:
    kind: str
    source: str  # "list" (the shop's own) or "rule"
    note: str = ""

    @property
    def label(self) -> str:
        return str(RiskKind(self.kind).label)


def risk_flags(order: Order, *, clock: Clock = system_clock) -> list[RiskFlag]:
    """The shop's list entries for the buyer, then what the rules find: a very
    large order, an often-changed order, a buyer with many recent cases."""
    settings = settings_of(order.shop_id)
    flags = [
        RiskFlag(kind, "list", note)
        for kind, note in RiskEntry.objects.filter(
            shop_id=order.shop_id, buyer_account=order.buyer_account
        ).values_list("kind", "note")
    ]
    listed = {flag.kind for flag in flags}

    def add(kind: str, note: str) -> None:
        if kind not in listed:
            flags.append(RiskFlag(kind, "rule", note))

    if order.total >= settings.large_order_amount > 0:
        add(RiskKind.LARGE_ORDER, f"≥ {settings.large_order_amount}")
    if order.change_count >= settings.often_changed_count > 0:
        add(RiskKind.OFTEN_CHANGED, str(order.change_count))
    since = clock.now() - dt.timedelta(days=SERIAL_RETURNER_DAYS)
    cases = AfterSalesCase.objects.filter(
        shop_id=order.shop_id, order__buyer_account=order.buyer_account, created_at__gte=since
    ).count()
    if cases >= settings.serial_returner_cases > 0:
        add(RiskKind.SERIAL_RETURNER, str(cases))
    return flags


def customer_has_risk(shop_id: int, customer_id: int) -> bool:
    """For routing: does any of the customer's marketplace accounts stand on the
    shop's risk list?"""
    accounts = marketplace_accounts(customer_id)
    return (
        bool(accounts)
        and RiskEntry.objects.filter(shop_id=shop_id, buyer_account__in=accounts).exists()
    )


@dataclass(frozen=True)
class DisputeRate:
    disputes: int
    paid_orders: int

    @property
    def rate(self) -> Decimal:
        if not self.paid_orders:
            return Decimal("0")
        return (Decimal(self.disputes) / Decimal(self.paid_orders)).quantize(Decimal("0.0001"))

    @property
    def percent(self) -> str:
        """The rate in percent with two decimals, as the page shows it."""
        return f"{self.rate * 100:.2f}"


def dispute_rate(
    shop_id: int, *, product_id: int | None = None, clock: Clock = system_clock
) -> DisputeRate:
    """Cases the marketplace intervened in ÷ paid orders, both in the last 30
    days (for a product: its cases ÷ paid orders that contain it)."""
    since = clock.now() - dt.timedelta(days=DISPUTE_DAYS)
    cases = AfterSalesCase.objects.filter(
        shop_id=shop_id, platform_intervention=True, platform_intervention_at__gte=since
    )
    orders = Order.objects.filter(shop_id=shop_id, paid_at__gte=since, paid_at__isnull=False)
    if product_id is not None:
        cases = cases.filter(items__order_item__product_id=product_id)
        orders = orders.filter(items__product_id=product_id)
    return DisputeRate(cases.distinct().count(), orders.distinct().count())


WAITING_LIMIT = 100  # rows per list on the after-sales page


def after_sales_board(shop) -> dict[str, Any]:
    """What the supervisors' after-sales page shows for one shop: cases by step,
    the open ones, what waits for approval (price changes, concessions, cases),
    and the dispute rate of the shop and of its disputed products."""
    counts = dict(
        AfterSalesCase.objects.filter(shop=shop)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    pending = ApprovalState.PENDING
    disputed_products = (
        Product.objects.filter(shop=shop, orderitem__order__cases__platform_intervention=True)
        .distinct()
        .order_by("name")[:20]
    )
    board: dict[str, Any] = {
        "steps": [(state, label, counts.get(state, 0)) for state, label in CaseState.choices],
        "open_cases": AfterSalesCase.objects.filter(shop=shop, state__in=CASE_STEPS[:-2])
        .select_related("order")
        .order_by("created_at")[:WAITING_LIMIT],
        "changes": OrderChange.objects.filter(order__shop=shop, approval=pending)
        .select_related("order", "requested_by__agent_profile")
        .order_by("created_at")[:WAITING_LIMIT],
        "concessions": Compensation.objects.filter(shop=shop, approval=pending)
        .select_related("order", "requested_by__agent_profile")
        .order_by("created_at")[:WAITING_LIMIT],
        "case_approvals": AfterSalesCase.objects.filter(shop=shop, approval=pending)
        .select_related("order")
        .order_by("created_at")[:WAITING_LIMIT],
        "dispute": dispute_rate(shop.id),
        "product_disputes": [
            (product, dispute_rate(shop.id, product_id=product.id)) for product in disputed_products
        ],
    }
    board["waiting"] = sum(
        len(board[name]) for name in ("changes", "concessions", "case_approvals")
    )
    return board
