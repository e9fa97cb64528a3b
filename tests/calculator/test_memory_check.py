"""The memory formula against PyTorch's MemTracker (FakeTensorMode, CPU): what a real step allocates.

Each case builds a transformers model from a config (no weights) and runs two training steps under
PyTorch's own tracker; the calculator must land within 10% of the tracked peak. Before the second
round the calculator counted 6 bytes of weights per parameter and gradients plus all activations at
once, and a classifier's head as vocabulary logits: each of these cases would have been off.
"""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from bench.calculator_memory_check import QUICK_CASES, predicted, tracked_peak  # noqa: E402

CASES = {case.name: case for case in QUICK_CASES}


@pytest.mark.parametrize(
    "name",
    [
        "Llama-style, causal LM",
        "Llama-style, checkpointing",
        "Llama-style, classifier",
        "BERT-style, classifier",
    ],
)
def test_formula_matches_pytorchs_memory_tracker(name):
    case = CASES[name]
    measured = tracked_peak(case)
    assert predicted(case, measured) == pytest.approx(measured["peak_bytes"], rel=0.10)
