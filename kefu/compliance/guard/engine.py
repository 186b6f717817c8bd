"""Compile a rule set once; screen each message in one pass per matcher.

- Every phrase, exception and detector trigger of every rule is one key of a
  single Aho–Corasick automaton (ahocorasick-rs, the Rust `aho-corasick`
  crate): one pass over the text, overlapping matches, character offsets.
- Every regular expression (rules' own and detectors' triggers) is one entry
  of a single RE2 set: one linear-time pass says which ones match; only those
  are then searched for their spans.
- Detectors (kefu.compliance.guard.detectors) run only when one of their
  triggers was seen, with the conversation's context.

Matching runs on the folded text (normalize.fold), which keeps every
character in place, so spans are offsets into the original text."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick_rs
import re2

from . import detectors as detector_registry
from .context import NO_CONTEXT, GuardContext
from .normalize import SENTENCE_END, ascii_word, clause_after, clause_before, fold

SEVERITIES = ("block", "warn", "log")
KINDS = ("phrases", "regex", "detector")
ARROW = "=>"
MAX_PATTERN_CHARS = 500
# RE2 refuses, when compiling, a program bigger than this (a pattern that
# would need an enormous automaton, e.g. a{1000}{1000}).
MAX_PROGRAM_BYTES = 8 << 20

_PHRASE, _EXCEPTION, _TRIGGER, _REGEX = range(4)

# Families whose violation is an offer or a request ("加我微信", "好评返现",
# "手续费您来付"): said in the negative it is the reassurance the courseware
# asks for ("我们不会让您私下转账", "我们不提供好评返现"), so a match whose
# clause opens with a negation passes.
NEGATABLE_FAMILIES = frozenset({"off_platform", "review_bribe", "card_fee"})
# Rules of other families whose claim said in the negative is the lawful
# disclaimer: "本品不是药品，不能代替药物治疗疾病", "cannot treat neck problems".
NEGATABLE_RULES = frozenset({"ad_medical_claim"})
_NEGATIONS = (
    "不会",
    "不能",
    "不可以",
    "不要",
    "不提供",
    "不做",
    "不支持",
    "不接受",
    "不收",
    "没有",
    "禁止",
    "严禁",
    "切勿",
    "请勿",
    "拒绝",
    "不得",
    "不允许",
    "我们不",
    "本店不",
    "不准",
    "不加",
    "从不",
    "绝不",
    "won't",
    "will not",
    "don't",
    "do not",
    "never",
    "cannot",
    "can't",
    "not ",
    # Warnings about scammers: "如有人要求您线下付款，请举报".
    "如有人",
    "若有人",
    "有人要求",
    "有人让",
    "谨防",
    "警惕",
    "冒充",
    "如果有人",
    "要是有人",
    "假如有人",
    "if anyone",
    "if someone",
    "anyone who",
    "anyone asking",
    # Scam warnings: "scammers pretend to be our staff on WeChat".
    "骗子",
    "诈骗",
    "骗局",
    "假冒",
    "scam",
    "fraud",
    "impersonat",
    "pretend to be",
    "beware",
    "watch out for",
    "假客服",
)
# Said after the match in the same clause, these make it a warning too:
# "平台外的转账都是骗子".
_WARNINGS_AFTER: tuple[str, ...] = ("骗子", "诈骗", "骗局", "scam", "fraud")
_WARNINGS_AFTER += ("不是我们", "不是本店", "不是官方")
_WARNINGS_AFTER += ("not us", "isn't us", "aren't us", "not from us")
# "我们不能承担手续费", "we can't absorb the card fee": the shop refusing to
# pay is the violation itself, not a negation of it.
_SHOP_REFUSES = re.compile(
    r"(?:不会|不能|没法|无法|不|不给|不帮|can't|cannot|won't|don't|do not|will not|unable to)\s*"
    r"(?:帮您|给您|为您|替您)?\s*(?:承担|出|包|负担|补贴|absorb|cover|bear|waive|eat|pay for)"
)

# Said later in the same sentence, these make an offer unconditional: "Coupon
# for everyone, no review needed" is not a reward for a review.
_UNCONDITIONAL: tuple[str, ...] = ("no review needed", "no review required", "regardless of")
_UNCONDITIONAL += ("whether or not you",)
_UNCONDITIONAL += ("with or without a review", "不需要评价", "无需评价", "不用评价", "与评价无关")
_UNCONDITIONAL += ("和评价无关", "跟评价无关", "不管评价", "无论评价", "不论评价", "不管您评")
_QUESTIONS = ("能不能", "可不可以", "可以不可以", "行不行", "会不会", "要不要")
# Advertising-law words right after a denial are the disclaimer, not the
# claim: 没有“绝对”防水, 本店不做“特供”“专供”, 没有开光, 不能保证治疗效果.
# Only a denial next to the word counts (quoted words in a row may sit
# between), so "不用犹豫，全网最低" still claims.
_DENIED_CLAIM = re.compile(
    r"(?:没有|没|不做|不是|并非|并不是|不保证|不能保证|不敢保证|不敢说|不能|不含|不算|不属于|并无"
    r"|不说|不会说|不卖|不宣传|不"
    r"|\bnot|\bno|\bnever|isn't|aren't"
    r"|\b(?:don't|do not|doesn't|does not|won't|never)\s+"
    r"(?:sell|say|claim|offer|make|use|have|call it))"
    r"\s*(?:说|讲|写|宣传|承诺)?\s*(?:它|这款|这个|我们|自己|咱们)?\s*(?:是|就是)?\s*"
    r"(?:所谓的?|什么|the\s|an?\s|any\s)?\s*"
    r"(?:[“\"「『‘'][^”\"」』’']{1,8}[”\"」』’']\s*[、，,和及与]?\s*)*"
    r"(?:[“\"「『‘'][^”\"」』’'。！？]{0,10})?\s*$"
)
# The denial after the quoted claim: “永久保修”我们做不到, “假一赔十”这种话我们不说.
_DENIED_AFTER = re.compile(
    r"[^”\"」』’'。！？]{0,10}[”\"」』’']\s*(?:我们|本店|咱们|小店)?\s*"
    r"(?:做不到|不敢说|不能说|不说|不承诺|不保证|是不存在的|不存在|这回事|这种话|这种说法|不可能)"
)


def negated_clause(norm: str, start: int, limit: int = 64) -> bool:
    """Whether the clause holding `start` says no before it, or calls what
    follows a scam."""
    before = clause_before(norm, start, limit)
    for question in _QUESTIONS:  # "能不能帮忙把评价删了" asks, it does not refuse
        before = before.replace(question, "")
    if any(word in before for word in _NEGATIONS):
        return _SHOP_REFUSES.search(before) is None
    after = clause_after(norm, start, limit)
    if any(word in after for word in _WARNINGS_AFTER):
        return True
    end = SENTENCE_END.search(norm, start, start + limit)
    sentence = norm[start : end.start() if end else start + limit]
    return any(word in sentence for word in _UNCONDITIONAL)


class RuleError(ValueError):
    """A rule that cannot be compiled; the message names the rule and line."""


@dataclass(frozen=True)
class RuleSpec:
    code: str
    family: str
    kind: str
    severity: str
    enabled: bool = True
    platform_rule: bool = False
    penalty_points: int = 0
    title: str = ""
    title_en: str = ""
    explanation: str = ""
    explanation_en: str = ""
    phrases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    detector: str = ""
    suggestion: str = ""
    examples_match: tuple[str, ...] = ()
    examples_pass: tuple[str, ...] = ()
    sources: str = ""
    id: int | None = None

    LIST_FIELDS = ("phrases", "patterns", "exceptions", "examples_match", "examples_pass")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RuleSpec:
        values: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            if name not in data:
                continue
            value = data[name]
            if name in cls.LIST_FIELDS:
                value = tuple(lines(value))
            values[name] = value
        return cls(**values)

    @classmethod
    def from_model(cls, rule) -> RuleSpec:
        data = {name: getattr(rule, name) for name in cls.__dataclass_fields__ if name != "id"}
        return cls.from_mapping({**data, "id": rule.pk})

    def explanation_for(self, language: str) -> str:
        if language.startswith("en") and self.explanation_en:
            return self.explanation_en
        return self.explanation


def lines(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.splitlines() if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item and item.strip()]


def split_replacement(line: str) -> tuple[str, str | None]:
    if ARROW in line:
        phrase, replacement = line.split(ARROW, 1)
        return phrase.strip(), replacement.strip() or None
    return line.strip(), None


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    family: str
    severity: str
    start: int
    end: int
    message: str
    suggestion: str | None
    points: int
    platform_rule: bool
    rule_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "family": self.family,
            "severity": self.severity,
            "span": [self.start, self.end],
            "message": self.message,
            "suggestion": self.suggestion,
            "points": self.points,
        }


@dataclass(slots=True)
class Screening:
    text: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(f.severity == "block" for f in self.findings)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [f.as_dict() for f in self.findings]


def compile_regex(pattern: str) -> Any:
    """RE2 or a RuleError that says why (too long, unsupported construct such
    as a backreference or lookaround, program too big)."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RuleError(f"longer than {MAX_PATTERN_CHARS} characters")
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_PROGRAM_BYTES
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        message = str(error)
        if isinstance(error.args[0], bytes):
            message = error.args[0].decode("utf-8", "replace")
        raise RuleError(message) from None


