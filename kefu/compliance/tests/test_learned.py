"""The learned detectors (guard/learned.py, rules/guard_model.json): the
shipped weights are what scripts/train_guard_model.py produces, and the
detectors catch wordings the rules miss, warn only, on the clause, and let
negations and exceptions pass like the rules."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

from kefu.compliance.guard import detectors
from kefu.compliance.guard.defaults import default_specs
from kefu.compliance.guard.engine import Guard
from kefu.compliance.guard.learned import FamilyModel, Window, models
from kefu.compliance.guard.normalize import fold, sentences_around

ROOT = Path(__file__).resolve().parents[3]
SPECS = {spec.code: spec for spec in default_specs()}
LEARNED = Guard([SPECS["off_platform_learned"], SPECS["card_fee_learned"]])


def found(guard: Guard, text: str) -> list[tuple[str, str, str]]:
    return [(f.rule, f.severity, text[f.start : f.end]) for f in guard.screen(text).findings]


def test_shipped_weights_are_what_the_training_script_writes():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_guard_model.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "up to date"


def test_the_model_file_loads_every_family():
    loaded = models()
    assert sorted(loaded) == ["authority", "card_fee", "invoice", "off_platform"]
    for model in loaded.values():
        assert 1000 <= len(model.weights) <= 4000
        assert -1 <= model.threshold <= 1.5


def test_catches_wordings_the_rules_miss_as_a_warning_on_the_clause():
    text = "亲，您换个聊天软件找我吧，这边不方便说"
    assert found(Guard([SPECS["off_platform"]]), text) == []
    assert found(LEARNED, text) == [("off_platform_learned", "log", "找我吧")]
    text = "Sure. Paying by card costs you a bit extra for the bank fee."
    assert found(Guard([SPECS["card_fee"]]), text) == []
    assert found(LEARNED, text) == [
        ("card_fee_learned", "log", "card costs you a bit extra for the bank fee")
    ]


def test_reassurances_and_ordinary_messages_pass():
    for text in (
        "我们不会让您私下转账，请放心",
        "我们不会追加任何手续费",
        "本店支持花呗分期免息",
        "您好，请问有什么可以帮您？",
        "快递员会打电话联系您",
    ):
        assert found(LEARNED, text) == [], text


def test_the_engines_negation_applies_to_the_models_clause():
    text = "加我那个绿色图标的号，发您实拍"
    assert found(LEARNED, text) == [("off_platform_learned", "log", "加我那个绿色图标的号")]
    # The model alone would flag the clause; the negation before it lets it pass.
    negated = "请勿加我那个绿色图标的号"
    assert models()["off_platform"].find(fold(negated)) is not None
    assert found(LEARNED, negated) == []


def test_exceptions_apply_to_the_models_findings():
    text = "加我那个绿色图标的号，发您实拍"
    spec = dataclasses.replace(SPECS["off_platform_learned"], exceptions=("加我那个绿色图标的号",))
    assert found(Guard([spec]), text) == []


def test_the_model_runs_only_after_its_triggers():
    text = "有问题随时在这里找我，我都在线"
    detector = detectors.get("learned_off_platform")
    assert detector is not None
    assert not any(re.search(p, fold(text)) for p in detector.trigger_patterns)
    assert found(LEARNED, text) == []


def test_the_families_share_one_scan_and_score_as_if_alone():
    loaded = models()
    scanners = {id(model.scanner) for model in loaded.values()}
    assert len(scanners) == 1
    texts = ["亲，发票金额给您开到1000整", "加我微信，转账打八折", "Sure, I'll refund you double."]
    for family, model in loaded.items():
        alone = FamilyModel(family, model.weights, model.bias, model.threshold, window=model.window)
        for text in texts:
            norm = fold(text)
            assert abs(model.score(norm) - alone.score(norm)) < 1e-9, (family, text)
            assert model.find(norm) == alone.find(norm)


def test_the_invoice_model_reads_only_the_sentences_with_an_invoice_word():
    invoice = models()["invoice"]
    assert invoice.window is not None
    sentence = "金额给您开到1000整，报销方便。"
    other = "这款四件套是新疆长绒棉的，手感很柔软。亲，活动今晚十二点结束哦。"
    alone = invoice.score(fold(sentence))
    # Sentences without a trigger word, before or after, change nothing.
    assert abs(invoice.score(fold(other + sentence)) - alone) < 1e-9
    assert abs(invoice.score(fold(sentence + other)) - alone) < 1e-9
    text = other + sentence
    start, end = invoice.find(fold(text)) or (0, 0)
    assert start >= len(other) and text[start:end] in sentence
    # No trigger word: nothing to read.
    assert invoice.part(fold(other)) == ("", 0)


def test_a_window_word_matches_whole_in_english_and_anywhere_in_chinese():
    window = Window(("tax", "发票"), (r"开\s*[0-9]",))
    assert window.span("the taxi is here") is None
    assert window.span("tax included") == (0, 3)
    assert window.span("retax") is None
    assert window.span("开发票") == (1, 3)
    assert window.span("可以开300") == (2, 4)
    # From the first trigger to the last: "发票" … "开3".
    assert window.span("发票。好的。开3张") == (0, 8)
    # A decimal point is not a sentence end: "打9.5折" is read whole.
    assert sentences_around("好的，可以给您打9.5折吧。", 10, 12) == (0, 14)
    text = "你好。发票按实付开。谢谢! Bye. tax ok."
    assert sentences_around(text, 3, 5) == (3, 10)
    assert sentences_around(text, text.index("tax"), text.index("tax") + 3) == (
        text.index("tax"),
        len(text),
    )
