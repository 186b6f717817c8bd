import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from kefu.knowledge import actions, search
from kefu.knowledge.models import Faq, KnowledgeRevision
from kefu.tests import factories as f

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def ids(results):
    return [result.faq.id for result in results]


@pytest.fixture
def kb(shop, supervisor, make_faq):
    shipping = make_faq(
        "什么时候发货？", paraphrases=["几天能发货", "多久发出"], answer="付款后 48 小时内发货。"
    )
    returns = make_faq(
        "可以七天无理由退货吗？",
        category="售后",
        paraphrases=["能退货吗", "不喜欢可以退吗"],
        answer="签收 7 天内、商品完好可无理由退货。",
    )
    english = make_faq(
        "How long does shipping take?",
        language="en",
        category="Shipping",
        paraphrases=["When will my order ship?"],
        answer="We ship within 48 hours of payment.",
    )
    return shipping, returns, english


def test_simplified_traditional_and_english_queries(shop, kb):
    shipping, returns, english = kb
    assert ids(search.search_faqs(shop.id, "几天发货", today=TODAY))[0] == shipping.id
    assert ids(search.search_faqs(shop.id, "甚麼時候發貨", today=TODAY))[0] == shipping.id
    assert ids(search.search_faqs(shop.id, "能退貨嗎", today=TODAY))[0] == returns.id
    top = search.search_faqs(shop.id, "when will you ship my order", today=TODAY)[0]
    assert top.faq.id == english.id and top.confidence > 0.5
    # Nothing shared with any FAQ: nothing a person should read.
    shown = search.DISPLAY_CONFIDENCE
    assert search.search_faqs(shop.id, "xyzzy", today=TODAY, min_confidence=shown) == []
    assert search.search_faqs(shop.id, "   ", today=TODAY) == []


def test_language_filter_and_k(shop, kb):
    shipping, _returns, english = kb
    assert ids(search.search_faqs(shop.id, "发货 ship", language="en", today=TODAY)) == [english.id]
    zh = search.search_faqs(shop.id, "发货 ship", language="zh-hans", today=TODAY)
    assert ids(zh)[0] == shipping.id
    assert {r.faq.language for r in zh} == {"zh-hans"}
    assert len(search.search_faqs(shop.id, "发货 退货 ship", k=1, today=TODAY)) == 1


def test_only_published_faqs_valid_today_are_found(shop, supervisor, make_faq):
    draft = make_faq("能开发票吗", status="draft")
    archived = make_faq("能开发票吗？专票", status="archived")
    promotion = make_faq(
        "618 活动满减怎么算",
        valid_from=dt.date(2026, 6, 1),
        valid_to=dt.date(2026, 6, 18),
        answer="满 300 减 30。",
    )
    assert search.search_faqs(shop.id, "能开发票吗", today=TODAY) == []
    assert ids(search.search_faqs(shop.id, "618 满减", today=dt.date(2026, 6, 1))) == [promotion.id]
    assert ids(search.search_faqs(shop.id, "618 满减", today=dt.date(2026, 6, 18))) == [
        promotion.id
    ]
    assert search.search_faqs(shop.id, "618 满减", today=dt.date(2026, 5, 31)) == []
    assert search.search_faqs(shop.id, "618 满减", today=dt.date(2026, 6, 19)) == []
    actions.publish_faq(supervisor, draft.id)
    assert ids(search.search_faqs(shop.id, "能开发票吗", today=TODAY)) == [draft.id]
    actions.archive_faq(supervisor, draft.id)
    assert search.search_faqs(shop.id, "能开发票吗", today=TODAY) == []
    assert archived.status == "archived"


