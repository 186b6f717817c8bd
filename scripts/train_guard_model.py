"""Train the compliance guard's learned detectors (off_platform, card_fee,
authority, invoice) and write kefu/compliance/rules/guard_model.json.

    .venv/bin/python scripts/train_guard_model.py [--check] [--report]

Method (docs/BENCHMARKS.md, "Compliance guard: learned detector"): per
family, a logistic regression (class_weight balanced, L2, C=1, lbfgs) over the
binary features of kefu.compliance.guard.learned.features (character
1–3-grams of the folded text, digits as 0, plus English words; for the
WINDOWED families only of the sentences that hold a trigger), trained on
messages.jsonl + heldout.jsonl … heldout7.jsonl + train_extra.jsonl, and for
authority and invoice also on the later sets listed in TRAIN_ALL (every
heldout was a blind test, scored once, before joining; a text that appears
twice is kept once, with its first label). Only the
TOP_FEATURES weights of largest magnitude are kept; the model is refitted on
them so the shipped weights are the whole model.

The threshold is chosen by cross-validation over those training corpora
(heldout3.jsonl, which used to be the validation set, is training data now):
FOLDS stratified folds; in each, the whole fit (feature selection and refit)
runs on the other folds and scores the fold's messages as the guard runs the
detector (trigger expressions, then score, then the engine's negation of the
finding's clause). The out-of-fold scores, united with the rules' findings,
give each threshold's combined recall and false-positive rate; the chosen
threshold maximises recall minus false-positive rate (Youden's J, rounded to
three places; the middle one of a tie) among those whose combined
false-positive rate stays ≤ MAX_FP / 2 (half the target, a margin for
wordings the corpora do not have). The rules were written on these corpora,
so they find nearly all of the positives at every threshold: what moves J is
what the model adds on the messages the rules miss against the clean
messages it flags. The newest blind set (heldout15.jsonl) is never read.

Deterministic: no randomness in the fit; the cross-validation split is seeded.
--check exits 1 if the file it would write differs from the shipped one."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings.dev")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

CORPUS = ROOT / "kefu" / "compliance" / "tests" / "corpus"
TRAIN = (
    "messages",
    "heldout",
    "heldout2",
    "heldout3",
    "heldout4",
    "heldout5",
    "heldout6",
    "heldout7",
    "train_extra",
)
# authority (round 9) and invoice (round 10) train on every corpus that has been
# read: the blind sets once scored (heldout8 … heldout14), train_extra9.jsonl and
# the rounds' own training sets (train_extra12: invoice and authority,
# train_extra15: invoice). The two older families keep their training set, so
# their weights do not move. heldout15.jsonl, the last blind set, is not read.
TRAIN_ALL = (
    *TRAIN,
    "heldout8",
    "heldout9",
    "train_extra9",
    "heldout10",
    "heldout11",
    "train_extra12",
    "heldout12",
    "heldout13",
    "heldout14",
    "train_extra15",
)
FAMILIES = ("off_platform", "card_fee", "authority", "invoice")
TRAIN_OF = {"authority": TRAIN_ALL, "invoice": TRAIN_ALL}
# The shop's long knowledge-base answers, a genre the corpora lack, draw notes
# from a low authority threshold: it is chosen among those of at least 0.5
# (odds 1.6 to 1; 2 notes on the demo shop's 188 answers, pinned in
# test_demo.py; 4 at 1.0 before the model read windows).
MIN_THRESHOLD = {"authority": 0.5}
# Invoice talk is common and mostly clean (a quarter of guard_bench's messages
# name an invoice): the invoice and authority models read only the sentences
# that hold one of their trigger words, in training and at send time, so a
# long message pays for those sentences only, and its other sentences add
# nothing to the score (round 10: cross-validated authority recall 0.88
# against 0.84 for the whole message at the same threshold).
WINDOWED = {"invoice", "authority"}
NGRAM_RANGE = (1, 3)
C = 1.0
TOP_FEATURES = 4000
MAX_FP = 0.05
FOLDS = 5
THRESHOLDS = [round(-2.0 + 0.125 * i, 3) for i in range(41)]  # -2 … 3
SEED = 0


def load(name: str) -> list[dict]:
    path = CORPUS / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def training_rows(names: tuple[str, ...] = TRAIN) -> list[dict]:
    """The training corpora in order, each text once (its first label)."""
    seen: set[str] = set()
    rows = []
    for name in names:
        for row in load(name):
            if row["text"] not in seen:
                seen.add(row["text"])
                rows.append(row)
    return rows


def build(report: bool) -> dict:
    import django
    import numpy as np
    import re2
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    django.setup()
    from kefu.compliance.guard import detectors
    from kefu.compliance.guard.defaults import default_specs
    from kefu.compliance.guard.engine import Guard, negated_clause
    from kefu.compliance.guard.learned import FamilyModel, Window, features
    from kefu.compliance.guard.normalize import fold

    rules_only = Guard([s for s in default_specs() if not s.detector.startswith("learned_")])

    def fit(x, y):
        return LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(x, y)

    def train_model(rows_features, indices, y) -> tuple[dict[str, float], float]:
        """Fit, keep the TOP_FEATURES largest weights, refit on them."""
        vectorizer = DictVectorizer()
        x = vectorizer.fit_transform([rows_features[i] for i in indices])
        full = fit(x, y[indices])
        names = vectorizer.get_feature_names_out()
        order = np.lexsort((names, -np.abs(full.coef_[0])))[:TOP_FEATURES]
        kept = sorted(str(names[i]) for i in order)
        vectorizer = DictVectorizer()
        vectorizer.fit([dict.fromkeys(kept, 1)])
        x = vectorizer.transform([rows_features[i] for i in indices])
        model = fit(x, y[indices])
        weights = {
            name: round(float(w), 4)
            for name, w in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True)
            if round(float(w), 4) != 0
        }
        return weights, round(float(model.intercept_[0]), 4)

    output: dict = {
        "version": 1,
        "ngram_range": list(NGRAM_RANGE),
        "trained_on": [f"{name}.jsonl" for name in TRAIN],
        "threshold_chosen_by": f"{FOLDS}-fold cross-validation over the training corpora",
        "families": {},
    }
    for family in FAMILIES:
        names = TRAIN_OF.get(family, TRAIN)
        train = training_rows(names)
        train_norms = [fold(row["text"]) for row in train]
        rule_families = [{f.family for f in rules_only.screen(r["text"]).findings} for r in train]
        detector = detectors.get(f"learned_{family}")
        window = None
        if family in WINDOWED:
            window = Window(detector.triggers, detector.trigger_patterns)
            gate = [window.span]
        else:  # the older families: their RE2 expressions, as before
            gate = [re2.compile(p).search for p in detector.trigger_patterns]
        rows_features = [
            dict.fromkeys(
                sorted(features(window.part(norm)[0] if window else norm, *NGRAM_RANGE)), 1
            )
            for norm in train_norms
        ]
        everything = np.arange(len(train))
        y = np.array([row["family"] == family for row in train])
        weights, bias = train_model(rows_features, everything, y)

        # Cross-validation: the detector as the guard runs it, out of fold.
        uncovered = [
            r["text"]
            for r, n in zip(train, train_norms, strict=True)
            if r["family"] == family and not any(p(n) for p in gate)
        ]
        if uncovered and family in TRAIN_OF:  # the older gates predate this check
            raise SystemExit(f"{family}: trigger expressions miss {uncovered[:5]}")
        candidates: list[float | None] = [None] * len(train)
        folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
        for a, b in folds.split(everything, y):
            fold_weights, fold_bias = train_model(rows_features, a, y)
            scorer = FamilyModel(
                family, fold_weights, fold_bias, float("-inf"), *NGRAM_RANGE, window=window
            )
            for i in b:
                norm = train_norms[i]
                if not any(p(norm) for p in gate):
                    continue
                span = scorer.find(norm)
                if span is not None and not negated_clause(norm, span[0]):
                    candidates[i] = scorer.score(norm)
        rules = np.array([family in found for found in rule_families])
        table = []
        for threshold in THRESHOLDS:
            model_hits = np.array([s is not None and s > threshold for s in candidates])
            combined = rules | model_hits
            table.append(
                (
                    threshold,
                    combined[y].mean(),
                    combined[~y].mean(),
                    model_hits[y].mean(),
                    model_hits[~y].mean(),
                )
            )
        floor = MIN_THRESHOLD.get(family, float("-inf"))
        feasible = [row for row in table if row[2] <= MAX_FP / 2 and row[0] >= floor]
        best = max(round(row[1] - row[2], 3) for row in feasible)
        plateau = [row for row in feasible if round(row[1] - row[2], 3) == best]
        chosen = plateau[len(plateau) // 2]
        threshold = chosen[0]

        output["families"][family] = {
            "trained_on": [f"{name}.jsonl" for name in names],
            "window": family in WINDOWED,
            "bias": bias,
            "threshold": threshold,
            "cross_validation": {
                "rules_recall": round(float(rules[y].mean()), 3),
                "rules_fp": round(float(rules[~y].mean()), 3),
                "combined_recall": round(float(chosen[1]), 3),
                "combined_fp": round(float(chosen[2]), 3),
                "model_recall": round(float(chosen[3]), 3),
                "model_fp": round(float(chosen[4]), 3),
            },
            "weights": weights,
        }
        if report:
            print(f"== {family}: {len(weights)} weights, threshold {threshold}", file=sys.stderr)
            for row in table:
                mark = " <" if row[0] == threshold else ""
                print(
                    f"  t={row[0]:6.3f} combined r={row[1]:.3f} fp={row[2]:.3f}"
                    f"  model r={row[3]:.3f} fp={row[4]:.3f}{mark}",
                    file=sys.stderr,
                )
    return output


def dump(model: dict) -> str:
    return json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def main() -> int:
    from kefu.compliance.guard.learned import MODEL_FILE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file")
    parser.add_argument("--report", action="store_true", help="print the threshold table")
    parser.add_argument("--output", type=Path, default=MODEL_FILE)
    args = parser.parse_args()
    text = dump(build(args.report))
    if args.check:
        same = args.output.exists() and args.output.read_text("utf-8") == text
        print("up to date" if same else f"{args.output} differs from what training produces")
        return 0 if same else 1
    args.output.write_text(text, encoding="utf-8")
    summary = {
        f: m["cross_validation"] | {"threshold": m["threshold"]}
        for f, m in json.loads(text)["families"].items()
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
