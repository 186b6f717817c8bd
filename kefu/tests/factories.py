"""Builders for test rows; state with a history is built by calling real actions."""

from __future__ import annotations

import itertools

from kefu.accounts import actions as account_actions
from kefu.accounts.models import Platform, Shop
from kefu.customers.models import Customer, CustomerIdentity, IdentityKind
from kefu.routing.models import GroupCode, RoutingRule, SkillGroup

_counter = itertools.count(1)
PASSWORD = "test-pass-9c1!"


def make_shop(slug: str | None = None, **fields) -> Shop:
    n = next(_counter)
    shop = Shop.objects.create(
        slug=slug or f"shop{n}",
        name=fields.pop("name", f"店铺{n}"),
        platform=fields.pop("platform", Platform.TAOBAO),
        **fields,
    )
    for code in (GroupCode.PRE_SALES, GroupCode.AFTER_SALES, GroupCode.VIP, GroupCode.COMPLAINTS):
        SkillGroup.objects.create(shop=shop, code=code, name=str(code.label))
    return shop


def group(shop: Shop, code: str) -> SkillGroup:
    return SkillGroup.objects.get(shop=shop, code=code)


def make_agent(
    shop: Shop,
    *codes: str,
    status: str = "online",
    capacity: int = 3,
    role: str = "agent",
    name: str | None = None,
    clock=None,
):
    n = next(_counter)
    profile = account_actions.create_agent(
        username=f"agent{n}",
        password=PASSWORD,
        display_name=name or f"客服{n}",
        shops=[shop],
        groups=[group(shop, c) for c in (codes or (GroupCode.PRE_SALES,))],
        role=role,
        max_concurrent=capacity,
    )
    if status != "offline":
        kwargs = {"clock": clock} if clock else {}
        account_actions.set_agent_status(profile.user, status, **kwargs)
    profile.refresh_from_db()
    return profile.user


def make_customer(shop: Shop, tier: str = "new", owner=None, name: str | None = None) -> Customer:
    n = next(_counter)
    customer = Customer.objects.create(shop=shop, name=name or f"买家{n}", tier=tier, owner=owner)
    CustomerIdentity.objects.create(
        shop=shop, customer=customer, kind=IdentityKind.MARKETPLACE, value=f"buyer{n}"
    )
    return customer


def make_rule(shop: Shop, code: str, keywords: str = "", **fields) -> RoutingRule:
    return RoutingRule.objects.create(
        shop=shop,
        name=fields.pop("name", code),
        keywords=keywords,
        group=group(shop, code),
        **fields,
    )


def open_conversation(shop, customer, text: str = "你好", clock=None, client_id: str | None = None):
    from kefu.core.clock import system_clock
    from kefu.inbox import actions

    conversation, _result = actions.open_conversation(
        shop=shop,
        customer=customer,
        first_text=text,
        client_id=client_id or f"c{next(_counter)}",
        clock=clock or system_clock,
    )
    conversation.refresh_from_db()
    return conversation