def test_today_is_the_shops_date(shop, make_faq):
    from kefu.core.clock import FixedClock

    promotion = make_faq("双十一预售什么时候付尾款", valid_from=dt.date(2026, 11, 11))
    # 2026-11-10 17:00 UTC is already 11-11 01:00 in Shanghai.
    at = dt.datetime(2026, 11, 10, 17, 0, tzinfo=dt.UTC)
    assert ids(search.search_faqs(shop.id, "付尾款", clock=FixedClock(at))) == [promotion.id]
    before = dt.datetime(2026, 11, 10, 15, 0, tzinfo=dt.UTC)
    assert search.search_faqs(shop.id, "付尾款", clock=FixedClock(before)) == []


def test_synonyms_of_the_shop_are_used(shop, supervisor, make_faq):
    faq = make_faq("快递怎么查", answer="请在订单详情查看物流。")
    make_faq("可以开发票吗", answer="可以。")
    # No word or character of the query is in any FAQ yet.
    assert search.search_faqs(shop.id, "包裹", today=TODAY) == []
    actions.save_synonyms(supervisor, shop, [["快递", "包裹"]])
    found = search.search_faqs(shop.id, "包裹", today=TODAY)
    assert found[0].faq.id == faq.id


def test_other_shops_faqs_are_never_found(shop, other_shop, make_faq):
    make_faq("什么时候发货？", shop=other_shop)
    assert search.search_faqs(shop.id, "什么时候发货", today=TODAY) == []
    assert len(search.search_faqs(other_shop.id, "什么时候发货", today=TODAY)) == 1


def test_the_cache_is_rebuilt_when_the_revision_changes(shop, make_faq):
    """A change saved elsewhere (a raw update plus a revision bump, as another
    process's action would commit) is seen by the next search."""
    faq = make_faq("什么时候发货？")
    assert ids(search.search_faqs(shop.id, "发货", today=TODAY)) == [faq.id]
    built = search._cache._by_shop[shop.id]
    assert search.search_faqs(shop.id, "发货", today=TODAY)
    assert search._cache._by_shop[shop.id] is built  # same revision: not rebuilt
    Faq.objects.filter(id=faq.id).update(question="支持哪些付款方式", paraphrases=[])
    # Without a bump the cached index still answers (stale by design)…
    assert ids(search.search_faqs(shop.id, "发货", today=TODAY)) == [faq.id]
    KnowledgeRevision.objects.filter(shop=shop).update(revision=999)
    # …and one bump later every process rebuilds.
    assert search.search_faqs(shop.id, "发货", today=TODAY) == []
    assert ids(search.search_faqs(shop.id, "付款方式", today=TODAY)) == [faq.id]


def test_search_is_fast_once_built(shop, supervisor):
    for n in range(300):
        actions.save_faq(
            None,
            shop,
            {
                "category": "商品",
                "question": f"第{n}号商品的尺码怎么选",
                "answer": f"第{n}号商品按平时尺码选。",
                "status": "published",
            },
        )
    search.search_faqs(shop.id, "尺码", today=TODAY)
    started = time.perf_counter()
    for _ in range(20):
        found = search.search_faqs(shop.id, "第120号商品尺码", today=TODAY)
    per_search = (time.perf_counter() - started) / 20
    assert found[0].faq.question == "第120号商品的尺码怎么选"
    assert per_search < 0.05, f"{per_search * 1000:.1f} ms per search"


