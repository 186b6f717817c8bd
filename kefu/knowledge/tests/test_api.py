import pytest
from django.test import Client

from kefu.accounts import actions as account_actions
from kefu.knowledge import actions
from kefu.knowledge.models import Faq
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def token_client(shop):
    _token, raw = account_actions.create_api_token(shop, "ERP")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_faq_search_is_scoped_to_the_callers_shops(shop, other_shop, agent, make_faq):
    mine = make_faq("什么时候发货？", paraphrases=["几天发货"])
    make_faq("什么时候发货？", shop=other_shop)
    client = client_for(agent)
    response = client.get("/api/v1/knowledge/faqs/search", {"q": "幾天發貨", "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert [hit["id"] for hit in body] == [mine.id]
    assert body[0]["shop_id"] == shop.id and body[0]["answer"] == "付款后 48 小时内发货。"
    assert 0 <= body[0]["confidence"] <= 1
    foreign = client.get("/api/v1/knowledge/faqs/search", {"q": "发货", "shop_id": other_shop.id})
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"
    by_token = token_client(shop).get("/api/v1/knowledge/faqs/search", {"q": "发货"}).json()
    assert [hit["id"] for hit in by_token] == [mine.id]
    assert Client().get("/api/v1/knowledge/faqs/search", {"q": "发货"}).status_code == 401


def test_feedback_counts_and_other_shops_are_404(shop, other_shop, agent, make_faq):
    faq = make_faq()
    foreign = make_faq("别家", shop=other_shop)
    client = client_for(agent)
    url = f"/api/v1/knowledge/faqs/{faq.id}/feedback"
    assert client.post(url, {"accepted": True}, content_type="application/json").json() == {
        "id": faq.id,
        "usage_count": 1,
        "accepted_count": 1,
        "rejected_count": 0,
    }
    client.post(url, {"accepted": False}, content_type="application/json")
    client.post(url, {}, content_type="application/json")  # an agent inserted it: a use
    faq.refresh_from_db()
    assert (faq.usage_count, faq.accepted_count, faq.rejected_count) == (3, 1, 1)
    response = client.post(
        f"/api/v1/knowledge/faqs/{foreign.id}/feedback",
        {"accepted": True},
        content_type="application/json",
    )
    assert response.status_code == 404
    bad = client.post(url, {"accepted": "maybe"}, content_type="application/json")
    assert bad.status_code == 422
    assert Faq.objects.get(id=foreign.id).usage_count == 0


def test_quick_replies_are_filled_in_for_the_conversation(shop, other_shop, supervisor, clock):
    agent = f.make_agent(shop, name="小美")
    customer = f.make_customer(shop, name="张三")
    conversation = f.open_conversation(shop, customer, "在吗", clock=clock)
    actions.save_quick_reply(
        supervisor,
        shop,
        {
            "category": "order",
            "title": "已发货",
            "shortcut": "/ship",
            "text": (
                "{customer_name}您好，{shop_name}的{agent_name}为您服务，订单 {order_no} 已发货"
            ),
        },
    )
    actions.save_quick_reply(
        agent,
        shop,
        {"category": "greeting", "title": "我的", "shortcut": "/mine", "text": "私人"},
        personal=True,
    )
    colleague = f.make_agent(shop, status="offline")
    client = client_for(agent)
    rows = client.get(
        "/api/v1/knowledge/quick-replies", {"q": "/sh", "conversation_id": conversation.id}
    ).json()
    assert [(r["shortcut"], r["text"], r["personal"]) for r in rows] == [
        ("/ship", "张三您好，暖暖家纺的小美为您服务，订单 {order_no} 已发货", False)
    ]
    assert [r["shortcut"] for r in client.get("/api/v1/knowledge/quick-replies").json()] == [
        "/mine",
        "/ship",
    ]
    assert [
        r["shortcut"] for r in client_for(colleague).get("/api/v1/knowledge/quick-replies").json()
    ] == ["/ship"]
    foreign = f.open_conversation(other_shop, f.make_customer(other_shop), "hi", clock=clock)
    response = client.get("/api/v1/knowledge/quick-replies", {"conversation_id": foreign.id})
    assert response.status_code == 404


def test_quick_reply_use_is_counted_for_visible_replies_only(shop, supervisor, agent):
    team, _ = actions.save_quick_reply(
        supervisor,
        shop,
        {"category": "greeting", "title": "问候", "shortcut": "/hi", "text": "您好"},
    )
    colleague = f.make_agent(shop, status="offline")
    private, _ = actions.save_quick_reply(
        colleague,
        shop,
        {"category": "greeting", "title": "私人", "shortcut": "/me", "text": "私人"},
        personal=True,
    )
    client = client_for(agent)
    used = client.post(f"/api/v1/knowledge/quick-replies/{team.id}/use")
    assert used.status_code == 200 and used.json() == {"id": team.id, "usage_count": 1}
    assert client.post(f"/api/v1/knowledge/quick-replies/{private.id}/use").status_code == 404
    private.refresh_from_db()
    assert private.usage_count == 0


def test_scripts_cases_manuals(shop, other_shop, supervisor, agent):
    actions.save_script(
        supervisor, shop, {"stage": "payment", "title": "催付", "text": "亲，记得付款哦"}
    )
    actions.save_script(None, other_shop, {"stage": "payment", "title": "别家催付", "text": "x"})
    actions.save_case(
        supervisor,
        shop,
        {
            "kind": "failure",
            "title": "超时未回复",
            "situation": "s",
            "handling": "h",
            "tags": ["时效"],
        },
    )
    actions.save_manual(
        supervisor, shop, {"kind": "service", "title": "手册", "body": "# 总则\n<i>x</i>"}
    )
    client = client_for(agent)
    scripts = client.get("/api/v1/knowledge/scripts", {"stage": "payment"}).json()
    assert [s["title"] for s in scripts] == ["催付"]
    assert client.get("/api/v1/knowledge/scripts", {"stage": "greeting"}).json() == []
    bad = client.get("/api/v1/knowledge/scripts", {"stage": "haggle"})
    assert bad.status_code == 400 and "haggle" in bad.json()["detail"]
    cases = client.get("/api/v1/knowledge/cases").json()
    assert [(c["title"], c["kind"], c["tags"]) for c in cases] == [
        ("超时未回复", "failure", ["时效"])
    ]
    manuals = client.get("/api/v1/knowledge/manuals").json()
    assert manuals[0]["body_html"] == "<h3>总则</h3>\n<p>&lt;i&gt;x&lt;/i&gt;</p>"
    assert client.get("/api/v1/knowledge/cases", {"shop_id": other_shop.id}).status_code == 404


def test_a_conversation_goes_into_the_case_library(shop, other_shop, supervisor, agent, clock):
    from kefu.knowledge.models import Case

    conversation = f.open_conversation(shop, f.make_customer(shop), "发错货了", clock=clock)
    body = {
        "conversation_id": conversation.id,
        "kind": "success",
        "title": "发错颜色后的补救",
        "situation": "买家收到颜色不对的四件套",
        "handling": "道歉，补发正确颜色，退回运费由店铺承担",
        "lesson": "先认错再给方案",
        "tags": ["发错货", "补发"],
    }
    created = client_for(supervisor).post(
        "/api/v1/knowledge/cases", body, content_type="application/json"
    )
    assert created.status_code == 201
    case = Case.objects.get()
    assert (case.conversation_id, case.kind, case.tags) == (
        conversation.id,
        "success",
        ["发错货", "补发"],
    )
    listed = client_for(supervisor).get("/api/v1/knowledge/cases").json()
    assert listed[0]["conversation_id"] == conversation.id
    # Agents read the library but do not write it; another shop's conversation is 404.
    refused = client_for(agent).post(
        "/api/v1/knowledge/cases", body, content_type="application/json"
    )
    assert refused.status_code in (403, 404)
    foreign = f.open_conversation(other_shop, f.make_customer(other_shop), "hi", clock=clock)
    other = client_for(supervisor).post(
        "/api/v1/knowledge/cases",
        {**body, "conversation_id": foreign.id},
        content_type="application/json",
    )
    assert other.status_code == 404
    bad = client_for(supervisor).post(
        "/api/v1/knowledge/cases", {**body, "kind": "meh"}, content_type="application/json"
    )
    assert bad.status_code == 400
    assert Case.objects.count() == 1
