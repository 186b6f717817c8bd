"""The demo shop's own knowledge base passes its compliance rules: the bot
never hands off because of an answer the shop wrote, and agents inserting a
quick reply see no finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kefu.compliance import actions
from kefu.compliance.demo import load_compliance_demo
from kefu.tests import factories as f

KB = Path(__file__).resolve().parents[2] / "knowledge" / "demo" / "kb.json"

pytestmark = pytest.mark.django_db

DEMO_MODEL_WARNINGS = {
    "Hello, welcome to our home-tex": {"off_platform_learned"},
    "We're the brand's official fla": {"off_platform_learned"},
    "Yes, our store offers price pr": {"off_platform_learned"},
    # Rounds 10–12: the authority and invoice models read only the sentences
    # with one of their trigger words; a long sales answer that offers a gift
    # and says "claim the store coupon", a delay apology that says "不用承担任何
    # 损失", and the English stock answer (its bulk-order sentence names a
    # quantity) draw notes.
    "You have a good eye — this is ": {"authority_learned", "invoice_learned"},
    "亲，非常抱歉让您久等了！我查到您的包裹在中转站停留时间较长，": {"authority_learned"},
    "Any size or color you can sele": {"invoice_learned"},
}


def test_demo_knowledge_base_passes_the_demo_rules():
    shop = f.make_shop(slug="demo")
    settings = load_compliance_demo(shop)
    assert settings.free_shipping == "except_remote"
    kb = json.loads(KB.read_text("utf-8"))
    texts = [faq["answer"] for faq in kb["faqs"]]
    texts += [reply["text"] for reply in kb["quick_replies"]]
    texts += [script["text"] for script in kb["scripts"]]
    flagged: dict[str, list[tuple[str, str]]] = {}
    warned: dict[str, set[str]] = {}
    for text in texts:
        screening = actions.screen_outgoing(text, shop_id=shop.id, agent_level="junior")
        for finding in screening.findings:
            if finding.rule.endswith("_learned") and finding.severity == "log":
                warned.setdefault(text[:30], set()).add(finding.rule)
            else:
                flagged.setdefault(text[:40], []).append(
                    (finding.rule, text[finding.start : finding.end])
                )
    assert flagged == {}
    # The learned detectors' false alarms on the shop's long answers (a genre
    # their training lacks; docs/BENCHMARKS.md): noted for QA only ("log"),
    # never a warning or a block.
    assert warned == DEMO_MODEL_WARNINGS
    # The same shop blocks what its rules forbid.
    assert actions.screen_outgoing("加我微信详聊", shop_id=shop.id).blocked
