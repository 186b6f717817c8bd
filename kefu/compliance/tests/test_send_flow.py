"""Every outgoing message passes the guard before it is stored: blocked sends
store nothing but the finding; warnings go out and are recorded; a
supervisor's override sends the exact message, audited."""

from __future__ import annotations

import pytest

from kefu.compliance import actions, reports
from kefu.compliance.models import Action, AuditLog, OverrideRequest, Violation
from kefu.core.errors import ActionError, NotFound
from kefu.inbox import actions as inbox_actions
from kefu.inbox.actions import IngestRequest
from kefu.inbox.models import Message
from kefu.tests import factories as f

from .helpers import install_rules

pytestmark = [pytest.mark.django_db, pytest.mark.backend]


@pytest.fixture
def setup(clock):
    shop = f.make_shop()
    install_rules(shop)
    agent = f.make_agent(shop, name="小王")
    conversation = f.open_conversation(shop, f.make_customer(shop), "在吗", clock=clock)
    inbox_actions.Conversation.objects.filter(id=conversation.id).update(agent=agent)
    supervisor = f.make_agent(shop, role="supervisor", status="offline", name="李主管")
    return shop, agent, conversation, supervisor


def agent_says(conversation, agent, client_id, text):
    return IngestRequest(
        conversation.id, "agent", client_id, text, sender_id=agent.id, sender_name="小王"
    )


def test_blocked_send_stores_nothing_but_the_finding(setup, clock):
    _shop, agent, conversation, _sup = setup
    before = Message.objects.count()
    result = inbox_actions.ingest_message(
        agent_says(conversation, agent, "k1", "加我微信聊"), clock
    )
    assert result.error is not None and result.error.code == "blocked"
    assert result.error.findings[0]["rule"] == "wechat"
    assert result.error.findings[0]["span"] == [0, 4]
    assert Message.objects.count() == before
    # A retry of the same send records the finding once.
    inbox_actions.ingest_message(agent_says(conversation, agent, "k1", "加我微信聊"), clock)
    [violation] = Violation.objects.all()
    assert (violation.action, violation.rule_code, violation.points) == ("blocked", "wechat", 12)
    assert violation.agent_id == agent.id and violation.message_seq is None


def test_warnings_are_sent_and_recorded_with_the_message(setup, clock):
    _shop, agent, conversation, _sup = setup
    result = inbox_actions.ingest_message(
        agent_says(conversation, agent, "k2", "这不是我的责任，但我帮您问问"), clock
    )
    assert result.error is None and result.message["text"].startswith("这不是我的责任")
    [violation] = Violation.objects.all()
    assert (violation.action, violation.severity) == ("sent", "warn")
    assert violation.message_seq == result.message["seq"]
    assert violation.excerpt == "这不是我的责任"


def test_customer_messages_are_not_screened(setup, clock):
    _shop, _agent, conversation, _sup = setup
    result = inbox_actions.ingest_message(
        IngestRequest(conversation.id, "customer", "c9", "加我微信可以吗"), clock
    )
    assert result.error is None and not Violation.objects.exists()


def test_override_sends_the_exact_message_and_audits(setup, clock):
    shop, agent, conversation, supervisor = setup
    request = actions.request_override(
        agent, conversation.id, client_id="k3", text="加我微信发您发票", reason="买家要求"
    )
    assert request.status == "pending" and request.findings[0]["rule"] == "wechat"
    assert reports.overrides_for(supervisor, status="pending").get() == request
    with pytest.raises(ActionError):  # a reason is required
        actions.decide_override(supervisor, request.id, allow=True, reason=" ")
    with pytest.raises(NotFound):  # an agent cannot decide
        actions.decide_override(agent, request.id, allow=True, reason="我自己同意")
    decided = actions.decide_override(
        supervisor, request.id, allow=True, reason="已核实，特批", clock=clock
    )
    message = Message.objects.get(conversation=conversation, client_id="k3")
    assert (message.sender_type, message.sender_id, message.text) == (
        "agent",
        agent.id,
        "加我微信发您发票",
    )
    assert decided.message_seq == message.seq
    violation = Violation.objects.get(action=Action.OVERRIDDEN)
    assert violation.points == 12 and violation.message_seq == message.seq
    entry = AuditLog.objects.get(action="override")
    assert (entry.actor_id, entry.reason, entry.shop_id) == (supervisor.id, "已核实，特批", shop.id)
    with pytest.raises(ActionError):
        actions.decide_override(supervisor, request.id, allow=False, reason="再来一次")


def test_refused_override_sends_nothing(setup, clock):
    _shop, agent, conversation, supervisor = setup
    request = actions.request_override(agent, conversation.id, client_id="k4", text="加vx吧")
    actions.decide_override(supervisor, request.id, allow=False, reason="不允许站外")
    assert not Message.objects.filter(client_id="k4").exists()
    assert OverrideRequest.objects.get().status == "refused"
    assert AuditLog.objects.filter(action="refuse_override").count() == 1


def test_only_blocked_messages_can_be_sent_for_override(setup):
    _shop, agent, conversation, _sup = setup
    with pytest.raises(ActionError) as error:
        actions.request_override(agent, conversation.id, client_id="k5", text="您好")
    assert error.value.code == "not_blocked"


def test_the_monthly_report_counts_points(setup, clock):
    shop, agent, conversation, supervisor = setup
    inbox_actions.ingest_message(agent_says(conversation, agent, "b1", "加我微信"), clock)
    request = actions.request_override(agent, conversation.id, client_id="b2", text="加我vx")
    actions.decide_override(supervisor, request.id, allow=True, reason="特殊情况", clock=clock)
    month = clock.now().date()
    summary = reports.month_summary(shop.id, month)
    [line] = summary["rules"]
    assert (line.label, line.points_avoided, line.points_incurred) == ("站外交易", 12, 12)
    assert line.counts["blocked"] == 1 and line.counts["overridden"] == 1
    [agent_line] = summary["agents"]
    assert agent_line.label == "小王"
    [row] = reports.monthly_points(shop.id)
    assert (row["avoided"], row["incurred"]) == (12, 12)


def test_rule_edits_take_effect_and_bad_rules_are_refused(setup, clock):
    shop, agent, conversation, supervisor = setup
    with pytest.raises(actions.RuleInvalid) as error:
        actions.save_rule(
            supervisor,
            shop,
            {
                "code": "bad",
                "family": "custom",
                "kind": "regex",
                "severity": "block",
                "title": "x",
                "explanation": "x",
                "patterns": r"(a)\1",
            },
        )
    assert "expression 1" in str(error.value.message)
    rule, changed = actions.save_rule(
        supervisor,
        shop,
        {
            "code": "rival",
            "family": "custom",
            "kind": "phrases",
            "severity": "block",
            "title": "竞品",
            "explanation": "不要提竞品店铺",
            "phrases": "隔壁店",
            "examples_match": "去隔壁店看看",
            "examples_pass": "隔壁的邻居",
        },
    )
    assert changed and AuditLog.objects.filter(action="rule").count() == 1
    result = inbox_actions.ingest_message(
        agent_says(conversation, agent, "r1", "您去隔壁店买吧"), clock
    )
    assert result.error is not None and result.error.code == "blocked"
    _rule, changed = actions.save_rule(supervisor, shop, {"enabled": False}, rule_id=rule.id)
    assert changed
    result = inbox_actions.ingest_message(
        agent_says(conversation, agent, "r2", "您去隔壁店买吧"), clock
    )
    assert result.error is None