class Guard:
    """A compiled rule set. Thread-safe to share: screening only reads."""

    def __init__(self, specs: Sequence[RuleSpec]) -> None:
        self.rules = [s for s in specs if s.enabled]
        self.negatable = frozenset(
            i
            for i, rule in enumerate(self.rules)
            if rule.family in NEGATABLE_FAMILIES or rule.code in NEGATABLE_RULES
        )
        self.denied_claims = frozenset(
            i for i, rule in enumerate(self.rules) if rule.family == "absolute_claim"
        )
        keys: dict[str, list[tuple[int, int, str | None]]] = {}

        def key(text: str, entry: tuple[int, int, str | None]) -> None:
            folded = fold(text)
            if folded:
                keys.setdefault(folded, []).append(entry)

        self.regex_set = re2.Set.SearchSet(_set_options())
        self.regex_entries: list[tuple[int, int, Any]] = []
        self.detectors: dict[int, detector_registry.Detector] = {}
        for index, rule in enumerate(self.rules):
            for line in rule.phrases:
                phrase, replacement = split_replacement(line)
                key(phrase, (_PHRASE, index, replacement))
            for exception in rule.exceptions:
                key(exception, (_EXCEPTION, index, None))
            for number, pattern in enumerate(rule.patterns, 1):
                self._add_regex(pattern, (_REGEX, index), rule, number)
            if rule.kind == "detector":
                detector = detector_registry.get(rule.detector)
                if detector is None:
                    raise RuleError(f"{rule.code}: unknown detector {rule.detector!r}")
                self.detectors[index] = detector
                for trigger in detector.triggers:
                    key(trigger, (_TRIGGER, index, None))
                for number, pattern in enumerate(detector.trigger_patterns, 1):
                    self._add_regex(pattern, (_TRIGGER, index), rule, number)
        self.keys = list(keys)
        self.key_entries = [
            (
                (1 if ascii_word(k[0]) else 0) | (2 if ascii_word(k[-1]) else 0),
                tuple(keys[k]),
            )
            for k in self.keys
        ]
        self.automaton: Any = ahocorasick_rs.AhoCorasick(self.keys) if self.keys else None
        self.has_regex = bool(self.regex_entries)
        if self.has_regex:
            self.regex_set.Compile()

    def _add_regex(self, pattern: str, entry: tuple[int, int], rule: RuleSpec, number: int):
        try:
            compiled = compile_regex(pattern)
            if self.regex_set.Add(pattern) != len(self.regex_entries):
                raise RuleError("the expression set refused it")
        except RuleError as error:
            raise RuleError(f"{rule.code}: expression {number}: {error}") from None
        self.regex_entries.append((entry[0], entry[1], compiled))

    def screen(
        self, text: str, context: GuardContext = NO_CONTEXT, *, language: str = "zh-hans"
    ) -> Screening:
        screening = Screening(text)
        if not text:
            return screening
        norm = fold(text)
        hits: list[tuple[int, int, int, str | None, bool]] = []
        exceptions: dict[int, list[tuple[int, int]]] | None = None
        triggered: set[int] | None = None
        if self.automaton is not None:
            size = len(norm)
            key_entries = self.key_entries
            for number, start, stop in self.automaton.find_matches_as_indexes(
                norm, overlapping=True
            ):
                flags, entries = key_entries[number]
                if flags and (
                    (flags & 1 and start > 0 and ascii_word(norm[start - 1]))
                    or (flags & 2 and stop < size and ascii_word(norm[stop]))
                ):
                    continue
                for kind, index, replacement in entries:
                    if kind == _PHRASE:
                        hits.append((index, start, stop, replacement, True))
                    elif kind == _EXCEPTION:
                        if exceptions is None:
                            exceptions = {}
                        exceptions.setdefault(index, []).append((start, stop))
                    else:
                        if triggered is None:
                            triggered = set()
                        triggered.add(index)
        if self.has_regex:
            for number in self.regex_set.Match(norm) or ():
                kind, index, compiled = self.regex_entries[number]
                if kind == _TRIGGER:
                    if triggered is None:
                        triggered = set()
                    triggered.add(index)
                else:
                    for match in compiled.finditer(norm):
                        if match.end() > match.start():
                            hits.append((index, match.start(), match.end(), None, True))
        if triggered:
            for index in sorted(triggered):
                detector = self.detectors[index]
                sure = context.facts or not detector.needs_facts
                for hit in detector.run(text, norm, context):
                    hits.append((index, hit.start, hit.end, hit.suggestion, sure and hit.certain))
        if not hits:
            return screening
        screening.findings = self._findings(hits, exceptions, language, norm)
        return screening

    def _findings(self, hits, exceptions, language: str, norm: str) -> list[Finding]:
        hits.sort(key=lambda h: (h[1], -(h[2] - h[1]), h[0]))
        findings: list[Finding] = []
        last_end: dict[int, int] = {}
        for index, start, stop, replacement, certain in hits:
            if exceptions and index in exceptions:
                if any(a <= start and stop <= b for a, b in exceptions[index]):
                    continue
            if last_end.get(index, -1) > start:
                continue  # overlaps a longer hit of the same rule
            if index in self.negatable and negated_clause(norm, start):
                continue
            if index in self.denied_claims and (
                _DENIED_CLAIM.search(norm, max(0, start - 24), start)
                or _DENIED_AFTER.match(norm, stop, stop + 24)
            ):
                continue
            last_end[index] = stop
            rule = self.rules[index]
            severity = rule.severity
            if severity == "block" and not certain:
                severity = "warn"  # judged on defaults, not facts: never blocks
            findings.append(
                Finding(
                    rule=rule.code,
                    family=rule.family,
                    severity=severity,
                    start=start,
                    end=stop,
                    message=rule.explanation_for(language),
                    suggestion=replacement or rule.suggestion or None,
                    points=rule.penalty_points,
                    platform_rule=rule.platform_rule,
                    rule_id=rule.id,
                )
            )
        return findings


