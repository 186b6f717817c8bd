"""The learned detectors' scoring: a linear model per family over the
character 1–3-grams (digits as 0, any space as " ") and English words of the
folded text, read from rules/guard_model.json (written by
scripts/train_guard_model.py). No numeric library at send time: one
Aho–Corasick pass finds the n-grams the model has weights for, and the
detectors run it only after their trigger expressions matched."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import ahocorasick_rs

MODEL_FILE = Path(__file__).resolve().parent.parent / "rules" / "guard_model.json"

# Same length as the folded text, so offsets carry over.
_CANONICAL = {ord(c): "0" for c in "123456789"} | {ord(c): " " for c in "\t\n\r\f\v\u3000"}
_WORD = re.compile(r"[a-z][a-z']+")
_CLAUSE = re.compile(r"[^，。！？；,.!?;\n]+")
# A span opens at an n-gram of at least this weight (weaker ones, "我们",
# say nothing about the family).
TELLING = 0.3


def canonical(norm: str) -> str:
    return norm.translate(_CANONICAL)


def features(norm: str, low: int = 1, high: int = 3) -> set[str]:
    """The n-grams and words of a folded text (what the training script fits)."""
    text = canonical(norm)
    size = len(text)
    grams = {text[i : i + n] for n in range(low, high + 1) for i in range(size - n + 1)}
    grams.update("w:" + word for word in _WORD.findall(text))
    return grams


@dataclass(frozen=True)
class FamilyModel:
    family: str
    weights: dict[str, float]
    bias: float
    threshold: float
    low: int = 1
    high: int = 3
    _automaton: Any = field(init=False, repr=False, compare=False)
    _grams: list[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        grams = [k for k in self.weights if not k.startswith("w:")]
        object.__setattr__(self, "_automaton", ahocorasick_rs.AhoCorasick(grams))
        object.__setattr__(self, "_grams", [self.weights[k] for k in grams])

    def _matches(self, text: str) -> list[tuple[int, int, int]]:
        return self._automaton.find_matches_as_indexes(text, overlapping=True)

    def _score(self, text: str, matches, start: int, end: int) -> float:
        grams = self._grams
        if start == 0 and end == len(text):  # the whole message: every match
            keys = {match[0] for match in matches}
        else:
            keys = {key for key, a, b in matches if start <= a and b <= end}
        value = self.bias + sum(map(grams.__getitem__, keys))
        words = {match.group() for match in _WORD.finditer(text, start, end)}
        return value + sum(self.weights.get("w:" + word, 0.0) for word in words)

    def score(self, norm: str) -> float:
        text = canonical(norm)
        return self._score(text, self._matches(text), 0, len(text))

    def find(self, norm: str) -> tuple[int, int] | None:
        """The span of a finding, or None when the message scores at or
        under the threshold: the highest-scoring clause, from its first
        telling n-gram (at least half the weight of its strongest, and at
        least TELLING) to its end, so a negation before it ("我们不会让您…")
        is seen by the engine's negation check."""
        text = canonical(norm)
        matches = self._matches(text)
        if self._score(text, matches, 0, len(text)) <= self.threshold:
            return None
        best: tuple[float, int, int] | None = None
        for clause in _CLAUSE.finditer(text):
            if clause.group().strip():
                value = self._score(text, matches, clause.start(), clause.end())
                if best is None or value > best[0]:
                    best = (value, clause.start(), clause.end())
        if best is None:
            return None
        _, start, end = best
        while end > start and text[end - 1] == " ":
            end -= 1
        strongest = [0.0] * (end - start)
        for key, a, b in matches:
            if start <= a and b <= end and b - a >= 2:
                strongest[a - start] = max(strongest[a - start], self._grams[key])
        top = max(strongest, default=0.0)
        floor = max(top / 2, TELLING)
        at = start + next((i for i, w in enumerate(strongest) if w >= floor), 0)
        if top < TELLING:
            at = start + strongest.index(top)
        while (
            at > start and text[at - 1].isascii() and text[at - 1].isalnum() and text[at].isalnum()
        ):
            at -= 1  # not in the middle of an English word
        while at < end and text[at] == " ":
            at += 1
        return at, end


@lru_cache(maxsize=1)
def models() -> dict[str, FamilyModel]:
    """The shipped weights, read once: they change only with the code."""
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    low, high = data["ngram_range"]
    return {
        family: FamilyModel(family, model["weights"], model["bias"], model["threshold"], low, high)
        for family, model in data["families"].items()
    }
