"""The scaled mode for real: two server processes on PostgreSQL + Redis, the
customer on one and the agent on the other."""

import asyncio
import json
import os
import time
import uuid

import httpx
import pytest
from websockets.asyncio.client import connect

from kefu.accounts.demo import DEMO_PASSWORD
from kefu.testing.live import live_servers

pytestmark = [pytest.mark.multiprocess, pytest.mark.scaled]


@pytest.fixture(scope="module")
def servers():
    if not (
        os.environ.get("KEFU_DATABASE_URL", "").startswith("postgres")
        and os.environ.get("KEFU_REDIS_URL")
    ):
        pytest.fail("the scaled phase needs KEFU_DATABASE_URL (PostgreSQL) and KEFU_REDIS_URL")
    with live_servers(2, inherit_backends=True) as pair:
        yield pair


def login(base: str, username: str) -> str:
    with httpx.Client(base_url=base) as client:
        client.get("/accounts/login/")
        response = client.post(
            "/accounts/login/",
            data={
                "username": username,
                "password": DEMO_PASSWORD,
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
            headers={"Referer": f"{base}/accounts/login/"},
        )
        assert response.status_code == 302, response.text[:500]
        return client.cookies["sessionid"]


async def next_frame(socket, predicate, deadline=10.0):
    """Frames until one matches, within the deadline (no sleeps)."""
    end = time.monotonic() + deadline
    while True:
        remaining = end - time.monotonic()
        assert remaining > 0, "no matching frame within the deadline"
        frame = json.loads(await asyncio.wait_for(socket.recv(), remaining))
        if predicate(frame):
            return frame


async def test_customer_on_one_process_agent_on_the_other(servers):
    first, second = servers
    session = await asyncio.to_thread(login, second.url, "shouqian2")
    token = httpx.post(f"{first.url}/widget/demo/session", json={}).json()["token"]
    origin_b = {"Origin": second.url}
    async with connect(
        f"{second.ws_url}/ws/agent/",
        additional_headers={"Cookie": f"sessionid={session}", **origin_b},
    ) as agent:
        await agent.send(json.dumps({"type": "status", "status": "online"}))
        await next_frame(agent, lambda f: f["type"] == "status")
        async with connect(
            f"{first.ws_url}/ws/widget/?token={token}", additional_headers={"Origin": first.url}
        ) as customer:
            # A pre-sales question: routing (rules, then the intent) sends it to 小美.
            text = f"这款四件套有现货吗？{uuid.uuid4().hex[:6]}"
            await customer.send(json.dumps({"type": "send", "client_id": "p1", "text": text}))
            ack = await next_frame(customer, lambda f: f["type"] == "ack")
            conversation_id = ack["message"]["conversation_id"]
            assigned = await next_frame(
                agent,
                lambda f: (
                    f["type"] == "conversation" and f["conversation"]["id"] == conversation_id
                ),
            )
            assert assigned["conversation"]["agent_name"] == "小美"
            await agent.send(
                json.dumps({"type": "sync", "conversation_id": conversation_id, "after_seq": 0})
            )
            history = await next_frame(agent, lambda f: f["type"] == "messages")
            assert [m["text"] for m in history["messages"]][-1] == text

            await agent.send(
                json.dumps(
                    {
                        "type": "send",
                        "conversation_id": conversation_id,
                        "client_id": "r1",
                        "text": "收到了，跨进程没问题",
                    }
                )
            )
            reply = await next_frame(
                customer,
                lambda f: f["type"] == "message" and f["message"]["sender_type"] == "agent",
            )
            assert reply["message"]["text"] == "收到了，跨进程没问题"
            await customer.send(json.dumps({"type": "send", "client_id": "p2", "text": "好的"}))
            pushed = await next_frame(
                agent,
                lambda f: (
                    f["type"] == "message"
                    and f["message"]["sender_type"] == "customer"
                    and f["message"]["client_id"] == "p2"
                ),
            )
            assert pushed["message"]["seq"] == 4

        # The customer comes back on the other process and resumes by sequence.
        async with connect(
            f"{second.ws_url}/ws/widget/?token={token}", additional_headers=origin_b
        ) as customer:
            await agent.send(
                json.dumps(
                    {
                        "type": "send",
                        "conversation_id": conversation_id,
                        "client_id": "r2",
                        "text": "还有别的问题吗？",
                    }
                )
            )
            # Committed before the customer asks, so the sync has it even when
            # this socket joined its group after the push went out.
            await next_frame(agent, lambda f: f["type"] == "ack" and f["client_id"] == "r2")
            await customer.send(json.dumps({"type": "sync", "after_seq": 3}))
            missed = await next_frame(customer, lambda f: f["type"] == "messages")
            seqs = [m["seq"] for m in missed["messages"]]
            if 5 not in seqs:  # the reply may arrive as a push rather than in the sync
                await next_frame(
                    customer, lambda f: f["type"] == "message" and f["message"]["seq"] == 5
                )
                seqs.append(5)
            assert seqs == [4, 5]
        await agent.send(json.dumps({"type": "status", "status": "offline"}))
