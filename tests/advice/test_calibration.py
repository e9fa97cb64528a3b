"""Temperature scaling and the expected calibration error, on numbers worked out by hand."""

from __future__ import annotations

import math
import random

import pytest

from demos.advice import calibration


def test_ece_of_a_perfectly_calibrated_and_an_overconfident_model():
    # Ten posts at 80% confidence, eight right: calibrated, ECE 0.
    logits = [[math.log(0.8), math.log(0.2)]] * 10
    labels = [0] * 8 + [1] * 2
    assert calibration.expected_calibration_error(logits, labels) == pytest.approx(0, abs=1e-9)
    # The same posts at 99% confidence: ECE = |0.8 - 0.99| = 0.19.
    sure = [[math.log(0.99), math.log(0.01)]] * 10
    assert calibration.expected_calibration_error(sure, labels) == pytest.approx(0.19, abs=1e-6)


def test_fitted_temperature_undoes_overconfidence():
    rng = random.Random(0)
    logits, labels = [], []
    for _ in range(2000):
        # A model that is right 75% of the time but says 98% every time.
        label = rng.randrange(3)
        predicted = label if rng.random() < 0.75 else (label + 1) % 3
        row = [0.0, 0.0, 0.0]
        row[predicted] = math.log(0.98 / 0.01)
        logits.append(row)
        labels.append(label)
    temperature = calibration.fit_temperature(logits, labels)
    assert temperature > 2  # softens the logits
    before = calibration.expected_calibration_error(logits, labels)
    after = calibration.expected_calibration_error(logits, labels, temperature)
    assert before > 0.2 and after < 0.03
    # Scaling never changes which label wins.
    for row in logits[:50]:
        plain, scaled = calibration.softmax(row), calibration.softmax(row, temperature)
        assert plain.index(max(plain)) == scaled.index(max(scaled))


def test_empty_sets_are_harmless():
    assert calibration.fit_temperature([], []) == 1.0
    assert calibration.expected_calibration_error([], []) == 0.0
