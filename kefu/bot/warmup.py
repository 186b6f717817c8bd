"""Load the language resources (jieba's dictionary, the shipped sentiment model)
in the background when a server starts, so the first customer does not wait."""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)


def _load() -> None:
    try:
        from kefu.bot.nlp.sentiment import SentimentModel
        from kefu.bot.nlp.text import tokenize

        tokenize("预热 warm up")
        SentimentModel.shipped().predict("预热")
    except Exception:  # a failure here only costs the first customer the wait
        log.exception("bot warm-up failed")


def start_warm_up() -> threading.Thread | None:
    if os.environ.get("KEFU_BOT_WARMUP", "1") != "1":
        return None
    thread = threading.Thread(target=_load, name="kefu-bot-warmup", daemon=True)
    thread.start()
    return thread
