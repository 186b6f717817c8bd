"""The guard engine on small inline rule sets (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kefu.compliance.guard.context import GuardContext, OrderFacts
from kefu.compliance.guard.engine import Guard, RuleError, RuleSpec, compile_regex, validate
from kefu.compliance.guard.normalize import fold


def rule(**fields) -> RuleSpec:
    base = {"code": "r", "family": "custom", "kind": "phrases", "severity": "warn"}
    base["explanation"] = "说明"
    base["explanation_en"] = "why"
    base.update(fields)
    return RuleSpec.from_mapping(base)


def found(guard: Guard, text: str, context: GuardContext | None = None) -> list[tuple]:
    screening = guard.screen(text, context or GuardContext())
    return [(f.rule, f.severity, text[f.start : f.end]) for f in screening.findings]


DANGER = rule(
    code="danger",
    family="danger_phrase",
    phrases=["这不是我的责任 => 我会帮您联系相关部门", "not my problem => let me help"],
)
ABSOLUTE = rule(
    code="absolute",
    family="absolute_claim",
    phrases=["第一", "一定", "最低价", "100%", "best"],
    exceptions=["第一次", "第一时间", "不一定", "100%棉"],
)
WECHAT = rule(
    code="wechat",
    family="off_platform",
    kind="regex",
    severity="block",
    patterns=[r"加\s*(?:我)?\s*(?:微信|vx|v信)"],
)


def test_fold_keeps_every_character_in_place():
    for text in ["這不是我的責任", "ＡＢＣ１２３，加我ＶＸ", "Hello WORLD", "普通文本"]:
        assert len(fold(text)) == len(text)
    assert fold("這不是我的責任") == "这不是我的责任"
    assert fold("ＡＢＣ１２３") == "abc123"


def test_phrases_with_replacement_and_spans_in_the_original_text():
    guard = Guard([DANGER])
    text = "亲，這不是我的責任哦"
    screening = guard.screen(text)
    [finding] = screening.findings
    assert text[finding.start : finding.end] == "這不是我的責任"
    assert finding.suggestion == "我会帮您联系相关部门"
    assert finding.severity == "warn" and not screening.blocked


def test_english_phrases_match_whole_words_case_insensitively():
    guard = Guard([DANGER, ABSOLUTE])
    assert found(guard, "Sorry, NOT MY PROBLEM.") == [("danger", "warn", "NOT MY PROBLEM")]
    assert found(guard, "our bestseller") == []  # "best" inside a word
    assert found(guard, "the best one") == [("absolute", "warn", "best")]


def test_exceptions_let_factual_uses_pass():
    guard = Guard([ABSOLUTE])
    assert found(guard, "您是第一次购买吗？我们第一时间处理") == []
    assert found(guard, "不一定哦") == []
    assert found(guard, "面料是100%棉的") == []
    assert found(guard, "全网最低价，销量第一，一定满意") == [
        ("absolute", "warn", "最低价"),
        ("absolute", "warn", "第一"),
        ("absolute", "warn", "一定"),
    ]


def test_regex_rules_block_and_full_width_is_folded():
    guard = Guard([WECHAT, ABSOLUTE])
    screening = guard.screen("加我ＶＸ详聊")
    assert screening.blocked
    assert [(f.rule, "加我ＶＸ详聊"[f.start : f.end]) for f in screening.findings] == [
        ("wechat", "加我ＶＸ")
    ]


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)\1", r"foo(?=bar)", r"(?<!x)y", "(" * 10, "x" * 600],
)
def test_expressions_re2_cannot_run_are_refused_at_compile(pattern):
    with pytest.raises(RuleError):
        compile_regex(pattern)
    assert validate(rule(kind="regex", patterns=[pattern]))


def test_a_catastrophic_backtracking_pattern_runs_in_linear_time():
    guard = Guard([rule(kind="regex", patterns=[r"(a+)+$"])])
    # Exponential for a backtracking engine; RE2 answers at once.
    assert found(guard, "a" * 5000 + "!") == []


def test_validate_checks_the_rules_own_examples():
    good = rule(
        phrases=["滚"], examples_match=["你滚吧"], examples_pass=["滚筒洗衣机"], exceptions=["滚筒"]
    )
    assert validate(good) == []
    bad = rule(phrases=["滚"], examples_match=["没有"], examples_pass=["滚筒洗衣机"])
    problems = validate(bad)
    assert any("must match" in p for p in problems)
    assert any("must pass" in p for p in problems)
    assert validate(rule(kind="detector", detector="nope"))
    assert validate(rule(severity="fatal"))


def test_explanations_in_the_agents_language():
    guard = Guard([DANGER])
    assert guard.screen("这不是我的责任", language="en").findings[0].message == "why"
    assert guard.screen("这不是我的责任", language="zh-hans").findings[0].message == "说明"


# --- Detectors --------------------------------------------------------------------------


def detector_rule(name: str) -> RuleSpec:
    return rule(code=name, family=name, kind="detector", detector=name, severity="block")


SHOP = GuardContext(facts=True, free_shipping="mainland", agent_level="junior")


def test_free_shipping_refusal_blocks_only_when_the_shop_advertises_it():
    guard = Guard([detector_rule("free_shipping")])
    text = "亲，到西藏要加运费的，不能包邮"
    assert {s for _r, s, _t in found(guard, text, SHOP)} == {"block"}
    # Without facts: reported, never blocking.
    assert {s for _r, s, _t in found(guard, text)} == {"warn"}
    none = GuardContext(facts=True, free_shipping="none")
    assert found(guard, text, none) == []
    assert found(guard, "新疆西藏也包邮的亲，不用加运费", SHOP) == []
    assert found(guard, "不能包邮的是海外地址", SHOP) == []  # no remote region named


def test_shipping_promises_past_the_shops_limit():
    guard = Guard([detector_rule("shipping_promise")])
    assert found(guard, "这款要15天后才能发货", SHOP) == [
        ("shipping_promise", "block", "15天后才能发货")
    ]
    assert found(guard, "下个月才发哦", SHOP)
    assert found(guard, "3天内发货", SHOP) == []
    assert found(guard, "48小时内发货", SHOP) == []
    assert found(guard, "4天后发货", GuardContext(facts=True, ship_within_hours=120)) == []
    assert found(guard, "we ship within 10 days", SHOP)
    # A date is not a duration: "12月9日" is neither 12 months nor 9 days.
    assert found(guard, "会在 12月09日 21:39 前发货", SHOP) == []
    assert found(guard, "12月9日前发出", SHOP) == []
    assert found(guard, "要2个月后才能发出", SHOP)


def test_concessions_beyond_the_agents_authority():
    guard = Guard([detector_rule("authority")])
    assert found(guard, "给您打五折", SHOP) == [("authority", "block", "给您打五折")]
    assert found(guard, "给您打九五折", SHOP) == []  # 5 % off: within a junior's 5 %
    assert found(guard, "补偿您200元", SHOP)
    assert found(guard, "补偿您5元", SHOP) == []
    senior = GuardContext(facts=True, agent_level="advanced")
    assert found(guard, "给您打八五折", senior) == []
    assert found(guard, "不打折的亲", SHOP) == []
    # A discount in yuan is judged against the order's paid amount.
    order = GuardContext(facts=True, order=OrderFacts(paid=Decimal("1000")))
    assert found(guard, "给您优惠30元", order) == []
    assert found(guard, "给您优惠300元", order)


def test_two_digit_discounts_and_refused_concessions():
    guard = Guard([detector_rule("authority")])
    # "95折" is 9.5 (5 % off, a junior's limit), not the "5折" inside it.
    assert found(guard, "可以给您打个95折，这是我权限内的", SHOP) == []
    assert found(guard, "给您85折", SHOP) == [("authority", "block", "85折")]
    # Named to refuse it, in the same sentence: not granted.
    assert found(guard, "五折这个我真做不了，最多能给您申请95折", SHOP) == []
    assert found(guard, "您要求的三倍赔偿我没法答应", SHOP) == []
    assert found(guard, "50% off isn't something I can do.", SHOP) == []
    # A refusal of something else later on does not excuse the grant.
    assert found(guard, "给您打五折。退货的话我们没法上门取件", SHOP) == [
        ("authority", "block", "给您打五折")
    ]
    assert found(guard, "给您打五折，不能再低了", SHOP) == [("authority", "block", "给您打五折")]
    # Refusing more than the grant, in its clause or the next, grants it still.
    for text in (
        "给您打五折，没法再低了",
        "可以给您打1.5折，其他我给不了",
        "给您补偿500元红包，再多我就没办法了",
        "I'll give you 50% off, I can't do more than that.",
        "给您打五折再多我就没办法了",
    ):
        assert found(guard, text, SHOP), text
    assert found(guard, "给您打0.5折", SHOP) == [("authority", "block", "给您打0.5折")]
    assert found(guard, "这款10折不打折", SHOP) == []


def test_invoices_that_differ_from_the_order():
    guard = Guard([detector_rule("invoice")])
    order = OrderFacts(paid=Decimal("100"), categories=("化妆品",))
    facts = GuardContext(facts=True, order=order)
    assert found(guard, "可以给您开500元的发票", facts)[0][1] == "block"
    assert found(guard, "按实际金额开100元的发票", facts) == []
    assert found(guard, "可以开成文具发票", facts)
    assert found(guard, "发票内容可以随便写", facts)
    # Without the order: reported as a warning only.
    assert {s for _r, s, _t in found(guard, "可以给您开500元的发票")} == {"warn"}
    assert found(guard, "开发票要加6个点", facts)[0][1] == "block"
    assert found(guard, "发票按您实际支付的金额开具", facts) == []


def test_offers_said_in_the_negative_pass():
    guard = Guard([WECHAT])
    assert found(guard, "我们不会让您加微信私下交易哦") == []
    assert found(guard, "好的，加我微信") == [("wechat", "block", "加我微信")]
    assert found(guard, "不用在这里聊，加我微信") == [("wechat", "block", "加我微信")]


def test_scam_warnings_pass():
    guard = Guard([WECHAT])
    # A scam word before the match, or after it in the same clause.
    assert found(guard, "骗子会冒充客服让您加微信，请当心") == []
    assert found(guard, "如果有人让您加微信办理退款，请不要理会") == []
    assert found(guard, "让您加微信的都是骗子") == []
    # In another clause it says nothing about the offer.
    assert found(guard, "外面骗子多，加我微信") == [("wechat", "block", "加我微信")]


def test_free_shipping_needs_the_region_in_the_same_sentence_and_not_returns():
    guard = Guard([detector_rule("free_shipping")])
    text = "寄回运费由您承担。新品我们包邮寄出（新疆、西藏除外）"
    # The first sentence is about returns; the second refuses free shipping.
    assert [t for _r, _s, t in found(guard, text, SHOP)] == ["除外"]
    except_remote = GuardContext(facts=True, free_shipping="except_remote")
    assert found(guard, text, except_remote) == []


def test_free_shipping_refusals_across_an_english_sentence_or_a_line():
    guard = Guard([detector_rule("free_shipping")])
    # Only Chinese stops and new lines end the region's sentence here.
    assert found(guard, "Shipping to Xinjiang. Extra fee of 20 yuan applies.", SHOP)
    assert found(guard, "新疆需要加\n运费哦", SHOP)


def test_an_authority_limit_the_shop_left_out_is_the_levels_default():
    partial = {"senior": {"discount_percent": 12}}
    senior = GuardContext(facts=True, authority_limits=partial, agent_level="senior")
    assert senior.limit("discount_percent") == 12
    assert senior.limit("compensation_yuan") == 30  # the senior default, not the junior 10
    assert GuardContext(agent_level="nobody").limit("compensation_yuan") == 10


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("给您补偿现金一千五百元，您看可以吗", True),
        ("I will reimburse you 300 yuan for the trouble.", True),
        ("每延误一天赔您订单金额的5%", True),
        ("按平台规则可以补偿您5元无门槛券", False),
        ("您付了500元，我这边已经全额退款500元了", False),
    ],
)
def test_round8_authority_grant_grammar(text: str, flagged: bool) -> None:
    from kefu.compliance.guard.detectors import get

    detector = get("authority")
    assert detector is not None
    assert bool(detector.run(text, fold(text), GuardContext())) is flagged
