"""The learned detectors' scoring: a linear model per family over the
character n-grams (digits as 0, any space as " ") and English words of the
folded text, read from rules/guard_model.json (written by
scripts/train_guard_model.py). No numeric library at send time.

One Aho–Corasick pass over the union of every family's n-grams (a `Scanner`)
serves all the families whose trigger expressions matched in a message: the
pass is remembered for the last text, so a second family costs only its sum.
A message under a family's threshold costs that one pass and one sum; the
per-clause work that places the span runs only for a finding."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import ahocorasick_rs

from .normalize import ascii_word, fold, sentences_around

MODEL_FILE = Path(__file__).resolve().parent.parent / "rules" / "guard_model.json"

# Same length as the folded text, so offsets carry over.
_DIGIT = re.compile(r"[1-9]")
_SPACE = re.compile(r"[\t\n\r\f\v\u3000]")
_WORD = re.compile(r"[a-z][a-z']+")
_FIRST = itemgetter(0)
_ZEROS = repeat(0.0)
_CLAUSE = re.compile(r"(?:[^，。！？；,.!?;\n]|\.(?=\d))+")  # "9.5折" is one clause
# A span opens at an n-gram of at least this weight (weaker ones, "我们",
# say nothing about the family).
TELLING = 0.3


def canonical(norm: str) -> str:
    return _SPACE.sub(" ", _DIGIT.sub("0", norm))


def features(norm: str, low: int = 1, high: int = 3) -> set[str]:
    """The n-grams and words of a folded text (what the training script fits)."""
    text = canonical(norm)
    size = len(text)
    grams = {text[i : i + n] for n in range(low, high + 1) for i in range(size - n + 1)}
    grams.update("w:" + word for word in _WORD.findall(text))
    return grams


class Scan(NamedTuple):
    """One text's matches of the longer n-grams, (gram index, start, end);
    the set of their indexes and the set of its characters (features are
    binary: a gram counts once)."""

    text: str
    matches: list[tuple[int, int, int]]
    keys: set[int]
    chars: set[str]


class Scanner:
    """One automaton over a list of n-grams of two characters or more (single
    characters are looked up in the text's character set, far cheaper than
    an automaton's match per character), remembering its last scan."""

    def __init__(self, grams: list[str]) -> None:
        self.grams = grams
        self.index = {gram: i for i, gram in enumerate(grams)}
        self._automaton = ahocorasick_rs.AhoCorasick(grams)
        self._last: tuple[str, Scan] | None = None

    def scan(self, norm: str) -> Scan:
        last = self._last  # one read: another thread may replace it
        if last is not None and last[0] == norm:
            return last[1]
        text = canonical(norm)
        matches = self._automaton.find_matches_as_indexes(text, overlapping=True)
        result = Scan(text, matches, set(map(_FIRST, matches)), set(text))
        self._last = (norm, result)
        return result


@dataclass(frozen=True)
class FamilyModel:
    family: str
    weights: dict[str, float]
    bias: float
    threshold: float
    low: int = 1
    high: int = 3
    scanner: Scanner | None = field(default=None, repr=False, compare=False)
    # When set, the model reads only the sentences that hold one of the
    # family's trigger words or expressions, in training and at send time.
    window: Window | None = field(default=None, repr=False, compare=False)
    _vector: list[float] = field(init=False, repr=False, compare=False)
    _chars: dict[str, float] = field(init=False, repr=False, compare=False)
    _words: dict[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        grams = [k for k in self.weights if len(k) > 1 and not k.startswith("w:")]
        scanner = self.scanner or Scanner(grams)
        vector = [0.0] * len(scanner.grams)
        for gram in grams:
            vector[scanner.index[gram]] = self.weights[gram]
        words = {k[2:]: w for k, w in self.weights.items() if k.startswith("w:")}
        object.__setattr__(self, "scanner", scanner)
        object.__setattr__(self, "_vector", vector)
        object.__setattr__(self, "_chars", {k: w for k, w in self.weights.items() if len(k) == 1})
        object.__setattr__(self, "_words", words)

    def _score(self, scan: Scan, start: int, end: int, keys: Any = None) -> float:
        """The score of text[start:end]; `keys`, its n-grams' indexes, when
        the caller has them."""
        vector = self._vector
        if start == 0 and end == len(scan.text):  # the whole message: every match
            keys = scan.keys
            chars: Any = scan.chars
        else:
            if keys is None:
                keys = {key for key, a, b in scan.matches if start <= a and b <= end}
            chars = set(scan.text[start:end])
        value = self.bias + sum(map(vector.__getitem__, keys))
        value += sum(map(self._chars.get, chars, _ZEROS))
        if self._words:
            words = {match.group() for match in _WORD.finditer(scan.text, start, end)}
            value += sum(self._words.get(word, 0.0) for word in words)
        return value

    def part(self, norm: str) -> tuple[str, int]:
        """What the model reads of a folded text, and where that starts."""
        return (norm, 0) if self.window is None else self.window.part(norm)

    def _scan(self, norm: str) -> tuple[Scan, int]:
        assert self.scanner is not None
        text, offset = self.part(norm)
        return self.scanner.scan(text), offset

    def score(self, norm: str) -> float:
        scan, _ = self._scan(norm)
        return self._score(scan, 0, len(scan.text))

    def find(self, norm: str) -> tuple[int, int] | None:
        """The span of a finding, or None when the message scores at or
        under the threshold: the highest-scoring clause, from its first
        telling n-gram (at least half the weight of its strongest, and at
        least TELLING) to its end, so a negation before it ("我们不会让您…")
        is seen by the engine's negation check."""
        scan, offset = self._scan(norm)
        text = scan.text
        if not text or self._score(scan, 0, len(text)) <= self.threshold:
            return None
        clauses = [c.span() for c in _CLAUSE.finditer(text) if c.group().strip()]
        if not clauses:
            return None
        # Each clause's n-grams, in one pass over the matches.
        owner = [-1] * len(text)
        for number, (start, end) in enumerate(clauses):
            owner[start:end] = [number] * (end - start)
        keys: list[set[int]] = [set() for _ in clauses]
        for key, a, b in scan.matches:
            number = owner[a]
            if number >= 0 and owner[b - 1] == number:
                keys[number].add(key)
        best: tuple[float, int, int] | None = None
        for (start, end), clause_keys in zip(clauses, keys, strict=True):
            value = self._score(scan, start, end, clause_keys)
            if best is None or value > best[0]:
                best = (value, start, end)
        assert best is not None
        _, start, end = best
        while end > start and text[end - 1] == " ":
            end -= 1
        strongest = [0.0] * (end - start)
        for key, a, b in scan.matches:
            if start <= a and b <= end and b - a >= 2:
                strongest[a - start] = max(strongest[a - start], self._vector[key])
        top = max(strongest, default=0.0)
        floor = max(top / 2, TELLING)
        at = start + next((i for i, w in enumerate(strongest) if w >= floor), 0)
        if top < TELLING:
            at = start + strongest.index(top)
        while at > start and ascii_word(text[at - 1]) and text[at].isalnum():
            at -= 1  # not in the middle of an English word
        while at < end and text[at] == " ":
            at += 1
        return at + offset, end + offset


class Window:
    """Where a detector's triggers are in a folded text, as the guard's gate
    finds them: its words (one automaton; a word that starts or ends with an
    ASCII letter or digit matches only whole there, as every key of the
    guard's automaton) and its expressions (RE2 syntax, which Python's re
    reads; ASCII classes and word boundaries, as in RE2)."""

    def __init__(self, words: tuple[str, ...], patterns: tuple[str, ...]) -> None:
        keys = sorted({key for key in map(fold, words) if key})
        self._bounds = [(ascii_word(k[0]), ascii_word(k[-1])) for k in keys]
        self._automaton = ahocorasick_rs.AhoCorasick(keys) if keys else None
        self._patterns = [re.compile(p, re.ASCII) for p in patterns]

    def span(self, norm: str) -> tuple[int, int] | None:
        """From the first trigger's start to the last one's end (None without one)."""
        first = last = -1
        if self._automaton is not None:
            size = len(norm)
            for key, start, end in self._automaton.find_matches_as_indexes(norm, overlapping=True):
                left, right = self._bounds[key]
                if (left and start > 0 and ascii_word(norm[start - 1])) or (
                    right and end < size and ascii_word(norm[end])
                ):
                    continue
                if first < 0 or start < first:
                    first = start
                last = max(last, end)
        for pattern in self._patterns:
            for match in pattern.finditer(norm):
                if first < 0 or match.start() < first:
                    first = match.start()
                last = max(last, match.end())
        return None if first < 0 else (first, last)

    def part(self, norm: str) -> tuple[str, int]:
        """The sentences from the first trigger to the last, and where they
        start ("" without a trigger)."""
        span = self.span(norm)
        if span is None:
            return "", 0
        start, end = sentences_around(norm, *span)
        return norm[start:end], start


@lru_cache(maxsize=1)
def models() -> dict[str, FamilyModel]:
    """The shipped weights, read once (they change only with the code), over
    one shared scanner."""
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    low, high = data["ngram_range"]
    families = data["families"]
    grams = {k for m in families.values() for k in m["weights"] if len(k) > 1}
    scanner = Scanner(sorted(k for k in grams if not k.startswith("w:")))
    return {
        family: FamilyModel(
            family,
            model["weights"],
            model["bias"],
            model["threshold"],
            low,
            high,
            scanner,
            _window(family) if model.get("window") else None,
        )
        for family, model in families.items()
    }


def _window(family: str) -> Window:
    from .detectors import get

    detector = get(f"learned_{family}")
    assert detector is not None, family
    return Window(detector.triggers, detector.trigger_patterns)
