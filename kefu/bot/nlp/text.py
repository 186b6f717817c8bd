"""Text normalisation and tokenisation shared by every bot model.

``normalize`` folds the surface variants a customer may type (full-width forms,
traditional characters, case, runs of whitespace); ``tokenize`` splits the
normalised text into jieba words for Chinese runs and words/numbers for the rest.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache

__all__ = ["language_of", "normalize", "tokenize", "is_cjk"]

_WS = re.compile(r"\s+")
# CJK Unified Ideographs (+ extension A, compatibility ideographs).
_CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CLASS}]")
# A token is either a run of CJK ideographs (segmented further by jieba) or a
# run of letters/digits (with inner apostrophes: "don't", "i'm").
_RUN = re.compile(f"[{_CJK_CLASS}]+|[^\\W_]+(?:'[^\\W_]+)*")

_lock = threading.Lock()
_converter = None
_jieba = None


def _opencc():
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                import opencc

                _converter = opencc.OpenCC("t2s")
    return _converter


def _tokenizer():
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                _jieba = tok
    return _jieba


def is_cjk(ch: str) -> bool:
    return bool(_CJK.match(ch))


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """NFKC, traditional -> simplified Chinese, lowercase, collapsed whitespace, stripped."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "")
    if _CJK.search(text):
        text = _opencc().convert(text)
    return _WS.sub(" ", text.lower()).strip()


@lru_cache(maxsize=65536)
def _tokenize(norm: str) -> tuple[str, ...]:
    out: list[str] = []
    for m in _RUN.finditer(norm):
        run = m.group()
        if _CJK.match(run):
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(w for w in _tokenizer().lcut(run, HMM=True) if w.strip())
        else:
            out.append(run)
    return tuple(out)


def tokenize(text: str) -> list[str]:
    """Normalised tokens: jieba words for Chinese runs, words/numbers otherwise; no punctuation."""
    return list(_tokenize(normalize(text)))


def language_of(text: str) -> str:
    """``"zh-hans"`` if the text contains any CJK ideograph, else ``"en"``."""
    return "zh-hans" if text and _CJK.search(text) else "en"
