"""Evaluate the Kefu bot NLP (intents, FAQ auto-answer, sentiment, latency) on labelled files.

Examples (from the repository root)::

    python bench/bot_eval.py --intents-train ../shared/data/intents/banking77_train.csv
    python bench/bot_eval.py --intents-train ../shared/data/intents/clinc150_train.csv \\
        --intents-test ../shared/data/intents/clinc150_val.csv \\
        --faq ../shared/data/faq/clinc150_faq.jsonl \\
        --queries ../shared/data/faq/clinc150_queries.jsonl --pad-faqs 10000
    python bench/bot_eval.py --sentiment ../shared/data/sentiment/waimai_zh_dev.csv

Progress and the auto-answer curve go to stderr; the last line of stdout is one JSON
object with every figure (null where that part was not asked for). Bad input exits
with code 2 and a ``file:line: problem`` message.
"""

from __future__ import annotations

import os

# Single-threaded numerics for the latency figures; must precede the numpy import.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SENTIMENT_LABELS = ("negative", "neutral", "positive")


class InputError(Exception):
    """A missing or malformed input file; reported as ``file:line: message``, exit 2."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- reading
def _open_text(path: str):
    p = Path(path)
    if not p.exists():
        raise InputError(path, None, "file not found")
    if not p.is_file():
        raise InputError(path, None, "not a regular file")
    try:
        return open(p, encoding="utf-8-sig", newline="")
    except OSError as e:
        raise InputError(path, None, f"cannot open: {e.strerror}") from None


def read_csv(path: str, columns: tuple[str, str]) -> list[tuple[str, str, int]]:
    """Rows as (first column, second column, line number); both must be non-empty."""
    rows: list[tuple[str, str, int]] = []
    with _open_text(path) as f:
        reader = csv.reader(f)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as e:
            raise InputError(path, 1, f"unreadable header ({e})") from None
        if header is None:
            raise InputError(path, None, "empty file (expected a header row)")
        header = [h.strip().lstrip("\ufeff") for h in header]
        missing = [c for c in columns if c not in header]
        if missing:
            raise InputError(
                path,
                1,
                f"missing column {', '.join(repr(c) for c in missing)} "
                f"(header is {','.join(header)}; expected {','.join(columns)})",
            )
        ia, ib = header.index(columns[0]), header.index(columns[1])
        start = 2
        while True:
            try:
                rec = next(reader)
            except StopIteration:
                break
            except UnicodeDecodeError:
                raise InputError(path, reader.line_num + 1, "not valid UTF-8") from None
            except csv.Error as e:
                raise InputError(path, reader.line_num, f"bad CSV ({e})") from None
            line = start
            start = reader.line_num + 1
            if not rec or all(not c.strip() for c in rec):
                continue
            if len(rec) != len(header):
                raise InputError(path, line, f"expected {len(header)} fields, found {len(rec)}")
            a, b = rec[ia].strip(), rec[ib].strip()
            if not a:
                raise InputError(path, line, f"empty {columns[0]!r}")
            if not b:
                raise InputError(path, line, f"empty {columns[1]!r}")
            rows.append((a, b, line))
    if not rows:
        raise InputError(path, None, "no data rows")
    return rows


def read_jsonl(path: str) -> list[tuple[dict, int]]:
    out: list[tuple[dict, int]] = []
    with _open_text(path) as f:
        n = 0
        while True:
            n += 1
            try:
                raw = f.readline()
            except UnicodeDecodeError:
                raise InputError(path, n, "not valid UTF-8") from None
            if not raw:
                break
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as e:
                raise InputError(path, n, f"bad JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(obj, dict):
                raise InputError(path, n, "expected a JSON object")
            out.append((obj, n))
    if not out:
        raise InputError(path, None, "no data lines")
    return out


def _req_str(obj: dict, key: str, path: str, line: int) -> str:
    if key not in obj:
        raise InputError(path, line, f"missing field {key!r}")
    v = obj[key]
    if not isinstance(v, str):
        raise InputError(path, line, f"field {key!r} must be a string")
    if not v.strip():
        raise InputError(path, line, f"empty {key!r}")
    return v.strip()


def read_faq(path: str) -> list[tuple[str, tuple[str, ...]]]:
    docs: list[tuple[str, tuple[str, ...]]] = []
    seen: set[str] = set()
    for obj, line in read_jsonl(path):
        fid = _req_str(obj, "id", path, line)
        question = _req_str(obj, "question", path, line)
        paras = obj.get("paraphrases", [])
        if paras is None:
            paras = []
        if not isinstance(paras, list) or not all(isinstance(p, str) for p in paras):
            raise InputError(path, line, "field 'paraphrases' must be a list of strings")
        if any(not p.strip() for p in paras):
            raise InputError(path, line, "empty text in 'paraphrases'")
        if "answer" in obj and not isinstance(obj["answer"], str):
            raise InputError(path, line, "field 'answer' must be a string")
        if fid in seen:
            raise InputError(path, line, f"duplicate id {fid!r}")
        seen.add(fid)
        docs.append((fid, (question, *[p.strip() for p in paras])))
    return docs


def read_queries(path: str, faq_ids: set[str]) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for obj, line in read_jsonl(path):
        q = _req_str(obj, "query", path, line)
        if "faq_id" not in obj:
            raise InputError(path, line, "missing field 'faq_id' (use null for unanswerable)")
        fid = obj["faq_id"]
        if fid is not None and not isinstance(fid, str):
            raise InputError(path, line, "field 'faq_id' must be a string or null")
        if fid is not None and fid not in faq_ids:
            raise InputError(path, line, f"faq_id {fid!r} is not an id of the FAQ file")
        out.append((q, fid))
    return out


def read_sentiment(path: str) -> list[tuple[str, str]]:
    rows = []
    for text, label, line in read_csv(path, ("text", "label")):
        lab = label.strip().lower()
        if lab not in SENTIMENT_LABELS:
            raise InputError(
                path, line, f"unknown sentiment label {label!r} (use negative, neutral, positive)"
            )
        rows.append((text, lab))
    return rows


# --------------------------------------------------------------------------- baseline
def _is_chinese(texts) -> bool:
    from kefu.bot.nlp.text import language_of

    sample = texts[:2000]
    return sum(language_of(t) == "zh-hans" for t in sample) * 2 > len(sample)


def baseline_vectorizer(texts):
    """TF-IDF word 1-2-grams + char_wb 2-5-grams (char 1-3-grams for Chinese), sublinear tf."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    char = (
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        if _is_chinese(texts)
        else TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    )
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
    return FeatureUnion([("word", word), ("char", char)])


