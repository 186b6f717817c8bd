"""End-to-end runs of bench/bot_eval.py on tiny team-written files (subprocess)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kefu.bot.nlp.sentiment import SentimentModel

ROOT = Path(__file__).resolve().parents[4]
SCRIPT = ROOT / "bench" / "bot_eval.py"
KEYS = {
    "intent_accuracy",
    "intent_macro_f1",
    "faq_top1",
    "faq_mrr",
    "coverage_at_p95",
    "sentiment_accuracy",
    "negative_recall",
    "p50_ms",
    "p99_ms",
    "baseline_intent_accuracy",
    "baseline_faq_top1",
}

INTENTS = [
    ("where is my order", "track"),
    ("track my package", "track"),
    ("has my parcel shipped", "track"),
    ("when will my delivery come", "track"),
    ("where's my stuff", "track"),
    ("cancel my order", "cancel"),
    ("please cancel the purchase", "cancel"),
    ("I changed my mind, cancel it", "cancel"),
    ("cancel the order now", "cancel"),
    ("stop and cancel my order", "cancel"),
]
FAQ = [
    {
        "id": "ship",
        "question": "When do you ship?",
        "answer": "1 day",
        "paraphrases": ["shipping time"],
    },
    {
        "id": "pay",
        "question": "How can I pay?",
        "answer": "card",
        "paraphrases": ["payment methods"],
    },
]
QUERIES = [
    {"query": "when will you ship my order", "faq_id": "ship"},
    {"query": "what payment methods do you take", "faq_id": "pay"},
    {"query": "do you sell bicycles", "faq_id": None},
]
SENTIMENT = [
    ("太难吃了，再也不点了", "negative"),
    ("送餐很快，味道很好", "positive"),
    ("my package never arrived", "negative"),
    ("great service, thanks", "positive"),
]


def _csv(path: Path, header: str, rows) -> Path:
    lines = [header] + [f'"{a}",{b}' for a, b in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _jsonl(path: Path, objs) -> Path:
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs), "utf-8")
    return path


def _run(*args):
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    SentimentModel.shipped()  # build once into the session cache the subprocess reads
    d = tmp_path_factory.mktemp("bot_eval")
    return {
        "intents": _csv(d / "intents.csv", "text,intent", INTENTS),
        "faq": _jsonl(d / "faq.jsonl", FAQ),
        "queries": _jsonl(d / "queries.jsonl", QUERIES),
        "sentiment": _csv(d / "sentiment.csv", "text,label", SENTIMENT),
        "dir": d,
    }


def test_end_to_end_prints_json_keys(files):
    r = _run(
        "--intents-train", files["intents"],
        "--intents-test", files["intents"],
        "--faq", files["faq"],
        "--queries", files["queries"],
        "--sentiment", files["sentiment"],
        "--pad-faqs", 50,
        "--latency-messages", 20,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert KEYS <= out.keys()
    for k in KEYS:
        assert out[k] is not None, k
    assert out["intent_accuracy"] == 1.0
    assert 0.0 <= out["coverage_at_p95"] <= 1.0
    assert {"default_threshold", "coverage_at_default", "precision_at_default"} <= out.keys()
    assert out["p99_ms"] >= out["p50_ms"] > 0


def test_only_sentiment_leaves_other_figures_null(files):
    r = _run("--sentiment", files["sentiment"])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["sentiment_accuracy"] is not None
    assert out["intent_accuracy"] is None and out["faq_top1"] is None and out["p99_ms"] is None


def _expect_error(r, *fragments):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    for f in fragments:
        assert f in r.stderr, (f, r.stderr)


def test_missing_file(files):
    _expect_error(_run("--sentiment", files["dir"] / "nope.csv"), "nope.csv", "not found")


def test_missing_column(files):
    p = _csv(files["dir"] / "badcol.csv", "text,category", INTENTS)
    _expect_error(_run("--intents-train", p), "badcol.csv:1", "intent")


def test_empty_text(files):
    p = files["dir"] / "empty.csv"
    p.write_text('text,label\n"ok text",negative\n"",positive\n', encoding="utf-8")
    _expect_error(_run("--sentiment", p), "empty.csv:3", "empty")


def test_unknown_sentiment_label(files):
    p = _csv(files["dir"] / "lab.csv", "text,label", [("fine", "positive"), ("meh", "angry")])
    _expect_error(_run("--sentiment", p), "lab.csv:3", "angry")


def test_bad_json(files):
    p = files["dir"] / "bad.jsonl"
    p.write_text(json.dumps(FAQ[0]) + "\n{not json\n", encoding="utf-8")
    _expect_error(_run("--faq", p, "--queries", files["queries"]), "bad.jsonl:2", "JSON")


def test_query_missing_field(files):
    p = _jsonl(files["dir"] / "q.jsonl", [{"query": "hi", "faq_id": None}, {"query": "x"}])
    _expect_error(_run("--faq", files["faq"], "--queries", p), "q.jsonl:2", "faq_id")
