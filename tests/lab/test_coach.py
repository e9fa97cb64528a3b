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


def test_advice_comes_from_the_card_of_the_same_scenario(scenarios):
    """Advice names only the learner's words and this scenario's card: the point's own advice,
    its evidence, or the fact the point is argued from (never another scenario's fact)."""
    from demos.lab.director import script_for

    for scenario in scenarios:
        script = script_for(scenario)
        others = {f for s in scenarios if s is not scenario for f in s.facts}
        for status in ("covered", "partial", "missing"):
            debrief = make_debrief(scenario, _coverage(scenario, [status] * len(scenario.rubric)))
            for item in debrief.feedback:
                point = script.point(item.id)
                assert not any(f.rstrip(".") in item.improvement for f in others)
                if status == "covered":
                    assert point.fact.rstrip(".") in item.improvement
                if status == "missing":
                    assert point.advice in item.improvement


def test_the_learners_words_are_quoted_never_rendered(scenarios):
    scenario = scenarios[1]
    attack = '<img src=x onerror="alert(1)"> [login](//evil.example) https://evil.example'
    coverage = Coverage(
        tuple(PointCoverage(p.id, p.point, "partial", 0.5, attack) for p in scenario.rubric),
        "embeddings",
    )
    text = debrief_markdown(make_debrief(scenario, coverage))
    assert "<img" not in text and "](//evil" not in text and "https://evil" not in text
    assert "&lt;img" in text  # shown as typed


def test_the_debrief_says_who_scored(scenarios):
    scenario = scenarios[0]
    offline = debrief_markdown(make_debrief(scenario, _coverage(scenario, ["missing"] * 5)))
    assert "Scored by sentence similarity and evidence checks (offline)" in offline
    by_model = Coverage(_coverage(scenario, ["missing"] * 5).points, "model", "the hosted model X")
    assert "Scored by the hosted model X" in debrief_markdown(make_debrief(scenario, by_model))