def baseline_intents(train_x, train_y, test_x) -> list[str]:
    from sklearn.linear_model import LogisticRegression

    vec = baseline_vectorizer(train_x)
    x = vec.fit_transform(train_x)
    clf = LogisticRegression(C=20, max_iter=2000)
    clf.fit(x, train_y)
    return list(clf.predict(vec.transform(test_x)))


def baseline_faq(docs, queries):
    """Nearest paraphrase by TF-IDF cosine: returns (top-1 id, cosine) per query."""
    import numpy as np

    texts, owner = [], []
    for fid, ts in docs:
        for t in ts:
            texts.append(t)
            owner.append(fid)
    vec = baseline_vectorizer(texts)
    x = vec.fit_transform(texts)
    # FeatureUnion concatenates two L2-normalised blocks: renormalise for a cosine.
    from sklearn.preprocessing import normalize as l2

    x = l2(x)
    q = l2(vec.transform([q for q, _ in queries]))
    out = []
    for start in range(0, q.shape[0], 256):
        sims = (q[start : start + 256] @ x.T).toarray()
        best = sims.argmax(axis=1)
        for r, j in enumerate(best):
            out.append((owner[j], float(sims[r, j])))
    return out, np


# --------------------------------------------------------------------------- metrics
def answer_curve(conf_correct: list[tuple[float, bool]], total: int):
    """Auto-answer curve cut points (threshold, coverage, precision), most confident first."""
    pts = sorted(conf_correct, key=lambda t: -t[0])
    out = []
    answered = correct = 0
    i = 0
    while i < len(pts):
        c = pts[i][0]
        while i < len(pts) and pts[i][0] == c:
            answered += 1
            correct += pts[i][1]
            i += 1
        out.append((c, answered / total, correct / answered))
    return out


def coverage_at(curve, min_precision: float) -> float:
    best = 0.0
    for _, cov, prec in curve:
        if prec >= min_precision:
            best = max(best, cov)
    return best


def at_threshold(conf_correct, total: int, thr: float):
    ans = [c for conf, c in conf_correct if conf >= thr]
    cov = len(ans) / total if total else 0.0
    prec = (sum(ans) / len(ans)) if ans else None
    return cov, prec


def compact_curve(curve, thresholds=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)):
    out = []
    for thr in thresholds:
        pts = [p for p in curve if p[0] >= thr]
        if pts:
            out.append([thr, round(pts[-1][1], 4), round(pts[-1][2], 4)])
        else:
            out.append([thr, 0.0, None])
    return out


