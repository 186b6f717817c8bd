import datetime as dt

import pytest

from kefu.accounts import actions as account_actions
from kefu.accounts.models import AgentProfile
from kefu.core.errors import ActionError, NotFound, PermissionDenied
from kefu.inbox import actions as inbox_actions
from kefu.inbox.models import Conversation, ConversationEvent
from kefu.realtime.publish import collecting
from kefu.routing import actions, tasks
from kefu.routing.models import QueueEntry
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db


def load(user):
    return AgentProfile.objects.get(user=user).active_count


def test_most_free_capacity_wins_and_busy_agents_are_skipped(clock):
    shop = f.make_shop()
    busy = f.make_agent(shop, status="busy", capacity=10)
    small = f.make_agent(shop, capacity=2)
    big = f.make_agent(shop, capacity=5)
    first = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    second = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    assert first.agent_id == big.id
    assert second.agent_id == big.id  # 4 free vs 2 free
    third = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    assert third.agent_id == big.id  # 3 free vs 2 free
    fourth = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    assert fourth.agent_id in (big.id, small.id) and load(busy) == 0
    assert load(big) + load(small) == 4


def test_queue_when_full_then_vip_first_then_oldest(clock):
    shop = f.make_shop()
    agent = f.make_agent(shop, capacity=1)
    served = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    assert served.agent_id == agent.id
    clock.advance(seconds=1)
    old_regular = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    clock.advance(seconds=1)
    new_regular = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    clock.advance(seconds=1)
    vip = f.open_conversation(shop, f.make_customer(shop, tier="vip"), clock=clock)
    assert [c.status for c in (old_regular, new_regular, vip)] == ["queued"] * 3
    assert QueueEntry.objects.count() == 3

    inbox_actions.close_conversation(agent, served.id, clock=clock)
    assert Conversation.objects.get(id=vip.id).agent_id == agent.id
    inbox_actions.close_conversation(agent, vip.id, clock=clock)
    assert Conversation.objects.get(id=old_regular.id).agent_id == agent.id
    inbox_actions.close_conversation(agent, old_regular.id, clock=clock)
    assert Conversation.objects.get(id=new_regular.id).agent_id == agent.id
    assert QueueEntry.objects.count() == 0
    assert load(agent) == 1


def test_agent_coming_online_takes_the_queue(clock):
    shop = f.make_shop()
    waiting = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    assert waiting.status == "queued"
    agent = f.make_agent(shop, status="offline")
    assert Conversation.objects.get(id=waiting.id).status == "queued"
    account_actions.set_agent_status(agent, "online", clock=clock)
    conversation = Conversation.objects.get(id=waiting.id)
    assert (conversation.status, conversation.agent_id) == ("open", agent.id)
    wait = conversation.assigned_at - conversation.queued_at
    assert wait == dt.timedelta(0)  # fixed clock: queued and assigned at the same instant


def test_dedicated_owner_comes_first_when_available(clock):
    shop = f.make_shop()
    f.make_agent(shop, capacity=8)
    owner = f.make_agent(shop, "vip", capacity=1)
    customer = f.make_customer(shop, owner=owner)
    assert f.open_conversation(shop, customer, clock=clock).agent_id == owner.id
    # Owner full: falls through to the rules and the group.
    other = f.open_conversation(shop, f.make_customer(shop, owner=owner), clock=clock)
    assert other.agent_id != owner.id and other.group.code == "pre_sales"


def test_sticky_agent_within_window_only(clock):
    shop = f.make_shop(sticky_hours=24)
    first_agent = f.make_agent(shop, capacity=5)
    customer = f.make_customer(shop)
    first = f.open_conversation(shop, customer, clock=clock)
    assert first.agent_id == first_agent.id
    inbox_actions.close_conversation(first_agent, first.id, clock=clock)
    roomier = f.make_agent(shop, capacity=50)
    clock.advance(hours=23)
    again = f.open_conversation(shop, customer, clock=clock)
    assert again.agent_id == first_agent.id  # sticky beats the roomier agent
    assert ConversationEvent.objects.get(conversation=again, kind="assigned").data["reason"] == (
        "sticky"
    )
    inbox_actions.close_conversation(first_agent, again.id, clock=clock)
    clock.advance(hours=25)
    later = f.open_conversation(shop, customer, clock=clock)
    assert later.agent_id == roomier.id


def test_rules_choose_group_by_keyword_regex_and_tier(clock):
    shop = f.make_shop()
    f.make_rule(shop, "complaints", "投诉,差评", position=1)
    f.make_rule(shop, "after_sales", pattern=r"订单\s*\d{6,}", position=2)
    f.make_rule(shop, "vip", tier="vip", position=3)
    assert f.open_conversation(shop, f.make_customer(shop), "我要投诉你们").group.code == (
        "complaints"
    )
    assert f.open_conversation(
        shop, f.make_customer(shop), "订单 12345678 怎么还没到"
    ).group.code == ("after_sales")
    assert f.open_conversation(shop, f.make_customer(shop, tier="vip"), "在吗").group.code == "vip"
    assert f.open_conversation(shop, f.make_customer(shop), "在吗").group.code == "pre_sales"


