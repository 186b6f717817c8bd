"""TF-IDF feature extraction shared by the intent and FAQ models (scikit-learn based)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from kefu.bot.nlp.text import _tokenize, is_cjk, normalize

__all__ = ["TextFeatures", "word_ngrams", "char_ngrams"]


def word_ngrams(norm: str, n_max: int = 2, cjk_max: int | None = None) -> list[str]:
    """Word 1..n_max-grams; n-grams made only of Chinese words stop at ``cjk_max``."""
    toks = list(_tokenize(norm))
    out = list(toks)
    cjk_max = n_max if cjk_max is None else cjk_max
    for n in range(2, n_max + 1):
        for i in range(len(toks) - n + 1):
            gram = toks[i : i + n]
            if n > cjk_max and all(is_cjk(t[0]) for t in gram):
                continue
            out.append(" ".join(gram))
    return out


def char_ngrams(norm: str, n_min: int = 1, n_max: int = 4, cjk_max: int | None = None) -> list[str]:
    """Character n-grams inside word boundaries (like char_wb), padded with spaces.

    Runs of CJK ideographs count as one "word", so Chinese gets plain char n-grams,
    up to ``cjk_max`` characters (short texts share few long Chinese n-grams).
    """
    out: list[str] = []
    for w in norm.split(" "):
        if not w:
            continue
        top = n_max
        if cjk_max is not None and is_cjk(w[0]):
            top = cjk_max
        w = f" {w} "
        ln = len(w)
        for n in range(n_min, top + 1):
            if n > ln:
                break
            out.extend(w[i : i + n] for i in range(ln - n + 1))
    # A lone space n-gram carries nothing.
    return [g for g in out if g.strip()]


class _WordAnalyzer:
    def __init__(self, n_max: int, cjk_max: int | None = None) -> None:
        self.n_max, self.cjk_max = n_max, cjk_max

    def __call__(self, text: str) -> list[str]:
        return word_ngrams(text, self.n_max, self.cjk_max)


class _CharAnalyzer:
    def __init__(self, n_min: int, n_max: int, cjk_max: int | None = None) -> None:
        self.n_min, self.n_max, self.cjk_max = n_min, n_max, cjk_max

    def __call__(self, text: str) -> list[str]:
        return char_ngrams(text, self.n_min, self.n_max, self.cjk_max)


class TextFeatures:
    """Word 1..w-grams + char_wb n-grams, each block TF-IDF (sublinear) and L2-normalised.

    The blocks are concatenated with weights so that the dot product of two rows is
    a weighted mean of the block cosines.
    """

    def __init__(
        self,
        word_max: int = 2,
        char_range: tuple[int, int] = (1, 4),
        word_weight: float = 0.5,
        min_df: int = 1,
        preprocess=None,
        cjk_char_max: int | None = None,
        cjk_word_max: int | None = None,
    ) -> None:
        self.word_max = word_max
        self.char_range = char_range
        self.word_weight = word_weight
        self.min_df = min_df
        self.preprocess = preprocess
        from sklearn.feature_extraction.text import TfidfVectorizer  # lazy: slow import

        self.word = TfidfVectorizer(
            analyzer=_WordAnalyzer(word_max, cjk_word_max),
            sublinear_tf=True,
            min_df=min_df,
            dtype=np.float32,
        )
        self.char = TfidfVectorizer(
            analyzer=_CharAnalyzer(*char_range, cjk_char_max),
            sublinear_tf=True,
            min_df=min_df,
            dtype=np.float32,
        )

    def _prep(self, texts: Sequence[str]) -> list[str]:
        out = [normalize(t) for t in texts]
        if self.preprocess is not None:
            out = [self.preprocess(t) for t in out]
        return out

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        norm = self._prep(texts)
        w = self.word.fit_transform(norm)
        c = self.char.fit_transform(norm)
        return self._combine(w, c)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        norm = self._prep(texts)
        return self._combine(self.word.transform(norm), self.char.transform(norm))

    def _combine(self, w: sp.csr_matrix, c: sp.csr_matrix) -> sp.csr_matrix:
        a = np.float32(np.sqrt(self.word_weight))
        b = np.float32(np.sqrt(1.0 - self.word_weight))
        return sp.hstack([w * a, c * b], format="csr", dtype=np.float32)
