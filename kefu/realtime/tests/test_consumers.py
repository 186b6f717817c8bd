import pytest
from channels.db import database_sync_to_async

from kefu.accounts.demo import load_demo
from kefu.inbox.connectors.widget import issue_token
from kefu.inbox.models import Conversation, Message
from kefu.tests import factories as f

from .conftest import agent_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.backend]

db = database_sync_to_async


@db
def shop_with_agent(**shop_fields):
    shop = f.make_shop(**shop_fields)
    agent = f.make_agent(shop, capacity=5)
    return shop, agent


async def widget(sockets, shop, visitor_id=None):
    token, visitor_id = issue_token(shop, visitor_id)
    return await sockets(f"/ws/widget/?token={token}"), visitor_id


async def test_customer_and_agent_chat_in_real_time(sockets):
    shop, agent = await shop_with_agent()
    workbench = await sockets("/ws/agent/", await agent_cookie(agent))
    customer, _ = await widget(sockets, shop)
    await customer.send({"type": "send", "client_id": "c1", "text": "有现货吗？"})
    opened = await customer.expect("conversation")
    ack = await customer.expect("ack")
    assert ack["message"]["seq"] == 2 and ack["message"]["text"] == "有现货吗？"
    assigned = await workbench.expect("conversation")
    conversation_id = assigned["conversation"]["id"]
    assert opened["conversation"]["id"] == conversation_id
    assert assigned["conversation"]["agent_id"] == agent.id

    await workbench.send({"type": "sync", "conversation_id": conversation_id, "after_seq": 0})
    history = await workbench.expect("messages")
    assert [m["seq"] for m in history["messages"]] == [1, 2]

    await workbench.send(
        {"type": "send", "conversation_id": conversation_id, "client_id": "r1", "text": "有的"}
    )
    assert (await workbench.expect("ack"))["message"]["seq"] == 3
    pushed = await customer.expect("message")
    assert (pushed["message"]["text"], pushed["message"]["sender_type"]) == ("有的", "agent")

    await customer.send({"type": "send", "client_id": "c2", "text": "好的，谢谢"})
    incoming = await workbench.expect(
        "message", where=lambda f: f["message"]["sender_type"] == "customer"
    )
    assert (incoming["message"]["seq"], incoming["message"]["text"]) == (4, "好的，谢谢")


async def test_resume_after_reconnect_gets_exactly_the_missed_messages(sockets):
    shop, agent = await shop_with_agent()
    customer, visitor_id = await widget(sockets, shop)
    await customer.send({"type": "send", "client_id": "c1", "text": "一"})
    await customer.expect("ack")
    conversation = await db(Conversation.objects.get)(shop=shop)
    await customer.close()

    workbench = await sockets("/ws/agent/", await agent_cookie(agent))
    for i in range(3):
        await workbench.send(
            {
                "type": "send",
                "conversation_id": conversation.id,
                "client_id": f"r{i}",
                "text": f"回复{i}",
            }
        )
        await workbench.expect("ack")

    again, _ = await widget(sockets, shop, visitor_id)
    await again.send({"type": "sync", "after_seq": 2})
    missed = await again.expect("messages")
    assert [(m["seq"], m["text"]) for m in missed["messages"]] == [
        (3, "回复0"),
        (4, "回复1"),
        (5, "回复2"),
    ]


async def test_retry_with_same_client_id_is_acknowledged_once(sockets):
    shop, _agent = await shop_with_agent()
    customer, _ = await widget(sockets, shop)
    await customer.send({"type": "send", "client_id": "same", "text": "在吗"})
    first = await customer.expect("ack")
    await customer.send({"type": "send", "client_id": "same", "text": "在吗"})
    second = await customer.expect("ack")
    assert second["duplicate"] is True and second["message"] == first["message"]
    assert await db(Message.objects.filter(client_id="same").count)() == 1


