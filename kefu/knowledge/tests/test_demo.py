import json

import pytest

from kefu.knowledge import search
from kefu.knowledge.demo import DEMO_FILE, load_demo_knowledge
from kefu.knowledge.models import Case, Faq, FaqVersion, Manual, QuickReply, Script, Synonym

pytestmark = pytest.mark.django_db

SAMPLE = {
    "synonyms": [["快递", "物流", "包裹"]],
    "faqs": [
        {
            "key": "shipping_time",
            "language": "zh-hans",
            "category": "物流",
            "intent": "shipping_time",
            "question": "什么时候发货？",
            "paraphrases": ["几天发货"],
            "answer": "付款后 48 小时内发货。",
            "valid_from": None,
            "valid_to": None,
            "review_days": 90,
        },
        {
            "key": "promo",
            "language": "en",
            "category": "Promotions",
            "intent": "",
            "question": "Is there a discount?",
            "paraphrases": [],
            "answer": "10% off this month.",
            "valid_from": "2020-01-01",
            "valid_to": None,
            "review_days": 30,
        },
    ],
    "quick_replies": [
        {
            "category": "greeting",
            "title": "问候",
            "shortcut": "/hi",
            "text": "您好",
            "language": "zh-hans",
        }
    ],
    "scripts": [{"stage": "farewell", "title": "道别", "text": "欢迎再来", "language": "zh-hans"}],
    "cases": [
        {
            "kind": "success",
            "title": "化解差评",
            "situation": "差评",
            "handling": "补偿",
            "lesson": "先处理情绪",
            "tags": ["差评"],
            "language": "zh-hans",
        }
    ],
    "manuals": [{"kind": "service", "title": "服务手册", "body": "# 总则", "language": "zh-hans"}],
}


def counts():
    return [m.objects.count() for m in (Faq, FaqVersion, QuickReply, Script, Case, Manual, Synonym)]


def test_loader_is_idempotent(shop, tmp_path):
    path = tmp_path / "kb.json"
    path.write_text(json.dumps(SAMPLE, ensure_ascii=False), encoding="utf-8")
    created = load_demo_knowledge(shop, path=path)
    assert created == {
        "faqs": 2,
        "quick_replies": 1,
        "scripts": 1,
        "cases": 1,
        "manuals": 1,
        "synonyms": 1,
    }
    assert counts() == [2, 2, 1, 1, 1, 1, 1]
    faq = Faq.objects.get(language="zh-hans")
    assert faq.status == "published" and faq.review_due is not None
    assert load_demo_knowledge(shop, path=path) == dict.fromkeys(created, 0)
    assert counts() == [2, 2, 1, 1, 1, 1, 1]
    assert search.search_faqs(shop.id, "物流几天发", k=1)[0].faq == faq


def test_missing_file_loads_nothing(shop, tmp_path):
    assert sum(load_demo_knowledge(shop, path=tmp_path / "none.json").values()) == 0


@pytest.mark.skipif(not DEMO_FILE.is_file(), reason="the demo knowledge file is not written yet")
def test_the_shipped_demo_file_loads(shop):
    created = load_demo_knowledge(shop)
    assert created["faqs"] > 0
    assert Faq.objects.filter(status="published").count() == created["faqs"]
    assert sum(load_demo_knowledge(shop).values()) == 0
