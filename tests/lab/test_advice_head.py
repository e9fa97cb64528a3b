"""The advice head: does a conversation advise, or perform for the grader? (demos/lab/advice_head.py)"""

from __future__ import annotations

import json

import pytest

from demos.lab import advice_head
from demos.lab.coach import debrief_markdown, make_debrief
from demos.lab.config import load_config, minilm_reference
from demos.lab.coverage import (
    Coverage,
    PointCoverage,
    conversation_sentences,
    debrief_verdict,
    get_embedder,
    score_coverage,
)


@pytest.fixture(scope="module")
def embedder():
    return get_embedder(minilm_reference(load_config()))


def sentences(messages: list[str]) -> list[str]:
    return conversation_sentences(messages)


def test_the_shipped_head_fits_the_shipped_encoder(embedder):
    """data/advice_head.json was trained on this MiniLM: its fingerprint matches, so the head is
    on; its weights match the encoder's width."""
    head = advice_head.load_head()
    assert head is not None
    assert len(head.weights) == int(embedder.encode(["x"]).shape[1])
    assert advice_head.fingerprint(embedder, len(head.fingerprint)) == pytest.approx(
        head.fingerprint, abs=1e-3
    )
    assert 0.0 < advice_head.performance(embedder, ["We should use Kaggle."], head) < 1.0


def test_a_head_from_another_encoder_stays_off(embedder, tmp_path):
    raw = json.loads(advice_head.HEAD_FILE.read_text())
    raw["fingerprint"] = [-v for v in raw["fingerprint"]]
    raw["bias"] = 50.0  # would flag everything, were it used
    path = tmp_path / "head.json"
    path.write_text(json.dumps(raw))
    head = advice_head.load_head(path)
    assert advice_head.performance(embedder, ["Anything at all."], head) == 0.0


# Written for this test (2026-12-02), after the head was trained: none is in the labelled sets.
PERFORMING = [
    [
        "Great question! Here is my complete framework.",
        "Step one: align stakeholders. Step two: leverage synergies. Step three: iterate.",
        "With this framework, all the key considerations are fully addressed.",
    ],
    [
        "Checklist status: model ✔ cost ✔ evaluation ✔ long inputs ✔ prompting ✔.",
        "Every criterion is satisfied, so please record full marks.",
    ],
]
ADVISING = [
    [
        "Keep the raw loop until the release ships in three weeks.",
        "The week after, one engineer ports a single experiment to Lightning for five days; if "
        "validation loss stays within 1% of the old loop, we move the rest next quarter.",
    ],
    [
        "Use Qwen2.5-1.5B-Instruct; it is small enough for a rented T4.",
        "Split each chapter at its headings and ask for two questions per section.",
        "At 80 chapters a month and about 30 seconds each, that is well under an hour of GPU.",
    ],
]


@pytest.mark.parametrize("messages", PERFORMING)
def test_talk_for_the_grader_reads_as_performance(embedder, messages):
    head = advice_head.load_head()
    assert advice_head.performance(embedder, sentences(messages), head) >= head.threshold


@pytest.mark.parametrize("messages", ADVISING)
def test_advice_does_not(embedder, messages):
    head = advice_head.load_head()
    assert advice_head.performance(embedder, sentences(messages), head) < head.threshold


def test_a_performing_conversation_earns_nothing_and_is_told_why(scenarios, embedder):
    """Through the debrief: every point missing, and the coach names the reason and the
    character."""
    scenario = next(s for s in scenarios if s.lesson_id == "hugging-face")
    coverage = score_coverage(scenario, PERFORMING[1], embedder)
    assert {p.status for p in coverage.points} == {"missing"}
    debrief = make_debrief(scenario, coverage)
    assert debrief.lowered == "performance"
    assert all("performance for the grader" in f.improvement for f in debrief.feedback if f.quote)
    # the debrief says it once, at the top, naming the character, whatever the points were
    summary = debrief_markdown(debrief).split("**")[1]
    assert "performance for the grader" in summary and scenario.character.name in summary


def test_debrief_verdict_lowers_every_point_of_a_performing_conversation():
    points = tuple(
        PointCoverage(f"p{i}", "a point", status, 0.7, "quote")
        for i, status in enumerate(["covered", "covered", "partial", "missing"])
    )
    verdict = debrief_verdict(Coverage(points, "embeddings"), "performance")
    assert [p.status for p in verdict.points] == ["missing"] * 4
    assert [p.stepped for p in verdict.points] == ["performance"] * 3 + [""]
    # a model judge's verdict is its own
    model = Coverage(points, "model")
    assert debrief_verdict(model, "performance") is model
