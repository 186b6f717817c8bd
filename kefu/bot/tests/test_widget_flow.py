"""The bot reached the way customers reach it: the widget's socket and its HTTP
fallback, the "solved / not solved" endpoint, and the workbench's assist API."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from kefu.bot.models import BotTurn
from kefu.inbox.connectors.widget import issue_token

# The socket fixtures of the realtime tests (a fresh layer and writer per test).
from kefu.realtime.tests.conftest import _fresh_layer_and_writer, sockets  # noqa: F401

db = database_sync_to_async


@pytest.mark.django_db(transaction=True)
@pytest.mark.backend
async def test_socket_customer_gets_the_bot_answer_pushed(sockets, bot_shop):
    token, _visitor = issue_token(bot_shop)
    customer = await sockets(f"/ws/widget/?token={token}")
    await customer.send({"type": "send", "client_id": "c1", "text": "什么时候发货"})
    opened = await customer.expect("conversation")
    assert opened["conversation"]["status"] == "bot"
    assert (await customer.expect("ack"))["message"]["seq"] == 2
    answer = await customer.expect(
        "message", timeout=30, where=lambda f: f["message"]["sender_type"] == "bot"
    )
    assert answer["message"]["text"] == "亲，付款后48小时内发货。"
    assert answer["message"]["seq"] == 3
    # Asking for a person hands over; the customer hears the conversation changed.
    await customer.send({"type": "send", "client_id": "c2", "text": "转人工"})
    await customer.expect("ack")
    changed = await customer.expect(
        "conversation", timeout=30, where=lambda f: f["conversation"]["status"] != "bot"
    )
    assert changed["conversation"]["status"] == "queued"
    assert await db(BotTurn.objects.count)() == 2


def visitor(shop):
    token, _visitor = issue_token(shop)
    return Client(HTTP_AUTHORIZATION=f"Visitor {token}")


@pytest.mark.django_db
def test_http_fallback_answers_and_takes_feedback(bot_shop):
    client = visitor(bot_shop)
    sent = client.post(
        "/api/v1/widget/messages",
        {"client_id": "c1", "text": "几天发货"},
        content_type="application/json",
    )
    assert sent.status_code == 200
    listed = client.get("/api/v1/widget/messages?after_seq=0").json()["messages"]
    answer = listed[-1]
    assert answer["sender_type"] == "bot" and answer["client_id"] == "bot-2"

    other = visitor(bot_shop)  # another visitor cannot rate this answer
    refused = other.post(
        "/api/v1/widget/bot/feedback",
        {"seq": answer["seq"], "accepted": True},
        content_type="application/json",
    )
    assert refused.status_code == 404
    rated = client.post(
        "/api/v1/widget/bot/feedback",
        {"seq": answer["seq"], "accepted": True},
        content_type="application/json",
    )
    assert rated.status_code == 200 and rated.json()["feedback"] == "accepted"
    again = client.post(
        "/api/v1/widget/bot/feedback",
        {"seq": answer["seq"], "accepted": False},
        content_type="application/json",
    )
    assert again.status_code == 400 and again.json()["code"] == "already_rated"
    bad = client.post("/api/v1/widget/bot/feedback", {"seq": "x"}, content_type="application/json")
    assert bad.status_code == 422
    assert BotTurn.objects.get().feedback == "accepted"


@pytest.mark.django_db
def test_assist_suggests_answers_for_the_latest_message(bot_shop, clock):
    from kefu.bot.tests.test_actions import start
    from kefu.tests import factories as f

    conversation, _turn = start(bot_shop, "转人工", clock)
    client = Client()
    client.force_login(bot_shop.editor)
    from kefu.inbox.actions import IngestRequest, ingest_message

    ingest_message(IngestRequest(conversation.id, "customer", "c2", "退貨郵費誰出<script>"))
    data = client.get(f"/api/v1/bot/assist/{conversation.id}").json()
    assert data["text"] == "退貨郵費誰出<script>"
    assert data["faqs"][0]["question"] == "退货运费谁承担"
    assert data["intent"]["code"] == "return_fee"
    assert data["sentiment"]["label"] in ("negative", "neutral", "positive")
    assert data["can_draft"] is False
    # Another shop's agent sees nothing of it.
    stranger = f.make_agent(f.make_shop())
    client.force_login(stranger)
    assert client.get(f"/api/v1/bot/assist/{conversation.id}").status_code == 404
