import datetime as dt

import pytest
from django.test import Client

from kefu.knowledge import actions
from kefu.knowledge.markdown import render_markdown
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_help_center_without_login_lists_categories_and_searches(shop, make_faq):
    shipping = make_faq("什么时候发货？", paraphrases=["几天发货"])
    make_faq("How long does shipping take?", language="en", category="Shipping")
    make_faq("草稿问题", status="draft", answer="")
    client = Client()
    page = client.get(f"/help/{shop.slug}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "帮助中心" in html or "Help center" in html
    assert "什么时候发货？" in html and "草稿问题" not in html
    # Browsing shows the visitor's language only (zh-hans by default).
    assert "How long does shipping take?" not in html and "Shipping" not in html
    english = client.get(f"/help/{shop.slug}/", HTTP_ACCEPT_LANGUAGE="en")
    english_html = english.content.decode()
    assert "How long does shipping take?" in english_html and "什么时候发货？" not in english_html
    found = client.get(f"/help/{shop.slug}/", {"q": "幾天發貨"}).content.decode()
    assert f"/help/{shop.slug}/faq/{shipping.id}/" in found
    assert "How long does shipping take?" not in found
    by_category = client.get(
        f"/help/{shop.slug}/", {"category": "Shipping"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "How long does shipping take?" in by_category and "什么时候发货？" not in by_category


def test_faq_page_and_404_for_draft_archived_expired_unknown_and_other_shops(
    shop, other_shop, supervisor, make_faq
):
    live = make_faq("什么时候发货？")
    draft = make_faq("草稿", status="draft", answer="")
    archived = make_faq("旧活动", status="archived")
    expired = make_faq("去年的活动", valid_to=dt.date(2020, 1, 1))
    foreign = make_faq("别家的问题", shop=other_shop)
    client = Client()
    page = client.get(f"/help/{shop.slug}/faq/{live.id}/")
    assert page.status_code == 200 and "付款后 48 小时内发货。" in page.content.decode()
    for faq_id in (draft.id, archived.id, expired.id, foreign.id, 999_999):
        assert client.get(f"/help/{shop.slug}/faq/{faq_id}/").status_code == 404
    assert client.get("/help/no-such-shop/").status_code == 404


def test_faq_content_is_inert(shop, make_faq):
    faq = make_faq(XSS, category=XSS, answer=f"第一行\n{XSS}")
    client = Client()
    for path, params in (
        (f"/help/{shop.slug}/faq/{faq.id}/", {}),
        (f"/help/{shop.slug}/", {}),
        (f"/help/{shop.slug}/", {"q": XSS}),
    ):
        html = client.get(path, params).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_help_center_is_rate_limited_per_ip(shop, settings):
    settings.KEFU_HELP_REQUESTS_PER_MINUTE = 3
    client = Client(REMOTE_ADDR="203.0.113.9")
    codes = [client.get(f"/help/{shop.slug}/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get(f"/help/{shop.slug}/faq/1/")
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    assert Client(REMOTE_ADDR="203.0.113.10").get(f"/help/{shop.slug}/").status_code == 200


def test_knowledge_page_needs_login_and_shows_the_users_shop_only(
    shop, other_shop, agent, supervisor, make_faq
):
    make_faq("什么时候发货？")
    make_faq("别家的问题", shop=other_shop)
    actions.save_quick_reply(
        supervisor,
        shop,
        {"category": "greeting", "title": "问候", "shortcut": "/hi", "text": "我是{agent_name}"},
    )
    colleague = f.make_agent(shop, status="offline")
    actions.save_quick_reply(
        colleague,
        shop,
        {"category": "greeting", "title": "同事私人", "shortcut": "/x", "text": "私人"},
        personal=True,
    )
    assert Client().get("/knowledge/").status_code == 302
    client = Client()
    client.force_login(agent)
    html = client.get("/knowledge/").content.decode()
    assert "什么时候发货？" in html and "别家的问题" not in html
    replies = client.get("/knowledge/", {"tab": "replies"}).content.decode()
    assert "我是小王" in replies and "同事私人" not in replies
    assert client.get("/knowledge/", {"shop": other_shop.id}).status_code == 404
    found = client.get("/knowledge/", {"q": "發貨"}).content.decode()
    assert "什么时候发货？" in found


def test_knowledge_page_tabs(shop, supervisor):
    actions.save_script(
        supervisor, shop, {"stage": "farewell", "title": "道别话术", "text": "再见"}
    )
    actions.save_case(
        supervisor,
        shop,
        {"kind": "success", "title": "化解差评", "situation": "差评", "handling": "补偿"},
    )
    actions.save_manual(
        supervisor, shop, {"kind": "service", "title": "服务手册", "body": f"# 总则\n- {XSS}"}
    )
    client = Client()
    client.force_login(supervisor)
    assert (
        "道别话术"
        in client.get("/knowledge/", {"tab": "scripts", "stage": "farewell"}).content.decode()
    )
    assert (
        "道别话术"
        not in client.get("/knowledge/", {"tab": "scripts", "stage": "greeting"}).content.decode()
    )
    assert "化解差评" in client.get("/knowledge/", {"tab": "cases"}).content.decode()
    manuals = client.get("/knowledge/", {"tab": "manuals"}).content.decode()
    assert "<h3>总则</h3>" in manuals and "<script>alert" not in manuals


def test_markdown_subset_is_safe():
    html = render_markdown("# 标题\n\n第一段 **重点**\n第二行\n\n- 一\n- 二\n1. 甲\n<b>x</b>")
    assert html == (
        "<h3>标题</h3>\n<p>第一段 <strong>重点</strong><br>第二行</p>\n"
        "<ul>\n<li>一</li>\n<li>二</li>\n</ul>\n<ol>\n<li>甲</li>\n</ol>\n<p>&lt;b&gt;x&lt;/b&gt;</p>"
    )
