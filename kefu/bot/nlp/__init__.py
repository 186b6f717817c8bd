"""Pure-Python NLP for the Kefu bot: text normalisation, intents, FAQ matching, sentiment.

Nothing in this package imports Django, downloads data or reads anything but the
installed packages and the plain-text files under ``resources/``.
"""

from kefu.bot.nlp.faq import DEFAULT_ANSWER_THRESHOLD, FaqDoc, FaqHit, FaqMatcher
from kefu.bot.nlp.intent import IntentModel, IntentPrediction
from kefu.bot.nlp.sentiment import SentimentModel, SentimentResult
from kefu.bot.nlp.text import language_of, normalize, tokenize

__all__ = [
    "DEFAULT_ANSWER_THRESHOLD",
    "FaqDoc",
    "FaqHit",
    "FaqMatcher",
    "IntentModel",
    "IntentPrediction",
    "SentimentModel",
    "SentimentResult",
    "language_of",
    "normalize",
    "tokenize",
]
