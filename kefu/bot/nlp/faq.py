"""FAQ matching: TF-IDF similarity to every phrasing and to each FAQ's centroid.

Confidence is a calibrated probability that the top hit is right, learned from the
knowledge base alone by holding each phrasing out and querying it against the rest
(a phrasing of a single-phrasing FAQ then plays an unanswerable question).
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kefu.bot.nlp.features import TextFeatures
from kefu.bot.nlp.text import _tokenize, is_cjk, normalize, tokenize

__all__ = ["DEFAULT_ANSWER_THRESHOLD", "FaqDoc", "FaqHit", "FaqMatcher"]

#: Shop default: the bot answers on its own when the top hit's confidence reaches this.
DEFAULT_ANSWER_THRESHOLD = 0.9

_FORMAT = 1
_WORD_WEIGHT = 0.3  # word n-gram block vs. character n-gram block
_CENT_WEIGHT = 0.5  # weight of the similarity to an FAQ's centroid (vs. best phrasing)
_CLF_MIN_TEXTS = 3  # FAQs with this many phrasings also get a linear classifier ...
_CLF_C = 1.0
_CLF_WEIGHT = 0.3  # ... whose margin is added to the similarity
_CALIB_FOLDS = 3
_CALIB_MAX = 3000  # held-out phrasings used to calibrate the confidence
_SUPPORT_FULL = 0.5  # share of query words known to the index above which confidence is kept
_FUZZY_MIN_LEN = 6  # latin words this long also match a known word one edit away


def _deletes(w: str) -> set[str]:
    return {w[:i] + w[i + 1 :] for i in range(len(w))}


def _calib_features(s1: float, s2: float) -> list[float]:
    return [s1, s1 - s2]


@dataclass(frozen=True)
class FaqDoc:
    id: str
    texts: tuple[str, ...]  # question first, then other phrasings


@dataclass(frozen=True)
class FaqHit:
    id: str
    score: float
    confidence: float  # in [0, 1], comparable across queries


class _Synonyms:
    """Rewrites every term of a synonym group to the group's first term (on normalised text)."""

    def __init__(self, groups: Sequence[Sequence[str]]) -> None:
        mapping: dict[str, str] = {}
        for g in groups:
            terms = [normalize(t) for t in g if normalize(t)]
            if len(terms) < 2:
                continue
            for t in terms[1:]:
                mapping.setdefault(t, terms[0])
        self.mapping = mapping
        if mapping:
            alts = []
            for t in sorted(mapping, key=len, reverse=True):
                e = re.escape(t)
                if re.fullmatch(r"[\w ']+", t) and t.isascii():
                    e = rf"\b{e}\b"
                alts.append(e)
            self.pattern: re.Pattern | None = re.compile("|".join(alts))
        else:
            self.pattern = None

    def __call__(self, norm: str) -> str:
        if self.pattern is None:
            return norm
        return self.pattern.sub(lambda m: self.mapping[m.group()], norm)


