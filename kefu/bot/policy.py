"""The bot's one decision per customer message: answer, or hand off and why.
Pure: everything it needs is passed in, so every rule is tested alone."""

from __future__ import annotations

from dataclasses import dataclass

from .analysis import INTENT_CONFIDENT, Analysis
from .models import Feedback, HandoffReason, Outcome


@dataclass(frozen=True)
class PastTurn:
    intent: str
    outcome: str
    feedback: str


# Greetings and thanks get the bot's own short reply instead of a handoff.
SMALL_TALK = frozenset({"greeting", "thanks"})
SMALL_TALK_CONFIDENT = 0.8
# When the best FAQ is filed under the intent the classifier is sure of, two
# independent models agree, and the FAQ may answer this much below the threshold.
AGREEMENT_CONFIDENT = 0.9
AGREEMENT_MARGIN = 0.15


@dataclass(frozen=True)
class Decision:
    outcome: str
    reason: str = ""
    small_talk: str = ""  # the intent whose canned reply answers (no FAQ)


def unaccepted_answers(history: list[PastTurn], current_intent: str) -> int:
    """Answers the customer did not accept: marked "not solved", or followed by
    the same intent asked again (the current message included)."""
    if not history:
        return 0
    count = 0
    following = [t.intent for t in history[1:]] + [current_intent]
    for turn, next_intent in zip(history, following, strict=True):
        if turn.outcome != Outcome.ANSWERED or turn.feedback == Feedback.ACCEPTED:
            continue
        if turn.feedback == Feedback.REJECTED or (turn.intent and turn.intent == next_intent):
            count += 1
    return count


def decide(
    analysis: Analysis,
    *,
    threshold: float,
    max_unaccepted: int,
    handoff_vip: bool,
    handoff_negative: bool,
    is_vip: bool,
    handoff_intents: frozenset[str],
    history: list[PastTurn],
) -> Decision:
    def handoff(reason: str) -> Decision:
        return Decision(Outcome.HANDOFF, reason)

    if analysis.human_request:
        return handoff(HandoffReason.HUMAN_REQUEST)
    if analysis.intent in handoff_intents and analysis.intent_confidence >= INTENT_CONFIDENT:
        return handoff(HandoffReason.INTENT)
    if handoff_negative and (analysis.angry or analysis.sentiment == "negative"):
        return handoff(HandoffReason.NEGATIVE)
    if handoff_vip and is_vip:
        return handoff(HandoffReason.VIP)
    if unaccepted_answers(history, analysis.intent) >= max_unaccepted:
        return handoff(HandoffReason.NOT_RESOLVED)
    if analysis.hits and analysis.top_confidence >= threshold:
        return Decision(Outcome.ANSWERED)
    if (
        analysis.hits
        and intents_agree(analysis)
        and (analysis.top_confidence >= threshold - AGREEMENT_MARGIN)
    ):
        return Decision(Outcome.ANSWERED)
    if analysis.intent in SMALL_TALK and analysis.intent_confidence >= SMALL_TALK_CONFIDENT:
        return Decision(Outcome.ANSWERED, small_talk=analysis.intent)
    return handoff(HandoffReason.LOW_CONFIDENCE)


def intents_agree(analysis: Analysis) -> bool:
    faq_intent = getattr(analysis.hits[0].faq, "intent", "") if analysis.hits else ""
    return bool(
        faq_intent
        and faq_intent == analysis.intent
        and analysis.intent_confidence >= AGREEMENT_CONFIDENT
    )
