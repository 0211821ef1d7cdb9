"""The intent model: the fast scoring path gives what scikit-learn's pipeline gives."""
from __future__ import annotations

import numpy as np
import pytest

from robot.evaluation import read_labelled
from robot.knowledge import DEFAULT_DIRECTORY


def test_fast_path_probabilities_equal_the_pipeline(robot):
    texts = [q.text for q in read_labelled(DEFAULT_DIRECTORY / "eval.csv", robot.knowledge.intents)]
    # plus texts with no known n-gram and with digit runs the model masks
    texts += ["ẞẞẞ", "381920374651829304", "Ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ"]
    reference = robot.model.predict_with_pipeline(texts)
    fast = np.array([robot.model.predict(text).probabilities for text in texts])
    assert fast == pytest.approx(reference, abs=1e-9)


def test_prediction_reports_every_intent_and_sums_to_one(robot):
    prediction = robot.model.predict("我的快递到哪了")
    assert set(prediction.labels) == set(robot.knowledge.intents)
    assert prediction.probabilities.sum() == pytest.approx(1.0)
    assert prediction.intent == "order_status"
    assert prediction.confidence == prediction.probability("order_status")
    assert prediction.probability("no-such-intent") == 0.0
