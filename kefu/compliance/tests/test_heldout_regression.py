"""The held-out corpora after they were scored blind and their misses fixed
(docs/BENCHMARKS.md has the blind figures): each is now a regression set, so a
rule change that loses what an earlier round fixed fails here. Families with
at least 8 positives in a corpus: recall ≥ 0.9, false positives ≤ 0.05.
heldout5–10 were written blind by separate sessions, heldout6–9 partly from
public advertising-law and traffic-diversion word lists. heldout9 and heldout10
are not here: their invoice lines (and heldout10's concessions) are not yet
found at 0.9 (docs/BENCHMARKS.md)."""

from __future__ import annotations

import pytest

from .test_corpus import CORPUS, scores

CORPORA = (
    "heldout",
    "heldout2",
    "heldout3",
    "heldout4",
    "heldout5",
    "heldout6",
    "heldout7",
    "heldout8",
)
MIN_POSITIVES = 8


@pytest.mark.parametrize("name", CORPORA)
def test_a_tuned_corpus_keeps_its_figures(name):
    failed = {
        family: score
        for family, score in scores(CORPUS / f"{name}.jsonl").items()
        if (score["positives"] >= MIN_POSITIVES and score["recall"] < 0.9)
        or score["fp_rate"] > 0.05
    }
    assert not failed, failed
