"""The guard and buyer-data masking over the real sockets (embedded and, in
the scaled phase, PostgreSQL + the Redis channel layer): the agent's `check`
frame, a blocked `send`, and a buyer's phone number masked for the agent only."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from kefu.compliance.models import Violation
from kefu.inbox.models import Message
from kefu.realtime.tests.conftest import agent_cookie, sockets  # noqa: F401 (fixture)
from kefu.realtime.tests.test_consumers import shop_with_agent, widget

from .helpers import install_rules

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.backend]

db = database_sync_to_async


async def chat(sockets):
    shop, agent = await shop_with_agent()
    await db(install_rules)(shop)
    workbench = await sockets("/ws/agent/", await agent_cookie(agent))
    customer, _ = await widget(sockets, shop)
    await customer.send({"type": "send", "client_id": "c1", "text": "在吗"})
    assigned = await workbench.expect("conversation")
    return workbench, customer, assigned["conversation"]["id"]


async def test_check_frame_and_blocked_send(sockets):
    workbench, customer, conversation_id = await chat(sockets)
    await workbench.send(
        {"type": "check", "conversation_id": conversation_id, "text": "加我微信", "ref": 3}
    )
    findings = await workbench.expect("findings", ref=3)
    assert findings["findings"][0]["rule"] == "wechat"
    assert findings["findings"][0]["span"] == [0, 4]

    await workbench.send(
        {"type": "send", "conversation_id": conversation_id, "client_id": "b1", "text": "加我微信"}
    )
    error = await workbench.expect("error", client_id="b1")
    assert error["code"] == "blocked" and error["findings"][0]["severity"] == "block"
    assert not await db(Message.objects.filter(client_id="b1").exists)()
    assert await db(Violation.objects.filter(action="blocked").count)() == 1


async def test_buyer_data_is_masked_for_the_agent_only(sockets):
    workbench, customer, conversation_id = await chat(sockets)
    await customer.expect("ack")
    await customer.send({"type": "send", "client_id": "c2", "text": "电话13812345678"})
    ack = await customer.expect("ack", client_id="c2")
    assert ack["message"]["text"] == "电话13812345678"  # the buyer's own text
    pushed = await workbench.expect("message", where=lambda f: f["message"]["client_id"] == "c2")
    assert pushed["message"]["text"] == "电话138****5678" and pushed["message"]["masked"]
    await workbench.send({"type": "sync", "conversation_id": conversation_id, "after_seq": 0})
    history = await workbench.expect("messages")
    assert "13812345678" not in str(history)
