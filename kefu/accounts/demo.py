"""The demo shop that `kefu demo` (and `make run`) loads: idempotent, built
through the real actions so its history is like a real shop's."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction

from kefu.core.clock import FixedClock, system_clock
from kefu.customers.models import Customer, CustomerIdentity, IdentityKind, Tier
from kefu.routing.models import GroupCode, RoutingRule, SkillGroup

from . import actions
from .models import AgentLevel, Platform, Role, Shop

DEMO_PASSWORD = "kefu-demo-2026"
DEMO_SHOP = "demo"

GROUPS = [
    (GroupCode.PRE_SALES, "售前组"),
    (GroupCode.AFTER_SALES, "售后组"),
    (GroupCode.OUTBOUND, "呼叫组"),
    (GroupCode.RETURNS, "退换货专员"),
    (GroupCode.COMPLAINTS, "投诉升级组"),
    (GroupCode.VIP, "VIP 专席"),
]

# username, display name, role, level, groups, capacity
STAFF = [
    ("zhuguan", "李主管", Role.SUPERVISOR, AgentLevel.ADVANCED, [c for c, _ in GROUPS], 10),
    ("shouqian1", "小王", Role.AGENT, AgentLevel.JUNIOR, [GroupCode.PRE_SALES], 6),
    ("shouqian2", "小美", Role.AGENT, AgentLevel.SENIOR, [GroupCode.PRE_SALES], 8),
    (
        "shouhou1",
        "小刘",
        Role.AGENT,
        AgentLevel.SENIOR,
        [GroupCode.AFTER_SALES, GroupCode.RETURNS],
        8,
    ),
    ("hujiao1", "小陈", Role.AGENT, AgentLevel.JUNIOR, [GroupCode.OUTBOUND], 5),
    (
        "tousu1",
        "老张",
        Role.AGENT,
        AgentLevel.ADVANCED,
        [GroupCode.COMPLAINTS, GroupCode.AFTER_SALES],
        5,
    ),
    ("vip1", "小周", Role.AGENT, AgentLevel.ADVANCED, [GroupCode.VIP, GroupCode.PRE_SALES], 5),
    ("zhijian", "质检员孙", Role.QA_REVIEWER, AgentLevel.SENIOR, [], 1),
    ("peixun", "培训师赵", Role.TRAINER, AgentLevel.ADVANCED, [], 1),
]

RULES = [
    ("投诉与差评", "投诉,差评,12315,举报,骗子,complaint", GroupCode.COMPLAINTS, ""),
    ("退换货", "退货,换货,退款,七天无理由,return,refund,exchange", GroupCode.RETURNS, ""),
    ("售后与物流", "售后,坏了,质量,维修,破损,快递,物流,没收到,发货", GroupCode.AFTER_SALES, ""),
    ("VIP 客户", "", GroupCode.VIP, Tier.VIP),
]

CUSTOMERS = [
    ("张女士", Tier.VIP, "tb_zhang_vip", "vip1", ["高价值", "复购"]),
    ("李先生", Tier.REGULAR, "tb_li_2025", None, ["老客户"]),
    ("王同学", Tier.NEW, "tb_wang_new", None, []),
]

PAST = [
    (
        "tb_li_2025",
        "shouqian1",
        ["四件套有没有2米的床可以用的？", "有的亲，2.0m 款同价，今天下单48小时内发货。"],
    ),
    (
        "tb_zhang_vip",
        "vip1",
        [
            "上次买的凉被很好，想再买两条送人，可以帮我包装吗？",
            "张女士您好！可以的，我帮您备注礼品包装并附贺卡，感谢您一直以来的支持。",
        ],
    ),
]


def load_demo(stdout=None) -> Shop:
    with transaction.atomic():
        shop, created = Shop.objects.get_or_create(
            slug=DEMO_SHOP, defaults={"name": "暖居家纺旗舰店", "platform": Platform.TMALL}
        )
        groups = {}
        for code, name in GROUPS:
            groups[code], _ = SkillGroup.objects.get_or_create(
                shop=shop, code=code, defaults={"name": name}
            )
        for position, (name, keywords, code, tier) in enumerate(RULES):
            RoutingRule.objects.get_or_create(
                shop=shop,
                name=name,
                defaults={
                    "keywords": keywords,
                    "group": groups[code],
                    "tier": tier,
                    "position": (position + 1) * 10,
                },
            )
        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", password=DEMO_PASSWORD)
        for username, name, role, level, codes, capacity in STAFF:
            if not User.objects.filter(username=username).exists():
                actions.create_agent(
                    username=username,
                    password=DEMO_PASSWORD,
                    display_name=name,
                    shops=[shop],
                    groups=[groups[c] for c in codes],
                    role=role,
                    level=level,
                    max_concurrent=capacity,
                )
        for name, tier, buyer, owner, tags in CUSTOMERS:
            if not CustomerIdentity.objects.filter(shop=shop, value=buyer).exists():
                customer = Customer.objects.create(
                    shop=shop,
                    name=name,
                    tier=tier,
                    tags=tags,
                    owner=User.objects.filter(username=owner).first() if owner else None,
                )
                CustomerIdentity.objects.create(
                    shop=shop, customer=customer, kind=IdentityKind.MARKETPLACE, value=buyer
                )
        if created:
            _past_conversations(shop)
    return shop


def _past_conversations(shop: Shop) -> None:
    from kefu.inbox import actions as inbox_actions

    User = get_user_model()
    clock = FixedClock(system_clock.now() - dt.timedelta(days=3))
    for buyer, username, (question, answer) in PAST:
        customer = CustomerIdentity.objects.get(shop=shop, value=buyer).customer
        agent = User.objects.get(username=username)
        actions.set_agent_status(agent, "online", clock=clock)
        conversation, _ = inbox_actions.open_conversation(
            shop=shop,
            customer=customer,
            first_text=question,
            client_id=f"demo-{buyer}",
            clock=clock,
        )
        clock.advance(seconds=12)
        inbox_actions.ingest_message(
            inbox_actions.IngestRequest(
                conversation_id=conversation.id,
                sender_type="agent",
                client_id=f"demo-r-{buyer}",
                text=answer,
                sender_id=conversation.agent_id,
                sender_name=agent.agent_profile.display_name,
            ),
            clock,
        )
        clock.advance(minutes=3)
        assert conversation.agent is not None
        inbox_actions.close_conversation(conversation.agent, conversation.id, clock=clock)
        actions.set_agent_status(agent, "offline", clock=clock)
