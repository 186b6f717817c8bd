"""Fold a message for matching without moving any character: lower case,
full-width ASCII to half-width, traditional Chinese to simplified (character
by character, from OpenCC's table). The folded text has the same length as
the original, so a span found in one is a span in the other."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, str], re.Pattern[str]]:
    import opencc

    chars = [chr(c) for c in range(0x3400, 0xA000)]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    table: dict[int, str] = {}
    if len(converted) == len(chars):
        table = {ord(a): b for a, b in zip(chars, converted, strict=True) if a != b and len(b) == 1}
    # Full-width letters, digits and the few signs rules are written with
    # (％ ＋ － ．). Full-width punctuation (，。！？：) is what Chinese text is
    # made of: it stays, or nearly every message would need folding.
    for start, end in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)):
        for code in range(start, end + 1):
            table[code] = chr(code - 0xFEE0).lower()
    for code in (0xFF05, 0xFF0B, 0xFF0D, 0xFF0E):
        table[code] = chr(code - 0xFEE0)
    pattern = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(table)) + "]")
    return table, pattern


def fold(text: str) -> str:
    lowered = text.lower()
    if len(lowered) != len(text):  # a rare letter whose lower case is longer (İ)
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    table, needs = _tables()
    if needs.search(lowered) is None:
        return lowered
    return lowered.translate(table)


def warm() -> None:
    _tables()


_CLAUSE_END = re.compile(r"[，。！？；,.!?;\n]")
SENTENCE_END = re.compile(r"[。！？!?\n]|\.(?:\s|$)")
# The last sentence end before a point (matched up to it: greedy, in one call).
# Not "." at the point itself: "打9.5折" goes on after "9.".
_LAST_SENTENCE_END = re.compile(r"(?s).*(?:[。！？!?\n]|\.\s)")


def ascii_word(ch: str) -> bool:
    """An ASCII letter or digit: where an English word would go on."""
    return ch.isascii() and ch.isalnum()


def sentences_around(norm: str, start: int, end: int) -> tuple[int, int]:
    """From the start of the sentence that holds `start` to the end of the
    one that holds `end`."""
    before = _LAST_SENTENCE_END.match(norm, 0, start)
    stop = SENTENCE_END.search(norm, end)
    return before.end() if before else 0, stop.end() if stop else len(norm)


def clause_before(norm: str, start: int, limit: int) -> str:
    """The words before `start` in the same clause (at most `limit` chars)."""
    low = max(0, start - limit)
    cut = low
    for match in _CLAUSE_END.finditer(norm, low, start):
        cut = match.end()
    return norm[cut:start]


def clause_after(norm: str, start: int, limit: int) -> str:
    """The words from `start` to the end of its clause (at most `limit` chars)."""
    high = min(len(norm), start + limit)
    end = _CLAUSE_END.search(norm, start, high)
    return norm[start : end.start() if end else high]
