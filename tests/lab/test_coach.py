"""The debrief as the learner reads it: one paragraph per verdict, quote and advice, and advice
that adds to the point shown above it instead of repeating it."""

from __future__ import annotations

from demos.lab.coach import debrief_markdown, make_debrief
from demos.lab.coverage import Coverage, PointCoverage


def _coverage(scenario, statuses):
    return Coverage(
        tuple(
            PointCoverage(p.id, p.point, status, 0.0, "my own words" if status != "missing" else "")
            for p, status in zip(scenario.rubric, statuses, strict=False)
        ),
        "embeddings",
    )


def test_each_point_reads_as_separate_paragraphs(scenarios):
    scenario = scenarios[1]
    statuses = ["covered", "missing"] + ["partial"] * (len(scenario.rubric) - 2)
    text = debrief_markdown(make_debrief(scenario, _coverage(scenario, statuses)))
    paragraphs = [block.strip() for block in text.split("\n\n")]
    verdicts = [block for block in paragraphs if block.startswith("**")]
    advice = [block for block in paragraphs if block.startswith("*Improve:*")]
    assert len(verdicts) == len(advice) == len(scenario.rubric)
    assert all("*Improve:*" not in block for block in verdicts)  # not run into the verdict line
    assert "> my own words" in paragraphs  # the learner is quoted on a line of their own


def test_advice_for_a_missing_point_gives_its_example_not_the_point_again(scenarios):
    scenario = scenarios[1]
    missing = next(p for p in scenario.rubric if p.examples)
    statuses = ["missing" if p is missing else "covered" for p in scenario.rubric]
    debrief = make_debrief(scenario, _coverage(scenario, statuses))
    advice = next(f.improvement for f in debrief.feedback if f.id == missing.id)
    assert missing.examples[0] in advice
    assert missing.point.rstrip(".").lower()[10:] not in advice.lower()
