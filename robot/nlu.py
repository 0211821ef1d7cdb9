"""Understanding: which intent a message is, and how sure the model is.

A scikit-learn :class:`~sklearn.pipeline.Pipeline` of TF-IDF over character
n-grams (``char_wb``, so Chinese needs no word segmentation and typos cost
only the n-grams they touch) and a multinomial logistic regression, whose
probabilities are the confidence the decision compares with its threshold.
It is trained at start-up from the knowledge base's examples (well under a
second) and never downloads anything.

Prediction does not go through ``Pipeline.predict_proba`` message by
message: building a sparse matrix and validating it costs about half a
millisecond per call, far more than the arithmetic. :class:`IntentModel`
reads the fitted vectorizer's analyzer, vocabulary and idf and the model's
coefficients once, and scores a message with the same formula in a few
dozen microseconds; ``tests/robot`` checks both paths agree.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from robot.text import model_form

__all__ = ["IntentModel", "Prediction"]

#: character n-gram lengths: 1-grams carry most Chinese meaning (退, 发, 票),
#: 2- and 3-grams the words and typos of both languages
NGRAM_RANGE = (1, 3)
#: inverse regularisation strength; larger fits the few examples per intent closer
REGULARIZATION_C = 20.0
#: enough for lbfgs to converge on a thousand examples
MAX_ITERATIONS = 2000
#: BLAS threads while fitting: on a busy machine OpenBLAS's spinning threads
#: made a 0.25 s fit take 4-5 s; the problem is far too small to share out
FIT_BLAS_THREADS = 1


@dataclass(frozen=True, slots=True)
class Prediction:
    """The model's probability for every intent."""

    labels: tuple[str, ...]
    probabilities: np.ndarray

    @property
    def intent(self) -> str:
        """The most likely intent."""
        return self.labels[int(self.probabilities.argmax())]

    @property
    def confidence(self) -> float:
        """The most likely intent's probability."""
        return float(self.probabilities.max())

    def probability(self, intent: str) -> float:
        """One intent's probability (0 for an intent the model does not know)."""
        try:
            return float(self.probabilities[self.labels.index(intent)])
        except ValueError:
            return 0.0


class IntentModel:
    """A fitted pipeline plus a fast scoring path over its parameters."""

    def __init__(self, pipeline: Pipeline):
        """Wrap a fitted ``Pipeline([("tfidf", TfidfVectorizer), ("model", LogisticRegression)])``."""
        self.pipeline = pipeline
        vectorizer = pipeline.named_steps["tfidf"]
        model = pipeline.named_steps["model"]
        self.labels: tuple[str, ...] = tuple(str(label) for label in model.classes_)
        self._analyze = vectorizer.build_analyzer()
        self._vocabulary: dict[str, int] = vectorizer.vocabulary_
        self._idf = vectorizer.idf_
        self._sublinear_tf = vectorizer.sublinear_tf
        # one row per n-gram so a message's few n-grams are one fancy index
        self._weights = np.ascontiguousarray(model.coef_.T)
        self._intercept = model.intercept_.copy()

    @classmethod
    def train(cls, examples: Sequence[tuple[str, str]]) -> IntentModel:
        """Fit on (text, intent) pairs."""
        pipeline = Pipeline([
            ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, sublinear_tf=True,
                                      preprocessor=model_form)),
            ("model", LogisticRegression(C=REGULARIZATION_C, max_iter=MAX_ITERATIONS)),
        ])
        texts = [text for text, _ in examples]
        intents = [intent for _, intent in examples]
        with threadpool_limits(limits=FIT_BLAS_THREADS):
            pipeline.fit(texts, intents)
        return cls(pipeline)

    def predict(self, text: str) -> Prediction:
        """Probabilities for one message, computed as ``pipeline.predict_proba`` would."""
        counts = Counter(index for gram in self._analyze(text)
                         if (index := self._vocabulary.get(gram)) is not None)
        scores = self._intercept.copy()
        if counts:
            indices = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            if self._sublinear_tf:
                tf = [1.0 + math.log(n) for n in counts.values()]
            else:
                tf = list(counts.values())
            values = np.asarray(tf) * self._idf[indices]
            values /= math.sqrt(float(values @ values))
            scores += values @ self._weights[indices]
        scores -= scores.max()
        np.exp(scores, out=scores)
        scores /= scores.sum()
        return Prediction(self.labels, scores)

    def predict_with_pipeline(self, texts: Sequence[str]) -> np.ndarray:
        """The reference path (``pipeline.predict_proba``); columns in :attr:`labels` order."""
        return self.pipeline.predict_proba(list(texts))
