"""`kefu policy explain`: one decision line per request line, in order, the
same JSON as `explain_json` (the table-driven tests' function); without
--shop no database is opened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kefu.commerce.policy import PolicySettings, explain_json

CASES_FILE = Path(__file__).with_name("policy_cases.jsonl")
REQUEST = {
    "category": "服装",
    "flags": [],
    "paid": "199.00",
    "quantity": 1,
    "ordered": "2026-05-28T10:00:00",
    "delivered": "2026-06-01T15:00:00",
    "requested": "2026-06-16T12:00:00",
    "reason": "no_reason",
    "condition": "intact",
}


def policy_explain(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`kefu policy explain ARGS` in a process of its own, with a database URL
    that cannot be opened: no database is needed."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kefu.settings.dev"}
    env["KEFU_DATABASE_URL"] = "sqlite:////nonexistent/dir/never-opened.sqlite3"
    return subprocess.run(
        [sys.executable, "-m", "kefu", "policy", "explain", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


def test_the_table_through_the_command_matches_explain_json(tmp_path):
    rows = [json.loads(line) for line in CASES_FILE.read_text("utf-8").splitlines()]
    default_rows = [row for row in rows if not row.get("settings")]
    path = tmp_path / "requests.jsonl"
    path.write_text(
        "".join(json.dumps(row["request"], ensure_ascii=False) + "\n" for row in default_rows),
        encoding="utf-8",
    )
    done = policy_explain(str(path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(default_rows)
    for row, line in zip(default_rows, lines, strict=True):
        assert json.loads(line) == explain_json(row["request"], PolicySettings()), row["name"]
    assert "签收" in done.stdout  # ensure_ascii=False: Chinese as it is


def test_bad_lines_get_an_error_object_in_order_and_exit_0():
    stdin = "\n".join(
        [
            json.dumps(REQUEST),
            "",
            "not json",
            "   ",
            json.dumps({**REQUEST, "reason": "bored"}),
            "[1, 2]",
            json.dumps({**REQUEST, "requested": "2026-06-05T12:00:00"}),
        ]
    )
    done = policy_explain(stdin=stdin + "\n")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 5
    assert lines[0]["allowed"] is False and lines[0]["day_number"] == 15
    assert lines[1]["error"]["field"] == "request"
    assert "not valid JSON" in lines[1]["error"]["message"]
    assert lines[2]["error"]["field"] == "reason"
    assert lines[3] == {"error": {"field": "request", "message": "must be a JSON object"}}
    assert lines[4]["allowed"] is True and lines[4]["day_number"] == 4


def test_a_missing_file_is_an_error():
    done = policy_explain("/nonexistent/requests.jsonl")
    assert done.returncode != 0
    assert "requests.jsonl" in done.stderr


@pytest.mark.django_db
def test_shop_settings_are_used_with_shop(tmp_path):
    from kefu.commerce.models import CommerceSettings
    from kefu.tests import factories

    shop = factories.make_shop(slug="fifteen")
    CommerceSettings.objects.create(shop=shop, policy={"no_reason_days": 15})
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(REQUEST, ensure_ascii=False) + "\n", encoding="utf-8")

    out = StringIO()
    call_command("policy", "explain", "--shop", "fifteen", str(path), stdout=out)
    [line] = out.getvalue().splitlines()
    decision = json.loads(line)
    assert decision["allowed"] is True and decision["window_days"] == 15
    assert "15天无理由退货" in decision["explanation"]["zh-hans"]

    out = StringIO()
    call_command("policy", "explain", str(path), stdout=out)
    assert json.loads(out.getvalue())["allowed"] is False  # the default 7 days


@pytest.mark.django_db
def test_unknown_shop_and_unusable_settings_are_refused(tmp_path):
    from kefu.commerce.models import CommerceSettings
    from kefu.tests import factories

    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(REQUEST) + "\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("policy", "explain", "--shop", "nosuchshop", str(path), stdout=StringIO())
    shop = factories.make_shop(slug="broken")
    CommerceSettings.objects.create(shop=shop, policy={"no_reason_days": 2})
    with pytest.raises(CommandError, match="no_reason_days"):
        call_command("policy", "explain", "--shop", "broken", str(path), stdout=StringIO())
