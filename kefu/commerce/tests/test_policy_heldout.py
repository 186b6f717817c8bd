"""policy_heldout.jsonl: after-sales requests like the seeds' with their
expected decisions, written blind (from the stated rules, without the engine's
code or tests). Every decision in it must be right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kefu.commerce.policy import PolicySettings, explain_json

CASES = [
    json.loads(line)
    for line in Path(__file__).with_name("policy_heldout.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


def test_the_set_is_large_enough():
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c.get("note", "")[:50] for c in CASES])
def test_heldout_decision(case):
    decision = explain_json(case["request"], PolicySettings())
    expect = dict(case["expect"])
    if "error_field" in expect:
        assert decision.get("error", {}).get("field") == expect["error_field"], decision
        return
    assert "error" not in decision, decision
    for key, value in expect.pop("options", {}).items():
        assert decision["options"][key] == value, (case.get("note"), key, decision)
    for key, value in expect.items():
        assert decision[key] == value, (case.get("note"), key, decision)
