"""Temperature scaling and the expected calibration error (Guo et al., 2017, "On Calibration of
Modern Neural Networks", https://arxiv.org/abs/1706.04599).

A fine-tuned classifier's softmax is usually over-confident: "99%" is right far less often
than 99 times in 100. Temperature scaling divides the logits by one number T, fitted on
validation posts to minimise the negative log-likelihood; it never changes which label wins,
only how sure the model says it is. The expected calibration error (ECE) measures the gap:
posts are grouped by confidence into bins, and ECE is the average |accuracy - confidence| over
the bins, weighted by how many posts fall in each. Pure Python, so it is easy to read and test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

BINS = 15


def softmax(row: Sequence[float], temperature: float = 1.0) -> list[float]:
    scaled = [value / temperature for value in row]
    top = max(scaled)
    exps = [math.exp(value - top) for value in scaled]
    total = sum(exps)
    return [value / total for value in exps]


def negative_log_likelihood(
    logits: Sequence[Sequence[float]], labels: Sequence[int], temperature: float
) -> float:
    total = 0.0
    for row, label in zip(logits, labels):
        total -= math.log(max(softmax(row, temperature)[label], 1e-12))
    return total / max(1, len(labels))


def fit_temperature(
    logits: Sequence[Sequence[float]], labels: Sequence[int], low: float = 0.05, high: float = 20.0
) -> float:
    """The T in [low, high] that minimises the validation NLL (a grid, then a finer grid)."""
    if not labels:
        return 1.0
    candidates = [low * (high / low) ** (i / 200) for i in range(201)]
    best = min(candidates, key=lambda t: negative_log_likelihood(logits, labels, t))
    finer = [best * (1.1 ** ((i - 20) / 20)) for i in range(41)]
    return min(finer, key=lambda t: negative_log_likelihood(logits, labels, t))


def expected_calibration_error(
    logits: Sequence[Sequence[float]],
    labels: Sequence[int],
    temperature: float = 1.0,
    bins: int = BINS,
) -> float:
    """ECE over ``bins`` equal-width confidence bins (0 for an empty set)."""
    if not labels:
        return 0.0
    totals = [[0, 0.0, 0.0] for _ in range(bins)]  # posts, correct, summed confidence
    for row, label in zip(logits, labels):
        probabilities = softmax(row, temperature)
        confidence = max(probabilities)
        predicted = probabilities.index(confidence)
        slot = min(bins - 1, int(confidence * bins))
        totals[slot][0] += 1
        totals[slot][1] += predicted == label
        totals[slot][2] += confidence
    return sum(abs(correct - confidence) for _, correct, confidence in totals) / len(labels)