def test_transfer_to_agent_and_to_group_with_note(clock):
    shop = f.make_shop()
    first = f.make_agent(shop, capacity=2)
    conversation = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    assert conversation.agent_id == first.id
    second = f.make_agent(shop, "after_sales", capacity=2)
    actions.transfer_conversation(first, conversation.id, to_agent_id=second.id, note="退货问题")
    conversation.refresh_from_db()
    assert conversation.agent_id == second.id
    assert (load(first), load(second)) == (0, 1)
    event = ConversationEvent.objects.filter(conversation=conversation, kind="transferred").get()
    assert (event.note, event.actor_id, event.data["from_agent_id"]) == (
        "退货问题",
        first.id,
        first.id,
    )

    # To a group with nobody online: it waits in that group's queue.
    actions.transfer_conversation(second, conversation.id, to_group_code="complaints", note="升级")
    conversation.refresh_from_db()
    assert (conversation.status, conversation.agent_id, conversation.group.code) == (
        "queued",
        None,
        "complaints",
    )
    assert load(second) == 0


def test_transfer_refusals_change_nothing(clock):
    shop = f.make_shop()
    owner = f.make_agent(shop)
    stranger = f.make_agent(shop)
    offline = f.make_agent(shop, status="offline")
    conversation = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    assert conversation.agent_id == owner.id
    before = ConversationEvent.objects.count()
    with pytest.raises(PermissionDenied):
        actions.transfer_conversation(stranger, conversation.id, to_agent_id=stranger.id)
    with pytest.raises(ActionError):
        actions.transfer_conversation(owner, conversation.id, to_agent_id=offline.id)
    with pytest.raises(NotFound):
        actions.transfer_conversation(owner, conversation.id, to_group_code="nope")
    with pytest.raises(ActionError):
        actions.transfer_conversation(owner, conversation.id)
    other_shop = f.make_shop()
    foreigner = f.make_agent(other_shop)
    with pytest.raises(NotFound):
        actions.transfer_conversation(owner, conversation.id, to_agent_id=foreigner.id)
    conversation.refresh_from_db()
    assert conversation.agent_id == owner.id and ConversationEvent.objects.count() == before
    assert (load(owner), load(stranger)) == (1, 0)


def test_supervisor_reassigns_any_conversation_of_their_shop(clock):
    shop = f.make_shop()
    agent = f.make_agent(shop)
    conversation = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    supervisor = f.make_agent(shop, role="supervisor", status="offline")
    other = f.make_agent(shop)
    actions.transfer_conversation(
        supervisor, conversation.id, to_agent_id=other.id, note="平衡负载"
    )
    conversation.refresh_from_db()
    assert conversation.agent_id == other.id and load(agent) == 0


def test_sweep_is_idempotent_and_assigns_missed_queue(clock):
    shop = f.make_shop()
    waiting = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    agent = f.make_agent(shop, status="offline")
    # Simulate a missed event: the agent is online but nobody pulled the queue.
    AgentProfile.objects.filter(user=agent).update(status="online")
    assert tasks.sweep_queues(clock) == 1
    assert tasks.sweep_queues(clock) == 0
    assert Conversation.objects.get(id=waiting.id).agent_id == agent.id and load(agent) == 1


def test_assignment_publishes_to_agent_and_customer(clock, django_capture_on_commit_callbacks):
    shop = f.make_shop()
    agent = f.make_agent(shop)
    customer = f.make_customer(shop)

    def open_and_commit():
        with django_capture_on_commit_callbacks(execute=True):
            return inbox_actions.open_conversation(
                shop=shop, customer=customer, first_text="在吗", client_id="x1", clock=clock
            )

    (conversation, _), events = collecting(open_and_commit)
    kinds = [(e.type, e.groups) for e in events]
    assert kinds == [
        ("message", (f"conversation.{conversation.id}",)),
        ("message", (f"conversation.{conversation.id}",)),
        ("conversation", (f"agent.{agent.id}",)),
        ("conversation", (f"conversation.{conversation.id}",)),
        ("agent", (f"shop.{shop.id}.supervisors",)),
    ]


def test_transfer_tells_the_receiving_agent_who_and_why(clock, django_capture_on_commit_callbacks):
    shop = f.make_shop()
    first = f.make_agent(shop, name="小王")
    conversation = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    second = f.make_agent(shop, "after_sales")

    def transfer():
        with django_capture_on_commit_callbacks(execute=True):
            actions.transfer_conversation(
                first, conversation.id, to_agent_id=second.id, note="客户要退货，已核实签收"
            )

    _, events = collecting(transfer)
    to_second = [e for e in events if e.groups == (f"agent.{second.id}",)]
    assert [e.summary["transfer"] for e in to_second] == [
        {"note": "客户要退货，已核实签收", "by_name": "小王"}
    ]
    to_first = [e for e in events if e.groups == (f"agent.{first.id}",)]
    assert [e.summary["agent_id"] for e in to_first] == [second.id]
