"""The shipped default rule set (rules/default_rules.json), loaded once."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .engine import Guard, RuleSpec

RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "default_rules.json"


@lru_cache(maxsize=1)
def default_specs() -> tuple[RuleSpec, ...]:
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return tuple(RuleSpec.from_mapping(rule) for rule in data["rules"])


@lru_cache(maxsize=1)
def default_guard() -> Guard:
    return Guard(default_specs())