class FaqMatcher:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.features: TextFeatures | None = None
        self.rows_t: sp.csr_matrix | None = None  # V x N (phrasings)
        self.cent_t: sp.csr_matrix | None = None  # V x D (centroids)
        self.row_starts = np.zeros(0, dtype=np.int64)
        self.clf_t: sp.csr_matrix | None = None  # V x M classifier weights (multi-phrasing FAQs)
        self.clf_b = np.zeros(0, dtype=np.float32)
        self.clf_docs = np.zeros(0, dtype=np.int64)  # doc index of each classifier column
        self.calib = np.array([8.0, 8.0, -5.0])
        self.known_words: frozenset[str] | None = None  # word unigrams of the index
        self.known_bigrams: frozenset[str] | None = None  # Chinese char bigrams of the index
        self.fuzzy: frozenset[str] | None = None  # one-deletion variants of long latin words

    # ----------------------------------------------------------------- fitting
    @classmethod
    def fit(cls, docs: Sequence[FaqDoc], synonyms: Sequence[Sequence[str]] = ()) -> FaqMatcher:
        docs = [d for d in docs if any(str(t).strip() for t in d.texts)]
        self = cls()
        if not docs:
            return self
        texts: list[str] = []
        doc_of: list[int] = []
        for i, d in enumerate(docs):
            for t in d.texts:
                if str(t).strip():
                    texts.append(str(t))
                    doc_of.append(i)
        self.features = TextFeatures(
            word_max=2,
            char_range=(1, 4),
            word_weight=_WORD_WEIGHT,
            preprocess=_Synonyms(synonyms),
            cjk_char_max=2,
            cjk_word_max=1,
        )
        x = self.features.fit_transform(texts)
        self._vocabulary()
        doc_arr = np.asarray(doc_of)
        self._build(x, doc_arr, [str(d.id) for d in docs])
        self._calibrate(x, doc_arr)
        return self

    def _vocabulary(self) -> None:
        assert self.features is not None
        words = {w for w in self.features.word.vocabulary_ if " " not in w}
        self.known_words = frozenset(words)
        self.known_bigrams = frozenset(
            g
            for g in self.features.char.vocabulary_
            if len(g) == 2 and is_cjk(g[0]) and is_cjk(g[1])
        )
        fuzzy: set[str] = set()
        for w in words:
            if len(w) >= _FUZZY_MIN_LEN - 1 and w.isascii() and w.isalpha():
                fuzzy.add(w)
                fuzzy |= _deletes(w)
        self.fuzzy = frozenset(fuzzy)

    def _support(self, query: str) -> float:
        """Share of the query's words that the index knows (exactly, by a Chinese character
        bigram, or one edit away for long latin words); 1.0 for indexes fitted before this."""
        if (
            self.known_words is None
            or self.known_bigrams is None
            or self.fuzzy is None
            or self.features is None
        ):
            return 1.0
        norm = normalize(query)
        if self.features.preprocess is not None:
            norm = self.features.preprocess(norm)
        toks = set(_tokenize(norm))
        if not toks:
            return 0.0
        known = 0
        for t in toks:
            if t in self.known_words:
                known += 1
            elif is_cjk(t[0]) and len(t) >= 2:
                known += any(t[i : i + 2] in self.known_bigrams for i in range(len(t) - 1))
            elif len(t) >= _FUZZY_MIN_LEN and t.isascii() and t.isalpha():
                known += t in self.fuzzy or bool(_deletes(t) & self.fuzzy)
        return known / len(toks)

    def _build(self, x: sp.csr_matrix, doc_of: np.ndarray, ids: list[str]) -> None:
        """Index rows ``x`` (grouped by FAQ, in order) of FAQs ``ids``."""
        self.ids = ids
        n_docs = len(ids)
        counts = np.bincount(doc_of, minlength=n_docs)
        self.row_starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        agg = sp.csr_matrix(
            (np.ones(len(doc_of), dtype=np.float32), (doc_of, np.arange(len(doc_of)))),
            shape=(n_docs, len(doc_of)),
        )
        cent = agg @ x
        norms = np.sqrt(np.asarray(cent.multiply(cent).sum(axis=1)).ravel())
        cent = sp.diags((1.0 / np.maximum(norms, 1e-12)).astype(np.float32)) @ cent
        self.rows_t = x.T.tocsr()
        self.cent_t = sp.csr_matrix(cent.T, dtype=np.float32)
        self.clf_t = None
        self.clf_b = np.zeros(0, dtype=np.float32)
        self.clf_docs = np.zeros(0, dtype=np.int64)
        multi = np.flatnonzero(counts >= _CLF_MIN_TEXTS)
        if len(multi) >= 2 and counts[multi].sum() * 2 >= len(doc_of):
            from sklearn.svm import LinearSVC

            rows = np.flatnonzero(np.isin(doc_of, multi))
            svm = LinearSVC(C=_CLF_C)
            svm.fit(x[rows], doc_of[rows])
            coef = svm.coef_.astype(np.float32)
            coef[np.abs(coef) < 1e-3] = 0.0
            self.clf_t = sp.csr_matrix(coef.T)
            self.clf_b = svm.intercept_.astype(np.float32)
            self.clf_docs = svm.classes_.astype(np.int64)

    def _calibrate(self, x: sp.csr_matrix, doc_of: np.ndarray) -> None:
        """Fit confidence = P(top hit is right) on held-out phrasings of this knowledge base."""
        from sklearn.linear_model import LogisticRegression

        n = x.shape[0]
        rng = np.random.default_rng(0)
        fold = rng.integers(0, _CALIB_FOLDS, size=n)
        feats, ok = [], []
        per_fold = max(1, _CALIB_MAX // _CALIB_FOLDS)
        for k in range(_CALIB_FOLDS):
            keep = np.flatnonzero(fold != k)
            held = np.flatnonzero(fold == k)
            if len(held) == 0 or len(keep) == 0:
                continue
            if len(held) > per_fold:
                held = rng.choice(held, per_fold, replace=False)
            kept_docs, new_doc = np.unique(doc_of[keep], return_inverse=True)
            sub = FaqMatcher()
            sub._build(x[keep], new_doc, [str(i) for i in kept_docs])
            for start in range(0, len(held), 256):
                chunk = held[start : start + 256]
                scores = sub._scores(x[chunk])
                for r, j in enumerate(chunk):
                    s = scores[r]
                    top2 = np.argpartition(-s, 1)[:2] if len(s) > 1 else np.array([0])
                    top2 = top2[np.argsort(-s[top2])]
                    s1 = float(s[top2[0]])
                    s2 = float(s[top2[1]]) if len(top2) > 1 else 0.0
                    feats.append(_calib_features(s1, s2))
                    ok.append(kept_docs[top2[0]] == doc_of[j])
        ok_arr = np.asarray(ok, dtype=int)
        if len(ok_arr) >= 20 and 0 < ok_arr.sum() < len(ok_arr):
            lr = LogisticRegression(C=1.0).fit(np.asarray(feats), ok_arr)
            self.calib = np.concatenate([lr.coef_[0], lr.intercept_])

    def __len__(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------------ search
    def _scores(self, q: sp.csr_matrix) -> np.ndarray:
        """Scores of every FAQ for each query row: (n_queries, n_docs)."""
        row_sims = (q @ self.rows_t).toarray()
        best = np.maximum.reduceat(row_sims, self.row_starts, axis=1)
        cent = (q @ self.cent_t).toarray()
        scores = (1 - _CENT_WEIGHT) * best + _CENT_WEIGHT * cent
        if self.clf_t is not None:
            dec = (q @ self.clf_t).toarray() + self.clf_b
            scores[:, self.clf_docs] += _CLF_WEIGHT * np.clip(dec + 1.0, 0.0, None)
        return scores

    def _confidence(self, s1: float, s2: float) -> float:
        z = float(np.dot(self.calib[:-1], _calib_features(s1, s2)) + self.calib[-1])
        return float(1.0 / (1.0 + np.exp(-z)))

    def search(self, query: str, k: int = 5) -> list[FaqHit]:
        if not self.ids or self.features is None or not query or not tokenize(query):
            return []  # nothing but punctuation / whitespace
        q = self.features.transform([query])
        if q.nnz == 0 or k <= 0:
            return []
        scores = self._scores(q)[0]
        n = len(scores)
        kk = min(k, n)
        top = np.argpartition(-scores, kk)[: kk + 1] if n > kk + 1 else np.arange(n)
        top = top[np.argsort(-scores[top], kind="stable")]
        s1 = float(scores[top[0]])
        s2 = float(scores[top[1]]) if len(top) > 1 else 0.0
        # A query that shares (almost) no word with the knowledge base is not answered,
        # however its character n-grams happen to line up.
        gate = min(1.0, self._support(query) / _SUPPORT_FULL)
        conf1 = self._confidence(s1, s2) * gate
        hits = [FaqHit(self.ids[top[0]], s1, conf1)]
        for i in top[1:kk]:
            s = float(scores[i])
            # A lower hit is never more trustworthy than the top one.
            hits.append(FaqHit(self.ids[i], s, min(conf1, self._confidence(s, s1) * gate)))
        return hits

    # ----------------------------------------------------------- serialising
    def to_bytes(self) -> bytes:
        return pickle.dumps((_FORMAT, self), protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, b: bytes) -> FaqMatcher:
        fmt, obj = pickle.loads(b)
        if fmt != _FORMAT or not isinstance(obj, cls):
            raise ValueError("not a serialized FaqMatcher")
        return obj
