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


@dataclass(frozen=True)
class Decision:
    outcome: str
    reason: str = ""


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
    return handoff(HandoffReason.LOW_CONFIDENCE)
