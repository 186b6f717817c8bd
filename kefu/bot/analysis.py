"""What the bot and agent assist know about one customer message: intent,
sentiment, whether a person was asked for, and the best knowledge-base answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kefu.bot.nlp.text import language_of, normalize

from . import training

# Asking for a person. Matched on normalized text (simplified, lower case), so
# 轉人工 and "HUMAN" count too. Short words match whole, to spare "humane".
HUMAN_PHRASES = (
    "转人工",
    "人工客服",
    "人工服务",
    "找人工",
    "要人工",
    "接人工",
    "真人",
    "活人",
    "找客服",
    "叫客服",
    "人工",
)
HUMAN_WORDS = re.compile(
    r"\b(human|agent|real person|representative|operator|talk to (a |some)?(one|person|body))\b"
)
INTENT_CONFIDENT = 0.5


@dataclass
class Analysis:
    text: str
    language: str
    intent: str = ""
    intent_confidence: float = 0.0
    sentiment: str = "neutral"
    angry: bool = False
    sentiment_score: float = 0.0
    human_request: bool = False
    hits: list = field(default_factory=list)  # knowledge.search.FaqResult, best first

    @property
    def top_confidence(self) -> float:
        return self.hits[0].confidence if self.hits else 0.0


def asks_for_human(text: str) -> bool:
    normalized = normalize(text)
    return any(p in normalized for p in HUMAN_PHRASES) or bool(HUMAN_WORDS.search(normalized))


def analyse(shop, text: str, *, k: int = 3) -> Analysis:
    from kefu.knowledge import search

    analysis = Analysis(text=text, language=language_of(text))
    model = training.intent_model(shop)
    if model is not None:
        prediction = model.predict(text)
        analysis.intent = prediction.label
        analysis.intent_confidence = prediction.confidence
    sentiment = training.sentiment_model(shop).predict(text)
    analysis.sentiment = sentiment.label
    analysis.angry = sentiment.angry
    analysis.sentiment_score = sentiment.score
    analysis.human_request = asks_for_human(text) or (
        analysis.intent == "human_request" and analysis.intent_confidence >= INTENT_CONFIDENT
    )
    analysis.hits = search.search_faqs(shop.id, text, k=k)
    return analysis