def split_stratified(rows, seed: int = 0, test_size: float = 0.2):
    from sklearn.model_selection import train_test_split

    counts = Counter(y for _, y in rows)
    solo = [r for r in rows if counts[r[1]] < 2]
    rest = [r for r in rows if counts[r[1]] >= 2]
    n_classes = len({y for _, y in rest})
    n_test = max(int(round(len(rest) * test_size)), n_classes)
    if len(rest) - n_test < n_classes:
        raise InputError("--intents-train", None, "too few rows for a stratified 20 % split")
    tr, te = train_test_split(
        rest, test_size=n_test, random_state=seed, stratify=[y for _, y in rest]
    )
    return list(tr) + solo, list(te)


# --------------------------------------------------------------------------- padding
def generate_distractors(n: int, vocab_texts: list[str], seed: int = 0):
    """N single-question FAQs made of words drawn from the given texts (or a built-in list)."""
    from kefu.bot.nlp.text import tokenize

    rng = random.Random(seed)
    words: list[str] = []
    zh = False
    for t in vocab_texts[:20000]:
        words.extend(tokenize(t))
    if words:
        zh = _is_chinese(vocab_texts)
    else:
        words = (
            "order refund delivery package card account payment cancel address change "
            "where when how why my the a is not still arrived late broken wrong charge "
            "password login app transfer fee balance return exchange size colour invoice"
        ).split()
    out = []
    for i in range(n):
        k = rng.randint(4, 12)
        ws = [rng.choice(words) for _ in range(k)]
        out.append((f"pad-{i:06d}", ("".join(ws) if zh else " ".join(ws),)))
    return out


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Evaluate Kefu bot NLP: intents, FAQ auto-answer, sentiment, latency."
    )
    ap.add_argument("--intents-train", metavar="CSV", help="columns text,intent")
    ap.add_argument("--intents-test", metavar="CSV", help="default: stratified 20%% split")
    ap.add_argument("--faq", metavar="JSONL", help='lines {"id","question","answer","paraphrases"}')
    ap.add_argument("--queries", metavar="JSONL", help='lines {"query","faq_id"}')
    ap.add_argument("--sentiment", metavar="CSV", help="columns text,label")
    ap.add_argument("--sentiment-train", metavar="CSV", help="shop labels to adapt to")
    ap.add_argument(
        "--pad-faqs", metavar="N", type=int, help="measure latency with N distractor FAQs"
    )
    ap.add_argument("--latency-messages", metavar="M", type=int, default=1000)
    ap.add_argument("--no-baseline", action="store_true", help="skip the baseline models")
    args = ap.parse_args(argv)

    if args.intents_test and not args.intents_train:
        ap.error("--intents-test needs --intents-train")
    if bool(args.faq) != bool(args.queries):
        ap.error("--faq and --queries go together")
    if args.sentiment_train and not args.sentiment:
        ap.error("--sentiment-train needs --sentiment")
    if args.pad_faqs is not None and args.pad_faqs < 0:
        ap.error("--pad-faqs must be >= 0")
    if not (args.intents_train or args.faq or args.sentiment or args.pad_faqs is not None):
        ap.error("nothing to do: give --intents-train, --faq/--queries, --sentiment or --pad-faqs")

    try:
        return _run(args)
    except InputError as e:
        print(f"bot_eval: error: {e}", file=sys.stderr)
        return 2