@pytest.mark.parametrize(
    "frame, code",
    [
        ("{not json", "bad_json"),
        ('["send"]', "bad_frame"),
        ('{"type": "fly"}', "bad_frame"),
        ('{"type": "send", "client_id": "e", "text": "   "}', "empty_text"),
        ('{"type": "send", "client_id": "e", "text": 12}', "bad_frame"),
        ('{"type": "send", "text": "hi"}', "bad_frame"),
        ('{"type": "sync", "after_seq": -1}', "bad_frame"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays(sockets, frame, code):
    shop, _agent = await shop_with_agent()
    customer, _ = await widget(sockets, shop)
    await customer.send(frame)
    error = await customer.expect("error")
    assert error["code"] == code and error["message"]
    await customer.send({"type": "ping"})
    await customer.expect("pong")
    assert await db(Message.objects.count)() == 0


async def test_too_long_message_is_refused_with_the_shop_limit(sockets):
    shop, _agent = await shop_with_agent(max_message_chars=10)
    customer, _ = await widget(sockets, shop)
    await customer.send({"type": "send", "client_id": "x", "text": "长" * 11})
    error = await customer.expect("error", client_id="x")
    assert error["code"] == "text_too_long" and "10" in error["message"]
    assert await db(Conversation.objects.count)() == 0


async def test_visitor_message_rate_limit(sockets):
    shop, _agent = await shop_with_agent(messages_per_visitor=3, messages_window_seconds=60)
    customer, _ = await widget(sockets, shop)
    for i in range(3):
        await customer.send({"type": "send", "client_id": f"m{i}", "text": f"第{i}条"})
        await customer.expect("ack", client_id=f"m{i}")
    await customer.send({"type": "send", "client_id": "m3", "text": "第3条"})
    error = await customer.expect("error", client_id="m3")
    assert error["code"] == "rate_limited"
    assert await db(Message.objects.filter(sender_type="customer").count)() == 3


async def test_new_conversations_per_ip_limit(sockets):
    shop, _agent = await shop_with_agent(new_conversations_per_ip=2)
    for _ in range(2):
        customer, _ = await widget(sockets, shop)
        await customer.send({"type": "send", "client_id": "c", "text": "你好"})
        await customer.expect("ack")
    third, _ = await widget(sockets, shop)
    await third.send({"type": "send", "client_id": "c", "text": "你好"})
    assert (await third.expect("error"))["code"] == "rate_limited"
    assert await db(Conversation.objects.count)() == 2


async def test_forged_and_foreign_tokens_are_closed(sockets):
    shop, _agent = await shop_with_agent()
    token, _ = issue_token(shop)
    from kefu.realtime.tests.conftest import Socket

    for bad in (token[:-2] + "xx", "garbage", ""):
        socket = await Socket(f"/ws/widget/?token={bad}").connect()
        assert (await socket.recv())["code"] == "invalid_token"
        closed = await socket.communicator.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 4401}


async def test_expired_token_is_refused(sockets, settings):
    shop, _agent = await shop_with_agent()
    token, _ = issue_token(shop)
    settings.KEFU_VISITOR_TOKEN_MAX_AGE = -1
    from kefu.realtime.tests.conftest import Socket

    socket = await Socket(f"/ws/widget/?token={token}").connect()
    error = await socket.recv()
    assert error["code"] == "invalid_token"
    assert error["message"] == "访客令牌已过期，请刷新页面。"  # zh-hans by default


async def test_agent_socket_requires_login(sockets):
    from kefu.realtime.tests.conftest import Socket

    socket = await Socket("/ws/agent/").connect()
    assert (await socket.recv())["code"] == "unauthenticated"


async def test_agent_cannot_touch_another_agents_conversation(sockets):
    shop, owner = await shop_with_agent()
    customer, _ = await widget(sockets, shop)
    await customer.send({"type": "send", "client_id": "c1", "text": "在吗"})
    await customer.expect("ack")
    conversation = await db(Conversation.objects.get)(shop=shop)
    other_shop, foreigner = await shop_with_agent()
    colleague = await db(f.make_agent)(shop, "after_sales")
    for intruder in (foreigner, colleague):
        socket = await sockets("/ws/agent/", await agent_cookie(intruder))
        await socket.send(
            {"type": "send", "conversation_id": conversation.id, "client_id": "z", "text": "hi"}
        )
        assert (await socket.expect("error"))["code"] == "not_found"
        await socket.send({"type": "sync", "conversation_id": conversation.id, "after_seq": 0})
        assert (await socket.expect("error"))["code"] == "not_found"
    assert await db(Message.objects.filter(client_id="z").count)() == 0


async def test_status_change_pulls_waiting_conversations(sockets):
    shop = await db(f.make_shop)()
    agent = await db(f.make_agent)(shop, status="offline")
    customer, _ = await widget(sockets, shop)
    await customer.send({"type": "send", "client_id": "c1", "text": "在吗"})
    await customer.expect("ack")
    workbench = await sockets("/ws/agent/", await agent_cookie(agent))
    await workbench.send({"type": "status", "status": "online"})
    assigned = await workbench.expect("conversation")
    assert assigned["conversation"]["agent_id"] == agent.id
    public = await customer.expect("conversation")
    assert public["conversation"]["status"] == "open" and "group" not in public["conversation"]
    await workbench.send({"type": "status", "status": "lunch"})
    assert (await workbench.expect("error"))["code"] == "bad_frame"


async def test_supervisor_gets_queue_updates(sockets):
    shop = await db(f.make_shop)()
    supervisor = await db(f.make_agent)(shop, role="supervisor", status="offline")
    board = await sockets("/ws/agent/", await agent_cookie(supervisor))
    customer, _ = await widget(sockets, shop)
    await customer.send({"type": "send", "client_id": "c1", "text": "在吗"})
    queue = await board.expect("queue")
    pre_sales = next(g for g in queue["groups"] if g["code"] == "pre_sales")
    assert pre_sales["waiting"] == 1


async def test_demo_loads_idempotently():
    await db(load_demo)()
    await db(load_demo)()
    assert await db(Conversation.objects.filter(status="closed").count)() == 2


async def test_supervisor_sees_agent_status_and_load_live(sockets):
    shop = await db(f.make_shop)()
    supervisor = await db(f.make_agent)(shop, role="supervisor", status="offline")
    agent = await db(f.make_agent)(shop, status="offline", capacity=4)
    board = await sockets("/ws/agent/", await agent_cookie(supervisor))
    workbench = await sockets("/ws/agent/", await agent_cookie(agent))
    await workbench.send({"type": "status", "status": "online"})
    online = await board.expect("agent", where=lambda f: f["agent"]["user_id"] == agent.id)
    assert (online["agent"]["status"], online["agent"]["active_count"]) == ("online", 0)
    customer, _ = await widget(sockets, shop)
    await customer.send({"type": "send", "client_id": "c1", "text": "在吗"})
    loaded = await board.expect(
        "agent", where=lambda f: f["agent"]["user_id"] == agent.id and f["agent"]["active_count"]
    )
    assert (loaded["agent"]["active_count"], loaded["agent"]["max_concurrent"]) == (1, 4)


async def test_sender_gets_the_ack_other_tabs_get_the_message(sockets):
    shop, agent = await shop_with_agent()
    customer, visitor_id = await widget(sockets, shop)
    await customer.send({"type": "send", "client_id": "c1", "text": "第一句"})
    await customer.expect("ack")
    other_tab, _ = await widget(sockets, shop, visitor_id)
    # As the widget does on connect: a sync, whose answer also proves the tab
    # has joined the conversation's group (its connect handler ran first).
    await other_tab.send({"type": "sync", "after_seq": 0})
    await other_tab.expect("messages")
    await customer.send({"type": "send", "client_id": "c2", "text": "第二句"})
    await customer.expect("ack", client_id="c2")
    echoed = await other_tab.expect("message")
    assert echoed["message"]["client_id"] == "c2"
    await customer.nothing()
