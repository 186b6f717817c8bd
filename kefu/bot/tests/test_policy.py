"""Every rule of the bot's answer-or-hand-off decision, alone."""

import pytest

from kefu.bot.analysis import Analysis, asks_for_human
from kefu.bot.models import Feedback, HandoffReason, Outcome
from kefu.bot.policy import PastTurn, decide, unaccepted_answers


class Faq:
    def __init__(self, intent=""):
        self.intent = intent


class Hit:
    def __init__(self, confidence, intent=""):
        self.confidence = confidence
        self.faq = Faq(intent)


def analysis(**fields):
    base = {"text": "x", "language": "zh-hans", "hits": [Hit(0.9)]}
    base.update(fields)
    return Analysis(**base)


def run(found, **overrides):
    options = {
        "threshold": 0.6,
        "max_unaccepted": 2,
        "handoff_vip": True,
        "handoff_negative": True,
        "is_vip": False,
        "handoff_intents": frozenset({"complaint"}),
        "history": [],
    }
    options.update(overrides)
    return decide(found, **options)


ANSWERED = PastTurn("refund", Outcome.ANSWERED, "")


def test_confident_answer_is_given():
    assert run(analysis()).outcome == Outcome.ANSWERED


def test_below_threshold_hands_off():
    decision = run(analysis(hits=[Hit(0.59)]))
    assert (decision.outcome, decision.reason) == (Outcome.HANDOFF, HandoffReason.LOW_CONFIDENCE)
    assert run(analysis(hits=[])).reason == HandoffReason.LOW_CONFIDENCE


@pytest.mark.parametrize(
    "fields, overrides, reason",
    [
        ({"human_request": True}, {}, HandoffReason.HUMAN_REQUEST),
        ({"intent": "complaint", "intent_confidence": 0.8}, {}, HandoffReason.INTENT),
        ({"sentiment": "negative"}, {}, HandoffReason.NEGATIVE),
        ({"angry": True}, {}, HandoffReason.NEGATIVE),
        ({}, {"is_vip": True}, HandoffReason.VIP),
        ({"intent": "refund"}, {"history": [ANSWERED, ANSWERED]}, HandoffReason.NOT_RESOLVED),
    ],
)
def test_handoff_rules(fields, overrides, reason):
    decision = run(analysis(**fields), **overrides)
    assert (decision.outcome, decision.reason) == (Outcome.HANDOFF, reason)


def test_agreeing_intent_lowers_the_bar_a_little():
    agreeing = analysis(hits=[Hit(0.8, "refund")], intent="refund", intent_confidence=0.95)
    assert run(agreeing, threshold=0.9).outcome == Outcome.ANSWERED
    unsure = analysis(hits=[Hit(0.8, "refund")], intent="refund", intent_confidence=0.6)
    assert run(unsure, threshold=0.9).reason == HandoffReason.LOW_CONFIDENCE
    other = analysis(hits=[Hit(0.8, "return")], intent="refund", intent_confidence=0.95)
    assert run(other, threshold=0.9).reason == HandoffReason.LOW_CONFIDENCE
    too_low = analysis(hits=[Hit(0.7, "refund")], intent="refund", intent_confidence=0.95)
    assert run(too_low, threshold=0.9).reason == HandoffReason.LOW_CONFIDENCE


@pytest.mark.parametrize("intent", ["greeting", "thanks"])
def test_greetings_and_thanks_get_a_short_reply(intent):
    decision = run(analysis(hits=[], intent=intent, intent_confidence=0.95))
    assert (decision.outcome, decision.small_talk) == (Outcome.ANSWERED, intent)
    # An FAQ that answers wins; an unsure greeting is handed off.
    assert run(analysis(intent=intent, intent_confidence=0.95)).small_talk == ""
    unsure = run(analysis(hits=[], intent=intent, intent_confidence=0.5))
    assert unsure.reason == HandoffReason.LOW_CONFIDENCE
    # Asking for a person still comes first.
    hello_human = analysis(hits=[], intent=intent, intent_confidence=0.95, human_request=True)
    assert run(hello_human).reason == HandoffReason.HUMAN_REQUEST


def test_shop_switches_turn_rules_off():
    assert run(analysis(sentiment="negative"), handoff_negative=False).outcome == "answered"
    assert run(analysis(), is_vip=True, handoff_vip=False).outcome == "answered"


def test_unsure_complaint_intent_does_not_hand_off():
    assert run(analysis(intent="complaint", intent_confidence=0.3)).outcome == "answered"


def test_unaccepted_counts_rejections_and_repeats_but_not_accepted():
    rejected = PastTurn("size", Outcome.ANSWERED, Feedback.REJECTED)
    accepted = PastTurn("refund", Outcome.ANSWERED, Feedback.ACCEPTED)
    handoff = PastTurn("refund", Outcome.HANDOFF, "")
    assert unaccepted_answers([], "refund") == 0
    assert unaccepted_answers([ANSWERED], "refund") == 1  # same intent asked again
    assert unaccepted_answers([ANSWERED], "size") == 0
    assert unaccepted_answers([rejected, ANSWERED], "refund") == 2
    assert unaccepted_answers([accepted], "refund") == 0
    assert unaccepted_answers([handoff], "refund") == 0
    # One unaccepted answer is not yet enough with the default of two.
    assert run(analysis(intent="refund"), history=[ANSWERED]).outcome == "answered"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("转人工", True),
        ("我要人工客服", True),
        ("轉人工", True),
        ("can I talk to a human please", True),
        ("I want an AGENT", True),
        ("Talk to someone", True),
        ("这个被子多少钱", False),
        ("is this duvet humane to geese", False),
        ("reagents", False),
    ],
)
def test_asking_for_a_person(text, expected):
    assert asks_for_human(text) is expected


def test_shop_default_threshold_is_the_one_the_evaluation_chose():
    from kefu.bot.models import DEFAULT_ANSWER_THRESHOLD, BotSettings
    from kefu.bot.nlp.faq import DEFAULT_ANSWER_THRESHOLD as EVALUATED

    assert DEFAULT_ANSWER_THRESHOLD == EVALUATED
    assert BotSettings().answer_threshold == EVALUATED