def _run(args) -> int:
    result: dict = {
        "intent_accuracy": None,
        "intent_macro_f1": None,
        "faq_top1": None,
        "faq_mrr": None,
        "coverage_at_p95": None,
        "sentiment_accuracy": None,
        "negative_recall": None,
        "p50_ms": None,
        "p99_ms": None,
        "baseline_intent_accuracy": None,
        "baseline_faq_top1": None,
    }
    # Read and validate every file before any (slow) training.
    intent_train = intent_test = None
    if args.intents_train:
        intent_train = [(t, y) for t, y, _ in read_csv(args.intents_train, ("text", "intent"))]
        if args.intents_test:
            intent_test = [(t, y) for t, y, _ in read_csv(args.intents_test, ("text", "intent"))]
    faq_docs = queries = None
    if args.faq:
        faq_docs = read_faq(args.faq)
        queries = read_queries(args.queries, {d for d, _ in faq_docs})
    sent_test = sent_train = None
    if args.sentiment:
        sent_test = read_sentiment(args.sentiment)
        if args.sentiment_train:
            sent_train = read_sentiment(args.sentiment_train)

    from sklearn.metrics import accuracy_score, f1_score

    from kefu.bot.nlp import (
        DEFAULT_ANSWER_THRESHOLD,
        FaqDoc,
        FaqMatcher,
        IntentModel,
        SentimentModel,
    )

    intent_model = None
    if intent_train is not None:
        if intent_test is None:
            intent_train, intent_test = split_stratified(intent_train)
            result["intent_split"] = "stratified 20% of --intents-train, seed 0"
        tx, ty = [t for t, _ in intent_train], [y for _, y in intent_train]
        ex, ey = [t for t, _ in intent_test], [y for _, y in intent_test]
        t0 = time.perf_counter()
        intent_model = IntentModel.fit(tx, ty)
        result["intent_fit_s"] = round(time.perf_counter() - t0, 2)
        pred = [p.label for p in intent_model.predict_many(ex)]
        result["intent_accuracy"] = round(accuracy_score(ey, pred), 4)
        result["intent_macro_f1"] = round(f1_score(ey, pred, average="macro", zero_division=0), 4)
        result["intent_n_train"], result["intent_n_test"] = len(tx), len(ex)
        unseen = sum(1 for y in ey if y not in set(ty))
        result["intent_test_unseen_labels"] = unseen
        log(
            f"intents: {len(tx)} train / {len(ex)} test, acc {result['intent_accuracy']}, "
            f"macro-F1 {result['intent_macro_f1']} (fit {result['intent_fit_s']} s)"
        )
        if not args.no_baseline:
            t0 = time.perf_counter()
            bpred = baseline_intents(tx, ty, ex)
            result["baseline_intent_accuracy"] = round(accuracy_score(ey, bpred), 4)
            result["baseline_intent_macro_f1"] = round(
                f1_score(ey, bpred, average="macro", zero_division=0), 4
            )
            log(
                f"intents baseline: acc {result['baseline_intent_accuracy']} "
                f"({time.perf_counter() - t0:.1f} s)"
            )

    matcher = None
    if faq_docs is not None:
        t0 = time.perf_counter()
        matcher = FaqMatcher.fit([FaqDoc(i, ts) for i, ts in faq_docs])
        result["faq_fit_s"] = round(time.perf_counter() - t0, 2)
        answerable = 0
        top1 = 0
        rr = 0.0
        conf_correct: list[tuple[float, bool]] = []
        for q, fid in queries:
            hits = matcher.search(q, k=len(matcher))
            best = hits[0] if hits else None
            conf = best.confidence if best else 0.0
            ok = best is not None and fid is not None and best.id == fid
            conf_correct.append((conf, ok))
            if fid is not None:
                answerable += 1
                top1 += ok
                for r, h in enumerate(hits, 1):
                    if h.id == fid:
                        rr += 1.0 / r
                        break
        n = len(queries)
        curve = answer_curve(conf_correct, n)
        cov_def, prec_def = at_threshold(conf_correct, n, DEFAULT_ANSWER_THRESHOLD)
        result.update(
            faq_top1=round(top1 / answerable, 4) if answerable else None,
            faq_mrr=round(rr / answerable, 4) if answerable else None,
            coverage_at_p95=round(coverage_at(curve, 0.95), 4),
            default_threshold=DEFAULT_ANSWER_THRESHOLD,
            coverage_at_default=round(cov_def, 4),
            precision_at_default=None if prec_def is None else round(prec_def, 4),
            faq_curve=compact_curve(curve),
            faq_n_docs=len(faq_docs),
            faq_n_queries=n,
            faq_n_answerable=answerable,
        )
        log(
            f"faq: top1 {result['faq_top1']} mrr {result['faq_mrr']} "
            f"coverage@p95 {result['coverage_at_p95']} | at default {DEFAULT_ANSWER_THRESHOLD}: "
            f"coverage {result['coverage_at_default']} precision {result['precision_at_default']}"
        )
        log("faq curve [threshold, coverage, precision]: " + json.dumps(result["faq_curve"]))
        if not args.no_baseline:
            bres, _ = baseline_faq(faq_docs, queries)
            ok = [
                fid is not None and b == fid for (b, _), (_, fid) in zip(bres, queries, strict=True)
            ]
            result["baseline_faq_top1"] = round(sum(ok) / answerable, 4) if answerable else None
            bcurve = answer_curve([(s, o) for (_, s), o in zip(bres, ok, strict=True)], n)
            result["baseline_coverage_at_p95"] = round(coverage_at(bcurve, 0.95), 4)
            log(
                f"faq baseline: top1 {result['baseline_faq_top1']} "
                f"coverage@p95 {result['baseline_coverage_at_p95']}"
            )

    sent_model = None
    if sent_test is not None:
        t0 = time.perf_counter()
        sent_model = SentimentModel.shipped()
        if sent_train is not None:
            sent_model = sent_model.adapt([t for t, _ in sent_train], [y for _, y in sent_train])
            result["sentiment_model"] = f"adapted to {len(sent_train)} labelled examples"
        else:
            result["sentiment_model"] = "shipped"
        result["sentiment_fit_s"] = round(time.perf_counter() - t0, 2)
        gold = [y for _, y in sent_test]
        two_class = "neutral" not in set(gold)
        preds = [sent_model.predict(t) for t, _ in sent_test]
        plabels = [p.label for p in preds]
        if two_class:
            plabels = ["negative" if p == "negative" else "positive" for p in plabels]
        neg = [i for i, y in enumerate(gold) if y == "negative"]
        result["sentiment_accuracy"] = round(accuracy_score(gold, plabels), 4)
        result["negative_recall"] = (
            round(sum(plabels[i] == "negative" for i in neg) / len(neg), 4) if neg else None
        )
        pneg = [i for i, p in enumerate(plabels) if p == "negative"]
        result["negative_precision"] = (
            round(sum(gold[i] == "negative" for i in pneg) / len(pneg), 4) if pneg else None
        )
        result["sentiment_macro_f1"] = round(
            f1_score(gold, plabels, average="macro", zero_division=0), 4
        )
        result["sentiment_two_class"] = two_class
        result["sentiment_n"] = len(gold)
        result["angry_share"] = round(sum(p.angry for p in preds) / len(preds), 4)
        log(
            f"sentiment ({result['sentiment_model']}): acc {result['sentiment_accuracy']} "
            f"negative recall {result['negative_recall']}"
        )

    if args.pad_faqs is not None:
        result.update(_latency(args, faq_docs, queries, intent_model, intent_test, sent_test))
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _latency(args, faq_docs, queries, intent_model, intent_test, sent_test) -> dict:
    from kefu.bot.nlp import FaqDoc, FaqMatcher, IntentModel, SentimentModel

    messages: list[str] = []
    if queries:
        messages = [q for q, _ in queries]
    elif intent_test:
        messages = [t for t, _ in intent_test]
    elif sent_test:
        messages = [t for t, _ in sent_test]
    base = list(faq_docs or [])
    vocab = [t for _, ts in base for t in ts] or messages
    pads = generate_distractors(args.pad_faqs, vocab)
    docs = base + pads
    if not messages:
        messages = [ts[0] for _, ts in pads[:1000]] or ["where is my order"]
    t0 = time.perf_counter()
    matcher = FaqMatcher.fit([FaqDoc(i, ts) for i, ts in docs]) if docs else FaqMatcher.fit([])
    fit_s = time.perf_counter() - t0
    if intent_model is None:
        # An intent model of the same kind, trained on what there is (FAQ phrasings -> ids).
        tx = [t for i, ts in docs[:500] for t in ts] or messages[:200]
        ty = [i for i, ts in docs[:500] for _ in ts] or [str(k % 10) for k in range(len(tx))]
        intent_model = IntentModel.fit(tx, ty)
    sentiment = SentimentModel.shipped()

    def one(text: str) -> None:
        intent_model.predict(text)
        matcher.search(text, k=5)
        sentiment.predict(text)

    rng = random.Random(0)
    for t in rng.sample(messages, min(20, len(messages))):  # warm caches, lazy imports
        one(t)
    m = max(1, args.latency_messages)
    sample = [messages[rng.randrange(len(messages))] for _ in range(m)]
    # Disable the per-text caches so every message is processed from scratch.
    from kefu.bot.nlp import text as _text

    times = []
    for t in sample:
        _text.normalize.cache_clear()
        _text._tokenize.cache_clear()
        s = time.perf_counter()
        one(t)
        times.append((time.perf_counter() - s) * 1000)
    times.sort()

    def pct(p: float) -> float:
        return round(times[min(len(times) - 1, int(round(p / 100 * (len(times) - 1))))], 3)

    log(
        f"latency: {len(docs)} FAQs, {m} messages, p50 {pct(50)} ms, p99 {pct(99)} ms "
        f"(index fit {fit_s:.1f} s)"
    )
    return {
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "latency_faqs": len(docs),
        "latency_messages": m,
        "latency_index_fit_s": round(fit_s, 2),
    }


if __name__ == "__main__":
    sys.exit(main())
