import datetime as dt
import threading

import pytest
from django.db import connections

from kefu.core.errors import ActionError, NotFound
from kefu.inbox import actions, queries
from kefu.inbox.actions import IngestRequest
from kefu.inbox.models import Conversation, Message
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db


def customer_says(conversation, client_id, text="在吗"):
    return IngestRequest(conversation.id, "customer", client_id, text)


def agent_says(conversation, agent, client_id, text="您好", hold=None):
    return IngestRequest(
        conversation.id,
        "agent",
        client_id,
        text,
        sender_id=agent.id,
        sender_name="客服",
        hold_seconds=hold,
    )


@pytest.fixture
def setup(clock):
    shop = f.make_shop()
    agent = f.make_agent(shop)
    conversation = f.open_conversation(shop, f.make_customer(shop), "第一句", clock=clock)
    return shop, agent, conversation


def test_open_stores_greeting_then_first_message(setup):
    shop, _agent, conversation = setup
    rows = list(
        Message.objects.filter(conversation=conversation)
        .order_by("seq")
        .values_list("seq", "sender_type", "text")
    )
    assert rows == [(1, "system", shop.greeting), (2, "customer", "第一句")]
    assert conversation.last_seq == 2


def test_same_client_id_is_stored_once(setup, clock):
    _shop, _agent, conversation = setup
    first = actions.ingest_message(customer_says(conversation, "k1", "一"), clock)
    again = actions.ingest_message(customer_says(conversation, "k1", "一（重发）"), clock)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.message == first.message and again.message["text"] == "一"
    assert Message.objects.filter(conversation=conversation, client_id="k1").count() == 1
    assert Conversation.objects.get(id=conversation.id).last_seq == 3


def test_batch_assigns_consecutive_seq_and_dedupes_inside_batch(setup, clock):
    shop, agent, conversation = setup
    other = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    results = actions.ingest_messages(
        [
            customer_says(conversation, "a"),
            customer_says(other, "a"),
            agent_says(conversation, agent, "a"),  # same id, other sender: a new message
            customer_says(conversation, "a"),  # repeat inside the batch
            customer_says(conversation, "b"),
        ],
        clock,
    )
    assert [(r.message["seq"], r.duplicate) for r in results] == [
        (3, False),
        (3, False),
        (4, False),
        (3, True),
        (5, False),
    ]
    assert Message.objects.filter(conversation=conversation).count() == 5


def test_refused_requests_store_nothing_and_do_not_sink_the_batch(setup, clock):
    shop, agent, conversation = setup
    stranger = f.make_agent(shop)
    closed = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    actions.close_conversation(Conversation.objects.get(id=closed.id).agent, closed.id, clock=clock)
    before = Message.objects.count()
    results = actions.ingest_messages(
        [
            agent_says(conversation, stranger, "x"),
            customer_says(closed, "y"),
            IngestRequest(999_999, "customer", "z", "hi"),
            agent_says(conversation, agent, "ok"),
        ],
        clock,
    )
    assert [type(r.error).__name__ if r.error else None for r in results] == [
        "NotFound",
        "ActionError",
        "NotFound",
        None,
    ]
    assert results[1].error.code == "closed"
    assert Message.objects.count() == before + 1


def test_waiting_since_first_response_and_hold(setup, clock):
    _shop, agent, conversation = setup
    started = clock.now()
    clock.advance(seconds=20)
    actions.ingest_message(customer_says(conversation, "q2"), clock)
    conversation.refresh_from_db()
    assert conversation.waiting_since == started  # the oldest unanswered message
    assert conversation.unread_count == 2
    clock.advance(seconds=5)
    actions.ingest_message(agent_says(conversation, agent, "r1", "请您稍等", hold=120), clock)
    conversation.refresh_from_db()
    assert conversation.first_response_at - conversation.first_customer_message_at == (
        dt.timedelta(seconds=25)
    )
    assert conversation.waiting_since is None and conversation.unread_count == 0
    assert conversation.hold_until == clock.now() + dt.timedelta(seconds=120)
    clock.advance(seconds=60)
    actions.ingest_message(agent_says(conversation, agent, "r2", "查到了"), clock)
    conversation.refresh_from_db()
    assert conversation.hold_until is None
    assert conversation.first_response_at == started + dt.timedelta(seconds=25)


def test_messages_after_sequence(setup, clock):
    _shop, agent, conversation = setup
    for i in range(3):
        actions.ingest_message(agent_says(conversation, agent, f"r{i}", f"第{i}条"), clock)
    assert [m["seq"] for m in queries.messages_after(conversation.id, 3)] == [4, 5]
    assert [m["seq"] for m in queries.messages_after(conversation.id, 0, limit=2)] == [1, 2]


def test_send_agent_message_validates_and_stores_nothing_on_bad_input(setup):
    _shop, agent, conversation = setup
    before = Message.objects.count()
    with pytest.raises(ActionError) as empty:
        actions.send_agent_message(agent, conversation.id, client_id="e", text="   ")
    with pytest.raises(ActionError) as long:
        actions.send_agent_message(agent, conversation.id, client_id="l", text="长" * 5001)
    with pytest.raises(NotFound):
        actions.send_agent_message(agent, 424242, client_id="n", text="hi")
    assert (empty.value.code, long.value.code) == ("empty_text", "text_too_long")
    assert Message.objects.count() == before


@pytest.mark.backend
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_share_a_seq(clock):
    """Four threads (four connections) write to one conversation at once: every
    message gets its own seq, no gaps, each client id once."""
    shop = f.make_shop()
    f.make_agent(shop)
    conversation = f.open_conversation(shop, f.make_customer(shop))
    errors = []

    def writer(n):
        try:
            for i in range(25):
                batch = [
                    customer_says(conversation, f"t{n}-{i}"),
                    customer_says(conversation, f"t{n}-{i}"),
                ]
                actions.ingest_messages(batch)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    seqs = list(
        Message.objects.filter(conversation=conversation)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, 103))
    assert Conversation.objects.get(id=conversation.id).last_seq == 102


def test_agent_messages_obey_the_shops_length_limit(clock):
    shop = f.make_shop(max_message_chars=20)
    agent = f.make_agent(shop)
    conversation = f.open_conversation(shop, f.make_customer(shop), clock=clock)
    result = actions.ingest_message(agent_says(conversation, agent, "long", "好" * 21), clock)
    assert result.error.code == "text_too_long" and result.message is None
    assert not Message.objects.filter(client_id="long").exists()
    assert (
        actions.ingest_message(agent_says(conversation, agent, "ok", "好" * 20), clock).error
        is None
    )
