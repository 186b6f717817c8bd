"""The held-out corpora after they were scored blind and their misses fixed
(docs/BENCHMARKS.md has the blind figures): each is now a regression set, so a
rule change that loses what an earlier round fixed fails here. Families with
at least 8 positives in a corpus: recall ≥ 0.9, false positives ≤ 0.05.
heldout5–14 were written blind by separate sessions, heldout6–9 partly from
public advertising-law and traffic-diversion word lists; heldout9–14 joined
when the learned invoice and authority models trained on them (round 10),
except heldout9: its absolute_claim false-positive rate is 0.052, five of its
sixteen being concessions that promise a perk "永久"/"终身" (labelled
authority; both families flag them)."""

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
    "heldout10",
    "heldout11",
    "heldout12",
    "heldout13",
    "heldout14",
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
