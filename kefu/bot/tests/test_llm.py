"""The optional model-server adapter against a local fake of the OpenAI chat API."""

import pytest

from kefu.bot import llm
from kefu.bot.models import BotSettings
from kefu.bot.tests.fake_openai import FakeChatServer
from kefu.bot.tests.test_actions import start

pytestmark = pytest.mark.django_db


@pytest.fixture
def server():
    with FakeChatServer() as fake:
        yield fake


def use_model(shop, server, **fields):
    BotSettings.objects.filter(shop=shop).update(
        llm_enabled=True,
        llm_base_url=server.url,
        llm_model="qwen-shop",
        llm_api_key="sk-test",
        llm_timeout_seconds=fields.pop("timeout", 2.0),
        handoff_negative=False,
    )


def test_bot_answer_is_drafted_from_the_retrieved_knowledge(bot_shop, server, clock):
    use_model(bot_shop, server)
    conversation, turn = start(bot_shop, "退货运费谁出", clock)
    assert turn.drafted_by_model
    assert conversation.messages.order_by("-seq").first().text == server.reply
    request = server.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    body = request["body"]
    assert body["model"] == "qwen-shop" and body["temperature"] == 0
    prompt = "\n".join(m["content"] for m in body["messages"])
    # Grounded: the retrieved FAQ's answer is in the prompt, with the refusal rule.
    assert "亲，七天无理由退货的运费由买家承担。" in prompt and llm.NO_ANSWER in prompt
    assert body["messages"][-1] == {"role": "user", "content": "退货运费谁出"}


@pytest.mark.parametrize(
    "breakage",
    ["no_answer", "http_500", "bad_json", "missing_choices", "timeout", "wrong_key"],
)
def test_any_failure_falls_back_to_the_stored_answer(bot_shop, server, clock, breakage):
    use_model(bot_shop, server, timeout=0.5)
    if breakage == "no_answer":
        server.reply = llm.NO_ANSWER
    elif breakage == "http_500":
        server.status = 500
    elif breakage == "bad_json":
        server.raw_body = b"{not json"
    elif breakage == "missing_choices":
        server.raw_body = b'{"id": "x", "choices": []}'
    elif breakage == "timeout":
        server.delay = 1.5
    elif breakage == "wrong_key":
        server.api_key = "sk-other"
    conversation, turn = start(bot_shop, "退货运费谁出", clock)
    assert not turn.drafted_by_model
    assert (
        conversation.messages.order_by("-seq").first().text
        == "亲，七天无理由退货的运费由买家承担。"
    )


def test_off_by_default_makes_no_request(bot_shop, server, clock):
    BotSettings.objects.filter(shop=bot_shop).update(
        llm_base_url=server.url, handoff_negative=False
    )
    _conversation, turn = start(bot_shop, "退货运费谁出", clock)
    assert not turn.drafted_by_model and server.requests == []


def test_unreachable_server_falls_back(bot_shop, clock):
    BotSettings.objects.filter(shop=bot_shop).update(
        llm_enabled=True, llm_base_url="http://127.0.0.1:9/v1", handoff_negative=False
    )
    _conversation, turn = start(bot_shop, "退货运费谁出", clock)
    assert turn.outcome == "answered" and not turn.drafted_by_model


def test_agent_draft_endpoint(bot_shop, server, clock, client):
    use_model(bot_shop, server)
    conversation, _turn = start(bot_shop, "退货运费谁出", clock)
    client.force_login(bot_shop.editor)
    response = client.post(f"/api/v1/bot/draft/{conversation.id}")
    assert response.status_code == 200 and response.json() == {"text": server.reply}


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_the_model_server_thinks(bot_shop, server, clock, monkeypatch):
    """A write lock held during a slow call would stall every ingest (all of
    SQLite; the conversation's row on PostgreSQL)."""
    from django.db import connection

    use_model(bot_shop, server)
    seen = []
    real = llm.draft_answer

    def draft(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return real(*args, **kwargs)

    monkeypatch.setattr(llm, "draft_answer", draft)
    _conversation, turn = start(bot_shop, "退货运费谁出", clock)
    assert seen == [False] and turn.drafted_by_model
