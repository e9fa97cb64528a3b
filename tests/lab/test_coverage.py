"""Coverage: strong transcripts rank above weak ones for every scenario; quotes are the learner's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from demos.lab.coach import debrief_markdown, make_debrief, transcript_markdown
from demos.lab.config import load_config, minilm_reference
from demos.lab.coverage import (
    Coverage,
    get_embedder,
    parse_judgement,
    score_by_embeddings,
    score_coverage,
    split_sentences,
)

TRANSCRIPTS = Path(__file__).parent / "data" / "transcripts"
KNOWN_SCENARIOS = {"pytorch", "hugging-face", "free-compute", "idea-to-demo"}


@pytest.fixture(scope="module")
def embedder():
    return get_embedder(minilm_reference(load_config()))


def transcripts_for(scenario_id: str) -> list[dict]:
    path = TRANSCRIPTS / f"{scenario_id}.yaml"
    if not path.exists():
        if scenario_id in KNOWN_SCENARIOS:
            pytest.fail(f"{path.name} is missing: every lesson scenario needs transcripts")
        pytest.skip(f"no transcripts yet for the new scenario '{scenario_id}'")
    data = yaml.safe_load(path.read_text())
    assert data["scenario"] == scenario_id
    return data["transcripts"]


def total(coverage: Coverage) -> float:
    return sum(p.score for p in coverage.points)


def test_every_lesson_scenario_has_transcripts(scenarios):
    assert {s.lesson_id for s in scenarios} >= KNOWN_SCENARIOS


def test_strong_transcripts_rank_above_weak_ones(scenarios, embedder):
    for scenario in scenarios:
        runs = transcripts_for(scenario.lesson_id)
        scored = [
            (t["label"], score_by_embeddings(scenario, t["messages"], embedder)) for t in runs
        ]
        strong = [c for label, c in scored if label == "strong"]
        weak = [c for label, c in scored if label == "weak"]
        assert strong and weak, scenario.lesson_id
        assert min(map(total, strong)) > max(map(total, weak)), scenario.lesson_id
        n = len(scenario.rubric)
        assert min(c.covered for c in strong) >= 0.6 * n, scenario.lesson_id
        assert max(c.covered for c in weak) <= 1, scenario.lesson_id


def test_quotes_come_from_the_learner(scenarios, embedder):
    scenario = scenarios[0]
    messages = transcripts_for(scenario.lesson_id)[0]["messages"]
    coverage = score_by_embeddings(scenario, messages, embedder)
    said = " ".join(messages)
    for point in coverage.points:
        if point.status != "missing":
            assert point.quote and point.quote in said


def test_nothing_said_covers_nothing(scenarios, embedder):
    coverage = score_by_embeddings(scenarios[0], [], embedder)
    assert coverage.covered == 0 and all(p.status == "missing" for p in coverage.points)


def test_a_model_judge_is_trusted_only_with_real_quotes(scenarios, embedder):
    scenario = scenarios[0]
    messages = ["We should wait until after the release, then run a pilot."]
    first, second = scenario.rubric[0].id, scenario.rubric[1].id
    answer = json.dumps(
        {
            "points": [
                {
                    "id": first,
                    "status": "covered",
                    "quote": "a sentence the learner never wrote",
                    "improvement": "Name what the Trainer does.",
                },
                {
                    "id": second,
                    "status": "partial",
                    "quote": "run a pilot",
                    "improvement": "Cost it.",
                },
            ]
        }
    )
    fallback = score_by_embeddings(scenario, messages, embedder)
    judged = parse_judgement("Here you go:\n" + answer, scenario, messages, fallback)
    assert judged.method == "model"
    assert judged.points[0].status == "covered"
    assert judged.points[0].quote != "a sentence the learner never wrote"
    assert judged.points[0].improvement == "Name what the Trainer does."
    assert judged.points[1].quote == "run a pilot"
    assert judged.points[2] == fallback.points[2]  # skipped by the judge: embeddings stand


def test_a_rambling_judge_leaves_the_embedding_verdict(scenarios, embedder):
    scenario = scenarios[0]
    coverage = score_coverage(scenario, ["We wait for the release."], embedder, lambda _: "no json")
    assert coverage.method == "embeddings"


def test_debrief_quotes_and_improves_every_point(scenarios, embedder):
    scenario = scenarios[0]
    messages = transcripts_for(scenario.lesson_id)[0]["messages"][:2]
    coverage = score_by_embeddings(scenario, messages, embedder)
    result = make_debrief(scenario, coverage)
    assert len(result.feedback) == len(scenario.rubric)
    assert all(item.improvement for item in result.feedback)
    text = debrief_markdown(result)
    assert f"{result.covered} of {len(scenario.rubric)} points" in text
    document = transcript_markdown(scenario, [{"role": "user", "content": messages[0]}], result)
    assert document.startswith("# Lab transcript") and messages[0][:40] in document
    assert "## Feedback" in document


def test_sentences_are_split_on_punctuation_and_lines():
    assert split_sentences("One two. Three four!\nFive six; seven eight") == [
        "One two.",
        "Three four!",
        "Five six;",
        "seven eight",
    ]
