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
    score_by_embeddings,
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


# The vagueness head. Written for this test (2026-12-02, evening), after the head was trained.
TENTATIVE = [
    [
        "Honestly I'm not sure, maybe Lightning could help, maybe not.",
        "It might save some time I guess, but it could also slow us down for a while.",
        "Probably we should look into it at some point, whenever things calm down?",
    ],
    [
        "Colab or Kaggle, either is probably ok, whichever you like more.",
        "It might take a while, hard to tell how long, maybe a few hours or more?",
        "If it doesn't fit we could maybe pay for something, not sure what.",
    ],
]
COMMITTED = [
    [
        "Fine-tune with LoRA r=16 on Kaggle's T4: the 3B model in 4-bit needs about 6 GB.",
        "Time 50 steps first; at 2 s a step, 2 epochs of 20,000 examples at batch 8 is 5,000 "
        "steps, about 3 hours, inside one 12-hour session.",
        "Save a checkpoint every 500 steps so a cut session costs at most 20 minutes.",
    ],
    ADVISING[0],
]


def test_the_shipped_vagueness_head_fits_the_shipped_encoder(embedder):
    head = advice_head.load_head(advice_head.VAGUE_FILE)
    assert head is not None
    assert len(head.weights) == int(embedder.encode(["x"]).shape[1])
    assert advice_head.fingerprint(embedder, len(head.fingerprint)) == pytest.approx(
        head.fingerprint, abs=1e-3
    )


@pytest.mark.parametrize("messages", TENTATIVE)
def test_tentative_advice_reads_as_vague(embedder, messages):
    head = advice_head.load_head(advice_head.VAGUE_FILE)
    assert advice_head.vagueness(embedder, sentences(messages), head) >= head.threshold
    # and it is advice, not a performance
    assert (
        advice_head.performance(embedder, sentences(messages)) < advice_head.load_head().threshold
    )


@pytest.mark.parametrize("messages", COMMITTED)
def test_committed_advice_does_not(embedder, messages):
    head = advice_head.load_head(advice_head.VAGUE_FILE)
    assert advice_head.vagueness(embedder, sentences(messages), head) < head.threshold


def _points(statuses: list[str]) -> tuple[PointCoverage, ...]:
    return tuple(
        PointCoverage(f"p{i}", "a point", status, 0.7, "quote", evidence="a named model")
        for i, status in enumerate(statuses)
    )


def test_in_a_vague_conversation_no_point_earns_more_than_partial():
    coverage = Coverage(_points(["covered", "covered", "partial", "missing"]), "embeddings")
    verdict = debrief_verdict(coverage, "", vague=True)
    assert [p.status for p in verdict.points] == ["partial", "partial", "partial", "missing"]
    assert [p.stepped for p in verdict.points] == ["vague", "vague", "", ""]
    assert verdict.lowered == "vague"
    # not vague: the verdict stands
    assert debrief_verdict(coverage, "", vague=False) is coverage
    # a thin conversation is lowered as thin (read as tentative advice on two topics or more,
    # its touched topics keep their partial credit; otherwise they step down too), a
    # performance as one
    thin = Coverage(_points(["covered", "partial", "partial", "missing"]), "embeddings")
    assert debrief_verdict(thin, "", vague=True).lowered == "thin"
    assert [p.status for p in debrief_verdict(thin, "", vague=True).points] == [
        "partial",
        "partial",
        "partial",
        "missing",
    ]
    assert [p.status for p in debrief_verdict(thin, "", vague=False).points] == [
        "partial",
        "missing",
        "missing",
        "missing",
    ]
    one_topic = Coverage(_points(["covered", "partial", "missing"]), "embeddings")
    assert [p.status for p in debrief_verdict(one_topic, "", vague=True).points] == [
        "partial",
        "missing",
        "missing",
    ]
    assert debrief_verdict(coverage, "performance", vague=True).lowered == "performance"
    # nothing to lower, nothing said; a model judge's verdict is its own
    nothing = Coverage(_points(["partial", "partial", "missing"]), "embeddings")
    assert debrief_verdict(nothing, "advice", vague=True) is nothing
    model = Coverage(coverage.points, "model")
    assert debrief_verdict(model, "", vague=True) is model


def test_a_vague_conversation_is_told_why_and_how_to_commit(scenarios, embedder):
    """Through the debrief: a hedged conversation that still names a model, a size and a
    platform gets partial credit at most, and the coach says why, once, naming the character."""
    scenario = next(s for s in scenarios if s.lesson_id == "free-compute")
    messages = [
        "I guess LoRA could work, maybe? Like r=16 on the 3B model in 4-bit, probably around "
        "6 GB, not sure.",
        "Colab or Kaggle, I don't know, either might be ok. Kaggle gives 30 GPU hours a week I "
        "think, so maybe that?",
        "Maybe time a few steps first if you feel like it, like 2 seconds a step would be about "
        "3 hours, I guess?",
        "And maybe save checkpoints now and then in case the session dies, whatever works.",
    ]
    sentence_level = score_by_embeddings(scenario, messages, embedder)
    assert sentence_level.covered >= 2  # not a thin conversation: specifics on two points
    coverage = score_coverage(scenario, messages, embedder)
    assert coverage.lowered == "vague"
    assert coverage.covered == 0
    assert {p.id for p in coverage.points if p.stepped == "vague"} == {
        p.id for p in sentence_level.points if p.status == "covered"
    }
    debrief = make_debrief(scenario, coverage)
    summary = debrief_markdown(debrief).split("**")[1]
    assert "tentative" in summary and scenario.character.name in summary
    stepped = [f for f, p in zip(debrief.feedback, coverage.points) if p.stepped == "vague"]
    assert stepped and all("partial credit" in f.improvement for f in stepped)