def _set_options():
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_PROGRAM_BYTES * 4
    return options


def validate(spec: RuleSpec, context: GuardContext = NO_CONTEXT) -> list[str]:
    """Problems with one rule, each a sentence: bad fields, expressions RE2
    cannot run, and examples that do not behave (every `examples_match` must
    be found by this rule, no `examples_pass` may be)."""
    problems: list[str] = []
    if spec.severity not in SEVERITIES:
        problems.append(f"severity must be one of {', '.join(SEVERITIES)}")
    if spec.kind not in KINDS:
        problems.append(f"kind must be one of {', '.join(KINDS)}")
    if spec.kind == "phrases" and not spec.phrases:
        problems.append("a phrase rule needs at least one phrase")
    if spec.kind == "regex" and not spec.patterns:
        problems.append("a regular-expression rule needs at least one expression")
    if spec.kind == "detector" and detector_registry.get(spec.detector) is None:
        problems.append(
            f"unknown detector {spec.detector!r}; known: {', '.join(detector_registry.names())}"
        )
    for number, pattern in enumerate(spec.patterns, 1):
        try:
            compile_regex(pattern)
        except RuleError as error:
            problems.append(f"expression {number} ({pattern[:60]}): {error}")
    if problems:
        return problems
    guard = Guard([dataclasses.replace(spec, enabled=True)])
    for example in spec.examples_match:
        if not guard.screen(example, context).findings:
            problems.append(f"example that must match does not: {example}")
    for example in spec.examples_pass:
        if guard.screen(example, context).findings:
            problems.append(f"example that must pass matches: {example}")
    return problems
