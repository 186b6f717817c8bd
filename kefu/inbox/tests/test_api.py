import pytest
from django.test import Client

from kefu.accounts import actions as account_actions
from kefu.inbox.connectors.widget import issue_token
from kefu.inbox.models import Conversation, Message
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(clock):
    shop = f.make_shop()
    agent = f.make_agent(shop)
    conversation = f.open_conversation(shop, f.make_customer(shop), "在吗", clock=clock)
    other_shop = f.make_shop()
    f.make_agent(other_shop)
    foreign = f.open_conversation(other_shop, f.make_customer(other_shop), "hello", clock=clock)
    return shop, agent, conversation, other_shop, foreign


def agent_client(user):
    client = Client()
    client.force_login(user)
    return client


def token_client(shop):
    _token, raw = account_actions.create_api_token(shop, "ERP")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_agent_lists_only_visible_conversations(world):
    _shop, agent, conversation, _other, _foreign = world
    response = agent_client(agent).get("/api/v1/conversations")
    assert response.status_code == 200
    assert [c["id"] for c in response.json()] == [conversation.id]


def test_foreign_conversation_is_404_for_agents_and_tokens(world):
    shop, agent, _conversation, _other, foreign = world
    for client in (agent_client(agent), token_client(shop)):
        for path in (
            f"/api/v1/conversations/{foreign.id}",
            f"/api/v1/conversations/{foreign.id}/messages",
        ):
            response = client.get(path)
            assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_token_reads_its_shop_and_sends_idempotently(world):
    shop, _agent, conversation, _other, _foreign = world
    client = token_client(shop)
    assert client.get(f"/api/v1/conversations/{conversation.id}").json()["status"] == "open"
    body = {"client_id": "erp-1", "text": "您的订单已发货"}
    first = client.post(
        f"/api/v1/conversations/{conversation.id}/messages", body, content_type="application/json"
    )
    second = client.post(
        f"/api/v1/conversations/{conversation.id}/messages", body, content_type="application/json"
    )
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert first.json()["message"]["sender_type"] == "bot"
    assert Message.objects.filter(client_id="erp-1").count() == 1
    messages = client.get(f"/api/v1/conversations/{conversation.id}/messages?after_seq=2").json()
    assert [m["seq"] for m in messages["messages"]] == [3]


def test_revoked_or_wrong_token_is_401(world):
    shop, *_ = world
    token, raw = account_actions.create_api_token(shop, "old")
    token.revoked_at = token.created_at
    token.save()
    for header in (f"Bearer {raw}", "Bearer nope", "Basic abc"):
        response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/conversations")
        assert response.status_code == 401


def test_agent_send_transfer_close_over_http(world):
    shop, agent, conversation, _other, _foreign = world
    client = agent_client(agent)
    sent = client.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        {"client_id": "w1", "text": "您好", "hold_seconds": 60},
        content_type="application/json",
    )
    assert sent.status_code == 200 and sent.json()["message"]["hold_seconds"] == 60
    closed = client.post(f"/api/v1/conversations/{conversation.id}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = client.post(f"/api/v1/conversations/{conversation.id}/close")
    assert again.status_code == 400 and again.json()["code"] == "closed"
    late = client.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        {"client_id": "w2", "text": "还在吗"},
        content_type="application/json",
    )
    assert late.status_code == 400 and late.json()["code"] == "closed"


def test_session_post_needs_csrf(world):
    _shop, agent, conversation, _other, _foreign = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post(f"/api/v1/conversations/{conversation.id}/close")
    assert response.status_code in (401, 403)
    assert Conversation.objects.get(id=conversation.id).status == "open"


def test_bad_bodies_are_422_and_store_nothing(world):
    _shop, agent, conversation, _other, _foreign = world
    client = agent_client(agent)
    before = Message.objects.count()
    for body in ("{", '{"client_id": ""}', '{"client_id": "x", "text": 5, "hold_seconds": -1}'):
        response = client.post(
            f"/api/v1/conversations/{conversation.id}/messages",
            body,
            content_type="application/json",
        )
        assert response.status_code in (400, 422), body
    assert Message.objects.count() == before


def test_widget_http_fallback(world):
    shop, agent, *_ = world
    token, _visitor = issue_token(shop)
    client = Client(HTTP_AUTHORIZATION=f"Visitor {token}")
    sent = client.post(
        "/api/v1/widget/messages",
        {"client_id": "h1", "text": "HTTP 你好"},
        content_type="application/json",
    )
    assert sent.status_code == 200 and sent.json()["message"]["seq"] == 2
    listed = client.get("/api/v1/widget/messages?after_seq=0").json()
    assert [m["text"] for m in listed["messages"]] == [shop.greeting, "HTTP 你好"]
    forged = Client(HTTP_AUTHORIZATION=f"Visitor {token}x").get("/api/v1/widget/messages")
    assert forged.status_code == 401


def test_widget_session_endpoint(world):
    shop, *_ = world
    client = Client()
    first = client.post(f"/widget/{shop.slug}/session", "{}", content_type="application/json")
    assert first.status_code == 200 and first.json()["shop"]["greeting"] == shop.greeting
    resumed = client.post(
        f"/widget/{shop.slug}/session",
        {"token": first.json()["token"]},
        content_type="application/json",
    )
    assert resumed.json()["visitor_id"] == first.json()["visitor_id"]
    assert (
        client.post("/widget/nope/session", "{}", content_type="application/json").status_code
        == 404
    )
    assert (
        client.post(f"/widget/{shop.slug}/session", "[1", content_type="application/json").json()[
            "code"
        ]
        == "bad_json"
    )


def test_openapi_schema_and_docs_are_served():
    client = Client()
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/conversations/{conversation_id}/messages" in schema["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "cdn." not in page and "/static/ninja/swagger-ui-bundle.js" in page  # intranet-safe
