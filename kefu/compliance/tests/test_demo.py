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
    "Hello, welcome to our home-tex": "off_platform_learned",
    "We're the brand's official fla": "off_platform_learned",
    "Yes, our store offers price pr": "off_platform_learned",
    # Round 9: a campaign and two compensation processes, described at length.
    "The Double 11 campaign runs fr": "authority_learned",
    "We're sorry for the trouble. P": "authority_learned",
    "We're very sorry for the wait.": "authority_learned",
}


def test_demo_knowledge_base_passes_the_demo_rules():
    shop = f.make_shop(slug="demo")
    settings = load_compliance_demo(shop)
    assert settings.free_shipping == "except_remote"
    kb = json.loads(KB.read_text("utf-8"))
    texts = [faq["answer"] for faq in kb["faqs"]]
    texts += [reply["text"] for reply in kb["quick_replies"]]
    texts += [script["text"] for script in kb["scripts"]]
    flagged = {}
    warned = {}
    for text in texts:
        screening = actions.screen_outgoing(text, shop_id=shop.id, agent_level="junior")
        for finding in screening.findings:
            if finding.rule.endswith("_learned") and finding.severity == "log":
                warned[text[:30]] = finding.rule
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