def test_quick_reply_search_shortcut_first_then_text(shop, supervisor, agent):
    colleague = f.make_agent(shop, status="offline")

    def reply(user, shortcut, title, text, personal=False):
        fields = {"category": "inquiry", "title": title, "shortcut": shortcut, "text": text}
        return actions.save_quick_reply(user, shop, fields, personal=personal)[0]

    by_text = reply(supervisor, "/size", "尺码", "发货前可以帮您改尺码")
    by_shortcut = reply(supervisor, "/fahuo", "发货时间", "付款后 48 小时内发货")
    mine = reply(agent, "/fa2", "我的发货话术", "亲，马上发货", personal=True)
    theirs = reply(colleague, "/fa3", "同事的发货话术", "发货啦", personal=True)
    assert [r.id for r in search.search_quick_replies(shop.id, agent, "/fa")] == [
        mine.id,
        by_shortcut.id,
    ]
    assert [r.id for r in search.search_quick_replies(shop.id, agent, "發貨")] == [
        by_text.id,
        by_shortcut.id,
        mine.id,
    ]
    # After the slash or without it, half-width, full-width or the IME's "、".
    for typed in ("fa", "/fa", "／fa", "、fa"):
        assert [r.id for r in search.search_quick_replies(shop.id, agent, typed)] == [
            mine.id,
            by_shortcut.id,
        ]
    # A customer's whole message ranks the replies that share most with it.
    suggested = search.suggest_quick_replies(shop.id, agent, "请问发货时间是多久")
    assert suggested[0] == by_shortcut and theirs not in suggested
    assert search.suggest_quick_replies(shop.id, agent, "xyz") == []
    # Category of the message's intent first, even with little text in common.
    assert search.suggest_quick_replies(
        shop.id, agent, "尺码偏大吗", categories=("inquiry",), limit=1
    ) == [by_text]
    assert theirs.id not in [r.id for r in search.search_quick_replies(shop.id, agent, "")]
    # Variables are not text: "agent" does not find every reply with {agent_name}.
    named = reply(supervisor, "/hi", "问候", "您好，我是{agent_name}")
    assert named not in search.search_quick_replies(shop.id, agent, "agent")
    assert search.search_quick_replies(shop.id, agent, "我是") == [named]
    assert [r.id for r in search.search_quick_replies(shop.id, None, "/fa")] == [by_shortcut.id]


def test_scripts_cases_manuals_search_folds_traditional(shop, supervisor):
    actions.save_script(
        supervisor, shop, {"stage": "bargaining", "title": "议价", "text": "价格优惠"}
    )
    actions.save_script(
        supervisor, shop, {"stage": "farewell", "title": "道别", "text": "欢迎再来"}
    )
    assert [s.title for s in search.search_scripts([shop.id], "價格")] == ["议价"]
    assert [s.title for s in search.search_scripts([shop.id], stage="farewell")] == ["道别"]
    actions.save_case(
        supervisor,
        shop,
        {
            "kind": "failure",
            "title": "发错货",
            "situation": "发错颜色",
            "handling": "补发",
            "tags": ["物流"],
        },
    )
    assert [c.title for c in search.search_cases([shop.id], "物流")] == ["发错货"]
    actions.save_manual(
        supervisor, shop, {"kind": "returns", "title": "退换货手册", "body": "七天无理由"}
    )
    assert [m.title for m in search.search_manuals([shop.id], "無理由")] == ["退换货手册"]
    assert search.search_manuals([shop.id], "发票") == []


def _database_url() -> str:
    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings['NAME']}"
    return (
        f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST'] or 'localhost'}"
        f":{settings['PORT'] or 5432}/{settings['NAME']}"
    )


SECOND_PROCESS = """
import django
django.setup()
from kefu.accounts.models import Shop
from kefu.knowledge import actions
shop = Shop.objects.get(slug="warm-home")
actions.save_faq(None, shop, {"category": "售后", "question": "可以无理由退款吗",
                 "answer": "可以。", "status": "published"})
"""


@pytest.mark.backend
@pytest.mark.django_db(transaction=True)
def test_a_second_process_change_is_seen(shop, make_faq):
    make_faq("什么时候发货？")
    # Nothing in the index shares a character with the query yet.
    assert search.search_faqs(shop.id, "无理由退款", today=TODAY) == []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kefu.settings.test",
        "KEFU_DATABASE_URL": _database_url(),
    }
    subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS],
        env=env,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
        timeout=120,
    )
    found = search.search_faqs(shop.id, "无理由退款", today=TODAY)
    assert found[0].faq.question == "可以无理由退款吗"
