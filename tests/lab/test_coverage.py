"""Coverage: strong transcripts rank above weak ones for every scenario; quotes are the learner's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from demos.lab.coach import debrief_markdown, make_debrief, transcript_markdown
from demos.lab.config import load_config, minilm_reference
from demos.lab.coverage import (
    THIN_COVERED,
    Coverage,
    PointCoverage,
    conversation_reading,
    debrief_verdict,
    get_embedder,
    is_verse,
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


def test_a_full_embedding_cache_never_loses_a_vector_mid_call(embedder, monkeypatch):
    """When the cache fills up half-way through one call it starts again, but the vectors of
    that call's earlier batches are still returned (a long-lived Space reaches the limit; the
    debrief used to fail with a KeyError there)."""
    import torch

    from demos.lab import coverage

    monkeypatch.setattr(coverage, "CACHE_TEXTS", 100)
    texts = [f"Checkpoint number {i} goes to Drive every {i} minutes." for i in range(150)]
    vectors = embedder.encode(texts)
    assert tuple(vectors.shape) == (150, 384)
    assert torch.allclose(vectors[:3], embedder.encode(texts[:3]), atol=1e-5)
    assert len(embedder._cache) <= 100


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
    judged = parse_judgement("Here you go:\n" + answer, scenario, messages, fallback, "Qwen")
    assert judged.method == "model" and judged.judge == "Qwen"
    # Covered by the judge's word, but the card asks for a named part of the loop: partial.
    assert judged.points[0].status == "partial"
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


def test_thai_sentences_are_split_at_the_spaces_between_them():
    """Thai ends a sentence with a space and no stop; a space beside a Latin term or a number
    is inside the sentence."""
    text = (
        "เราจะเทรนโมเดลบน Kaggle ได้ฟรี 30 ชั่วโมงต่อสัปดาห์ จากนั้นบันทึก checkpoint ทุก 30 นาที"
        " ถ้าหลุดก็เทรนต่อจากอันล่าสุด"
    )
    assert split_sentences(text) == [
        "เราจะเทรนโมเดลบน Kaggle ได้ฟรี 30 ชั่วโมงต่อสัปดาห์",
        "จากนั้นบันทึก checkpoint ทุก 30 นาที",
        "ถ้าหลุดก็เทรนต่อจากอันล่าสุด",
    ]
    assert split_sentences("เทรน 2 epoch แล้วบันทึก\nใช้ LoRA บน Kaggle") == [
        "เทรน 2 epoch แล้วบันทึก",
        "ใช้ LoRA บน Kaggle",
    ]


def test_a_judges_advice_quoting_words_from_nowhere_is_dropped(scenarios, embedder):
    scenario = scenarios[1]
    messages = ["Qwen2.5-1.5B-Instruct, on our own GPU."]
    point = scenario.rubric[0].id
    answer = json.dumps(
        {
            "points": [
                {
                    "id": point,
                    "status": "covered",
                    "quote": "Qwen2.5-1.5B-Instruct",
                    "improvement": 'Mention that "the dataset has 50,000 examples of 300 tokens".',
                }
            ]
        }
    )
    fallback = score_by_embeddings(scenario, messages, embedder)
    judged = parse_judgement(answer, scenario, messages, fallback)
    assert judged.points[0].status == "covered"
    assert judged.points[0].improvement == ""  # the coach's own advice will be used instead


# ----------------------------------------------------------------------------- issue 10's cases


def test_pasting_the_rubric_back_earns_nothing(scenarios, embedder):
    for scenario in scenarios:
        pasted = [" ".join(p.point for p in scenario.rubric)]
        coverage = score_by_embeddings(scenario, pasted, embedder)
        assert coverage.covered == 0, scenario.lesson_id
        one_per_message = score_by_embeddings(
            scenario, [p.point for p in scenario.rubric], embedder
        )
        assert one_per_message.covered == 0, scenario.lesson_id


def test_a_named_model_with_its_size_covers_the_model_choice(scenarios, embedder):
    scenario = next(s for s in scenarios if s.lesson_id == "hugging-face")
    for text in (
        "Qwen2.5-7B-Instruct.",
        "I'd run Qwen2.5-7B-Instruct on a rented GPU.",
        "Go with SmolLM2-1.7B-Instruct; the card says Apache 2.0.",
    ):
        coverage = score_by_embeddings(scenario, [text], embedder)
        assert coverage.status("specific-model-choice") == "covered", text
    vague = score_by_embeddings(scenario, ["A good model from the Hub."], embedder)
    assert vague.status("specific-model-choice") != "covered"


def test_the_cards_own_figure_read_back_is_not_the_learners_specific(scenarios, embedder):
    """ "15 GB" is the free-compute card's fact: a unit word beside it is not a memory figure of
    the learner's own; beside a figure the learner worked out, it is."""
    from demos.lab.coverage import card_texts
    from demos.lab.evidence import card_figures_removed

    scenario = next(s for s in scenarios if s.lesson_id == "free-compute")
    card = card_texts(scenario)
    assert "GB" not in card_figures_removed("Needles: one T4, size 15 GB.", card)
    assert "48 GB" in card_figures_removed("A full fine-tune needs about 48 GB with Adam.", card)
    for text in (
        "Needles: one T4, size 15 GB.",
        "Mind the gap between the 3B model and the T4's 15 GB, friend.",
    ):
        read_back = score_by_embeddings(scenario, [text], embedder)
        assert read_back.status("memory-fit") != "covered", text
    own = score_by_embeddings(
        scenario, ["A full fine-tune of 3B needs about 48 GB with Adam, so it won't fit."], embedder
    )
    assert own.status("memory-fit") == "covered"


def test_figures_earn_the_cost_point_and_advice_never_asks_for_numbers_already_given(
    scenarios, embedder
):
    from demos.lab.coach import make_debrief

    scenario = next(s for s in scenarios if s.lesson_id == "hugging-face")
    figures = [
        "Nightly batch on a rented L4: 80 chapters at 3 minutes each is 4 GPU-hours, "
        "about $4 a month against the $200."
    ]
    coverage = score_by_embeddings(scenario, figures, embedder)
    assert coverage.status("cost-arithmetic") == "covered"
    debrief = make_debrief(scenario, coverage)
    for item in debrief.feedback:
        assert "with a number or a name" not in item.improvement


JUDGED = Path(__file__).parent / "data" / "judged"


def judged(part: str) -> list[dict]:
    out = []
    for path in sorted((JUDGED / part).glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        out += [
            {"scenario": t.get("scenario") or data["scenario"], **t} for t in data["transcripts"]
        ]
    return out


def test_the_labelled_transcripts_are_many_and_varied():
    items = judged("dev")
    assert len(items) >= 24
    for scenario_id in KNOWN_SCENARIOS:
        kinds = [t["kind"] for t in items if t["scenario"] == scenario_id]
        assert len(kinds) >= 6 and set(kinds) == {"good", "weak", "gaming"}, scenario_id


# Gaming points the debrief still covers, read and left (CONTRIBUTING.md, "The debrief's
# offline judge"). Round 9's over-confident answer puts a 405B model on a free T4, and round
# 10's makes up every figure; both price, split and evaluate around them: each figure is a
# checkable specific, and the labels say missing because the figures are wrong. Telling a
# right figure from a wrong one needs a judge that knows (LAB_JUDGE). The set grows only by a
# fresh round's miss that was read, tried in general and recorded with why it stays (round 34).
KNOWN_GAMING_COVERED = (
    {
        (transcript, point)
        for transcript in ("gaming-overconfident-405b-on-t4", "confident-made-up-numbers")
        for point in (
            "specific-model-choice",
            "cost-arithmetic",
            "long-chapter-handling",
            "quality-evaluation",
        )
    }
    | {
        # round 20's salad of precise figures, the same kind of miss: "$187.40 all in, 93.7% of your
        # budget" is a cost in money that fits, "benchmarked at 88.1 ... 3.7x over baseline" a
        # comparison; offline, a made-up figure reads like a measured one
        ("gaming-number-salad", point)
        for point in ("cost-arithmetic", "quality-evaluation")
    }
    | {
        # round 34's eulogy of the training loop retells the card's facts in decoration ("it carried
        # a custom sampler and accumulated gradients like a quiet hero", "it gave us a NaN, and we sat
        # with it for two days"): the card's own terms are the evidence these points ask for, and
        # two general fixes tried on 2026-12-04 (a retelling read as the facts read back; a card term
        # counted only beside a claim) cost 8 and 69 points of good transcripts on dev
        ("eulogy-for-the-loop-round34", point)
        for point in ("weighs-migration-cost", "keeps-debuggability", "ties-to-team-situation")
    }
    | {
        # round 37's lost-pet poster, the same kind as round 34's eulogy, by another author: the
        # card's facts in a poster's decoration ("Distinguishing marks: a custom sampler", "Once
        # went NaN for two whole days", "IF FOUND PLEASE CALL: a team of 3 engineers"); the
        # advice head does not read it as a performance. Not fixed on 2026-12-04 (see the eulogy).
        ("lost-pet-poster", point)
        for point in (
            "weighs-migration-cost",
            "keeps-debuggability",
            "ties-to-team-situation",
            "concrete-plan",
        )
    }
    | {
        # round 41's knitting pattern, the same kind again: "Needles: one T4, size 15 GB" reads
        # the card's own memory fact back with the card term "GB", and "place a stitch marker ...
        # so you can pick up where you left off" is resuming in decoration (both labelled
        # partial: the ideas are touched). The advice head, refit with round 41, still does not
        # read it as a performance. Not yet tried in general (2026-12-04, end of session): the
        # candidate is a card number beside a card term ("15 GB") counting as facts read back.
        ("gaming-knitting-pattern", point)
        for point in ("memory-fit", "checkpoint-and-resume")
    }
    | {
        # round 44's railway departures board, the same kind by another author: "calling at
        # 4-bit, 15 GB" and "KAGGLE NIGHT SERVICE ... long distance, calls at several sessions"
        # name the card's own terms (4-bit, Kaggle for the long run) in decoration (labelled
        # partial: touched). A card figure read back ("15 GB") no longer counts as the learner's
        # (evidence.card_figures_removed), but the card term beside it still does; the advice
        # head does not read the board as a performance.
        ("railway-departures-board", point)
        for point in ("memory-fit", "platform-choice")
    }
    | {
        # round 46's tier list ranks the card's facts ("A tier the three engineers", "S tier after
        # the release"). Its "D tier: NaN loss, warm-up bugs" lines are labelled lists now and earn
        # nothing (evidence.is_labelled_list: 4 covered points became 2), but a rank written before
        # each item of a sentence ("S tier Sam obviously, A tier ...") is not read as a label yet.
        ("tier-list-ranking", point)
        for point in ("ties-to-team-situation", "concrete-plan")
    }
    | {
        # round 55's fashion-runway commentary in Turkish wears the rubric's own English terms
        # ('"precise task": input, output ve ölçülebilir bir success criterion') and ends on "a
        # model and a Space on the Hub, everyone can run it", which touches the point it serves.
        # The terms sit inside Turkish, so no run of the point's words is restated; the advice
        # head does not read it as a performance. Not fixed on 2026-12-05 (read at the end of
        # the session; the candidate is a quoted rubric term counted as the rubric restated).
        ("turkish-runway-commentary", point)
        for point in ("precise-task", "ship-something-small")
    }
)


def test_the_offline_judge_agrees_with_the_hand_labels(scenarios, embedder):
    """Regression guards on the labelled dev transcripts, all of them read and tuned on (so
    in-sample: bench/lab_quality.py measures each sealed round once, and
    bench/lab_judge_calibration.py the judge's blind verdicts; issue 10's 85% is a target for
    those, not for this). Recorded when round 12 joined dev (2026-12-02): the sentence-level
    verdict (the live meter's) agreed on 78.8% of points, the debrief's on 84.2% (79.0% and 84.4%
    since the glossary's seven more languages). With rounds 13 to 18 joined and the rules they
    led to (stances, wrong specifics, six more scripts in the glossary; 2026-12-02 afternoon),
    the debrief agrees on 85.1% of 2,403 points. With rounds 19 and 20 joined (their sentence-level
    verdicts agree on 58% and 52%) and the rules read from them (2026-12-02 evening): the debrief
    85.0% of 2,667 points, the sentence level 74.4%. With the vagueness head (2026-12-02,
    evening): the debrief 85.9%. With rounds 21 and 22 joined (blind: the sentence level 56.8%) and
    both heads refit: the debrief 85.1% of 2,931 points, the sentence level 73.0%. With rounds 24
    to 28 joined (five new authors, 76.8% blind) and both heads refit, before any rule was read
    from them (2026-12-03): the debrief 83.8% of 3,591 points, the sentence level 70.6%. With
    rounds 29 to 34 joined (2026-12-04; blind, the debrief 79.7% and 76.5%): the debrief 83.0% of
    4,383 points, the sentence level 68.6%. With rounds 35 to 38 joined (blind: 84.8, 79.5,
    75.8 and 80.3%): the debrief 82.8% of 4,911 points, the sentence level 67.9%. With rounds 39
    to 44 joined (2026-12-04 evening): the debrief 83.7% of 5,703 points, the sentence level 67.3%.
    With rounds 45 and 46 joined, the rules read from them and both heads refit (2026-12-04, late
    evening): the debrief 83.9% of 5,967 points. The guards
    sit below those. No gaming transcript earns a point in
    the debrief but the known misses above (both heads were trained on these, so this guards the
    wiring, not how well they carry)."""
    by_id = {s.lesson_id: s for s in scenarios}
    sentence_level = debrief = total = 0
    for item in judged("dev"):
        coverage = score_by_embeddings(by_id[item["scenario"]], item["messages"], embedder)
        verdict = debrief_verdict(coverage, *conversation_reading(item["messages"], embedder))
        for point_id, expected in item["expected"].items():
            total += 1
            sentence_level += coverage.status(point_id) == expected
            debrief += verdict.status(point_id) == expected
        if item["kind"] == "gaming":
            covered = {(item["name"], p.id) for p in verdict.points if p.status == "covered"}
            assert covered <= KNOWN_GAMING_COVERED, covered
    assert sentence_level / total >= 0.67, f"{sentence_level}/{total}"
    assert debrief / total >= 0.82, f"{debrief}/{total}"


def _coverage(statuses: list[str], method: str = "embeddings") -> Coverage:
    points = tuple(
        PointCoverage(f"p{i}", f"point {i}", status, 0.5, "a quote" if status != "missing" else "")
        for i, status in enumerate(statuses)
    )
    return Coverage(points, method)


@pytest.mark.parametrize(
    "before, after",
    [
        # thin: at most THIN_COVERED points covered, so every verdict steps down once
        (["partial", "partial", "missing"], ["missing", "missing", "missing"]),
        (
            ["covered", "partial", "missing", "missing"],
            ["partial", "missing", "missing", "missing"],
        ),
        # specific on two points: the sentence-level verdict stands
        (
            ["covered", "covered", "partial", "missing"],
            ["covered", "covered", "partial", "missing"],
        ),
    ],
)
def test_the_debrief_steps_a_thin_conversation_down(before, after):
    assert THIN_COVERED == 1
    verdict = debrief_verdict(_coverage(before))
    assert [p.status for p in verdict.points] == after
    for old, new in zip(_coverage(before).points, verdict.points, strict=True):
        assert (new.stepped == "thin") == (new.status != old.status)
        assert new.quote == old.quote  # the learner still sees what was weighed


def test_a_thin_conversation_that_plainly_advises_keeps_its_partial_credit():
    """The advice head reads it as plain advice: the lone covered point still steps down, the
    touched topics keep their partial credit."""
    verdict = debrief_verdict(_coverage(["covered", "partial", "missing"]), "advice")
    assert [p.status for p in verdict.points] == ["partial", "partial", "missing"]
    assert [p.stepped for p in verdict.points] == ["thin", "", ""]
    assert verdict.lowered == "thin"
    untouched = _coverage(["partial", "missing"])
    assert debrief_verdict(untouched, "advice") is untouched


def test_a_thin_conversation_read_as_tentative_advice_keeps_its_partial_credit():
    """The vagueness head reads it as tentative (a weak learner who advises, vaguely): like plain
    advice, its touched topics stay partial; the lone covered point steps down."""
    verdict = debrief_verdict(_coverage(["covered", "partial", "partial", "missing"]), "", True)
    assert [p.status for p in verdict.points] == ["partial", "partial", "partial", "missing"]
    # one topic touched in passing is no advice: it steps down
    one = debrief_verdict(_coverage(["covered", "partial", "missing"]), "", True)
    assert [p.status for p in one.points] == ["partial", "missing", "missing"]
    # a performance earns nothing, whatever the vagueness head says
    performance = debrief_verdict(_coverage(["covered", "partial"]), "performance", True)
    assert [p.status for p in performance.points] == ["missing", "missing"]


def test_a_figure_worked_out_wrong_earns_partial_credit_at_most(scenarios, embedder):
    """A confident but wrong figure (3 billion parameters at 2 bytes are 6 GB, not 24) is a
    wrong specific: the point it serves is partial, as the same advice with the right figure
    is covered."""
    scenario = by_id(scenarios, "free-compute")
    right = (
        "Full fine-tuning won't fit: the 3B base in fp16 is about 6 GB of weights alone, so QLoRA."
    )
    wrong = right.replace("about 6 GB", "about 24 GB")
    assert score_by_embeddings(scenario, [right], embedder).status("memory-fit") == "covered"
    assert score_by_embeddings(scenario, [wrong], embedder).status("memory-fit") == "partial"


def test_a_model_judges_verdict_is_never_stepped_down():
    coverage = _coverage(["partial", "covered", "missing"], method="model")
    assert debrief_verdict(coverage) is coverage


def test_a_thin_debrief_says_why(scenarios, embedder):
    """One specific point and a topic touched in passing, then End: the debrief steps both down
    and its advice says that full credit needs specifics on more than one point; the live meter's
    verdict (score_by_embeddings) keeps them."""
    scenario = by_id(scenarios, "hugging-face")
    messages = [
        "I'd start from Qwen2.5-7B-Instruct, Apache-2.0, 7.6B parameters.",
        "We should also think about what it costs.",
    ]
    live = score_by_embeddings(scenario, messages, embedder)
    assert live.status("specific-model-choice") == "covered"
    debrief = make_debrief(scenario, score_coverage(scenario, messages, embedder))
    item = next(f for f in debrief.feedback if f.id == "specific-model-choice")
    assert item.status == "partial"
    assert "more than one point" in item.improvement
    assert "(model name with its size)" in item.improvement
    assert debrief.covered == 0


def by_id(scenarios, scenario_id):
    return next(s for s in scenarios if s.lesson_id == scenario_id)


@pytest.mark.parametrize(
    "scenario_id, message",
    [
        # claims, in sentences none of the labelled transcripts use
        (
            "hugging-face",
            "Rest assured the model, the hosting bill and the long chapters are handled.",
        ),
        ("free-compute", "We have accounted for the hours, the memory and the platform already."),
        # a bare list of names or numbers
        ("idea-to-demo", "Plan: Hub, LoRA, Kaggle, Gradio, F1, T4, NaN."),
        ("pytorch", "Numbers: 1,500 lines, 3 engineers, 4 GPUs, 2 weeks, 3 weeks."),
        # questions, platitudes, hype
        ("free-compute", "GPU hours? Memory? Checkpoints? Paying?"),
        ("hugging-face", "It's important to measure quality. Choose the right model wisely."),
        ("pytorch", "A modern, scalable, industry standard framework is the best practice."),
        # the card's words for several points in one sentence, no specific: a checklist
        (
            "free-compute",
            "We'll look at how long it runs, the memory on the card, Kaggle and saving progress.",
        ),
        # Markdown headings with nothing under them
        ("idea-to-demo", "## Demo\n## Baseline\n## Risks"),
    ],
)
def test_words_without_content_earn_nothing(scenarios, embedder, scenario_id, message):
    coverage = score_by_embeddings(by_id(scenarios, scenario_id), [message], embedder)
    assert {p.status for p in coverage.points} == {"missing"}, [
        (p.id, p.status) for p in coverage.points
    ]


def test_the_characters_lines_and_the_card_never_count_as_the_learners(scenarios, embedder):
    """A learner who pastes back what the character said (its presses, acknowledgements and
    revealed facts) or the brief earns nothing: those are the card's words, not the learner's."""
    from demos.lab.director import script_for

    for scenario in scenarios:
        script = script_for(scenario)
        lines = [scenario.brief, *scenario.facts, *(r.say for r in script.reveals)]
        for point in script.points.values():
            lines += [*point.press, *point.acknowledge]
        coverage = score_by_embeddings(scenario, lines, embedder)
        assert coverage.covered == 0, (scenario.lesson_id, coverage.points)


def test_evidence_counts_only_in_the_learners_own_words(scenarios, embedder):
    scenario = by_id(scenarios, "hugging-face")
    echo = "I have one developer and two hundred dollars a month, so we run a nightly batch job."
    own = "A nightly batch job: 80 chapters at 3 GPU-minutes each on a $0.80 an hour GPU, about $3."
    assert score_by_embeddings(scenario, [echo], embedder).status("cost-arithmetic") != "covered"
    assert score_by_embeddings(scenario, [own], embedder).status("cost-arithmetic") == "covered"


@pytest.mark.parametrize(
    "scenario_id, message, point_id",
    [
        ("hugging-face", "The monthly bill stays small, I'm sure of it.", "cost-arithmetic"),
        ("free-compute", "If it's too heavy for the card, train only adapters.", "memory-fit"),
        (
            "idea-to-demo",
            "At the end there is a little web page people can play with.",
            "ship-something-small",
        ),
        ("pytorch", "Let's hold off for now and revisit it later.", "concrete-plan"),
    ],
)
def test_the_idea_without_its_specific_is_partial(
    scenarios, embedder, scenario_id, message, point_id
):
    """The card's words for an idea (``touch:``) earn partial credit, never the point."""
    coverage = score_by_embeddings(by_id(scenarios, scenario_id), [message], embedder)
    assert coverage.status(point_id) == "partial"
    assert coverage.covered == 0


def test_a_heldout_folder_may_be_empty_or_hold_one_round(
    tmp_path, monkeypatch, scenarios, embedder
):
    """bench/lab_quality.py measures judged/heldout/ when a round is there, and reports none
    (instead of failing) while it is empty; a label for an unknown point is a miss, not a crash."""
    from types import SimpleNamespace

    import bench.lab_quality as bench

    (tmp_path / "heldout").mkdir()
    (tmp_path / "heldout" / "README.md").write_text("nothing yet")
    monkeypatch.setattr(bench, "JUDGED", tmp_path)
    assert bench.judged_transcripts("heldout") == []
    result = bench.judge_agreement(None, "heldout")
    assert result["transcripts"] == 0 and result["points"] == 0
    assert bench.pct(0, 0) == "n/a"

    round5 = {
        "transcripts": [
            {
                "scenario": "hugging-face",
                "name": "one",
                "kind": "weak",
                "messages": ["Cost is the part I'd watch."],  # touched, not waved away
                # touched in passing, and nothing specific anywhere: the debrief says missing,
                # the sentence-level verdict (the meter's) partial
                "expected": {"cost-arithmetic": "missing", "no-such-point": "missing"},
            }
        ]
    }
    (tmp_path / "heldout" / "round5.yaml").write_text(yaml.safe_dump(round5))
    engine = SimpleNamespace(scenario=lambda sid: by_id(scenarios, sid), embedder=embedder)
    result = bench.judge_agreement(engine, "heldout")
    assert (result["transcripts"], result["points"], result["exact"]) == (1, 2, 1)
    assert result["sentence_exact"] == 0
    assert any("no rubric point no-such-point" in m for m in result["misses"])


def test_loro_reports_each_outside_round_and_the_probes_apart(
    tmp_path, monkeypatch, scenarios, embedder
):
    """bench/lab_quality.py --loro: one row per outside-authored round (round*-reviewed), with
    the fitted threshold picked by the other rounds only; the engineers' probes on a line of
    their own, never in the rounds' mean."""
    from types import SimpleNamespace

    import bench.lab_quality as bench

    dev = tmp_path / "dev"
    dev.mkdir()

    def write(name: str, message: str, expected: str) -> None:
        item = {
            "scenario": "hugging-face",
            "name": name,
            "kind": "weak",
            "messages": [message],
            "expected": {"cost-arithmetic": expected},
        }
        (dev / f"{name}.yaml").write_text(yaml.safe_dump({"transcripts": [item]}))

    # "cost" is a touch word at low closeness: partial at TOUCH_AT 0, missing at 0.9
    write("round1-reviewed", "Hosting it might get expensive for us.", "partial")
    write("round2-reviewed", "We should keep the hosting cheap.", "missing")
    write("judge-probe-1", "I have no idea.", "missing")
    monkeypatch.setattr(bench, "JUDGED", tmp_path)
    monkeypatch.setattr(bench, "FITTED_GRID", {"TOUCH_AT": (0.0, 0.9), "MEANING_AT": (1.01,)})
    # one-sentence fixtures are thin conversations: the rule would step every partial down
    monkeypatch.setattr("demos.lab.coverage.THIN_COVERED", -1)
    engine = SimpleNamespace(scenario=lambda sid: by_id(scenarios, sid), embedder=embedder)
    table = "\n".join(bench.loro_report(engine))
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if "reviewed" in line}
    # each round is scored with the threshold the *other* round prefers: both wrong
    assert "0.9, 1.01 | 0/1" in rows["round1-reviewed"]
    assert "0.0, 1.01 | 0/1" in rows["round2-reviewed"]
    assert "judge-probe-1 1/1" in table and "judge-probe-1" not in "".join(rows.values())


def test_a_point_earned_by_one_clause_quotes_the_whole_sentence(scenarios, embedder):
    """Clauses are scored on their own, but the debrief quotes what the learner wrote: the
    whole sentence, never a fragment that starts mid-thought."""
    scenario = by_id(scenarios, "hugging-face")
    sentence = (
        "We take five chapters as a test set, run two models on them, and track the share of "
        "questions teachers accept."
    )
    coverage = score_by_embeddings(scenario, ["Hello.", sentence], embedder)
    quotes = {p.id: p.quote for p in coverage.points if p.status != "missing"}
    assert quotes, "the sentence earns at least one point"
    assert all(quote in ("Hello.", sentence) for quote in quotes.values())
    assert sentence in quotes.values()


@pytest.mark.parametrize(
    "scenario_id, messages",
    [
        # status lines and headings instead of content
        (
            "idea-to-demo",
            ["Here is my structure:", "A. Task definition: done.", "B. Failure modes: planned."],
        ),
        ("free-compute", ["Hours checked, memory checked, checkpoints checked, platform checked."]),
        # the same in other languages: claims and headings earn nothing there either
        ("hugging-face", ["Modell: erledigt. Kosten: erledigt. Kapitel: erledigt. Vertrau mir."]),
        ("pytorch", ["Migración: resuelta. Equipo: resuelto. Depuración: resuelta."]),
    ],
)
def test_status_lines_earn_nothing_in_any_language(scenarios, embedder, scenario_id, messages):
    coverage = score_by_embeddings(by_id(scenarios, scenario_id), messages, embedder)
    assert {p.status for p in coverage.points} == {"missing"}, [
        (p.id, p.status) for p in coverage.points
    ]


def test_a_specific_needs_its_partner(scenarios, embedder):
    """A named model without a baseline, a fix without the failure it answers, a prompt without
    examples or fine-tuning put off: each is the idea touched (partial), not the point."""
    idea = by_id(scenarios, "idea-to-demo")
    name_only = score_by_embeddings(idea, ["My pick is bert-base-cased."], embedder)
    assert name_only.status("hub-baseline-first") == "partial"
    measured = ["I'd score bert-base-cased zero-shot on my test set as the baseline first."]
    assert score_by_embeddings(idea, measured, embedder).status("hub-baseline-first") == "covered"
    fix_only = score_by_embeddings(
        idea, ["If training stalls I'll tune the learning rate."], embedder
    )
    assert fix_only.status("failure-modes") == "partial"
    both = ["Spam is rare in my data, so I'll use class weights and track recall."]
    assert score_by_embeddings(idea, both, embedder).status("failure-modes") == "covered"
    hf = by_id(scenarios, "hugging-face")
    prompt_only = score_by_embeddings(hf, ["The developer writes a careful prompt."], embedder)
    assert prompt_only.status("prompting-before-fine-tuning") == "partial"
    with_examples = ["The prompt holds two sample questions, and we don't train anything yet."]
    covered = score_by_embeddings(hf, with_examples, embedder)
    assert covered.status("prompting-before-fine-tuning") == "covered"


def test_another_language_degrades_to_evidence_and_partial_not_to_nothing(scenarios, embedder):
    """MiniLM is English-only: a Spanish or German answer is read through the glossary, its
    specifics still earn their points, vague words still earn partial, and the debrief quotes
    the learner's own words, not the glossed ones."""
    free = by_id(scenarios, "free-compute")
    spanish = [
        "Yo entrenaría en Kaggle, que da 30 horas por semana, después de probar en Colab.",
        "Guarda un checkpoint cada 20 minutos en Drive para reanudar la sesión.",
        "Con una sola época en lugar de cinco ya basta para empezar.",
    ]
    coverage = score_by_embeddings(free, spanish, embedder)
    assert coverage.status("platform-choice") == "covered"
    assert coverage.status("checkpoint-and-resume") == "covered"
    assert coverage.status("reduce-the-work") != "missing"
    quotes = [p.quote for p in coverage.points if p.quote]
    assert quotes and all(any(q in m for m in spanish) for q in quotes)
    german = ["Nimm lieber ein kleineres Modell, wenn der Speicher nicht reicht."]
    vague = score_by_embeddings(free, german, embedder)
    assert vague.status("reduce-the-work") == "partial" and vague.covered == 0


# Gaming by form (written for this test, not taken from any labelled round): the learner hands
# back terms, the card's facts, headlines or figures instead of a claim or plan of their own.
ECHOED = [
    # a string of terms, no sentence around them
    (
        "free-compute",
        ["Kaggle T4 QLoRA 4-bit gradient checkpointing resume Drive subset epochs budget."],
    ),
    (
        "pytorch",
        ["Lightning Trainer DDP callbacks autocast sampler debugging pilot rollback quarter."],
    ),
    (
        "hugging-face",
        ["Qwen Llama Phi prompting chunking summaries teachers acceptance budget self-hosted."],
    ),
    ("free-compute", ["Kaggle QLoRA checkpoints Drive horas épocas subconjunto presupuesto T4."]),
    # the card's facts read back, reordered, with no claim of the learner's own
    (
        "pytorch",
        [
            "Let me sum up. Raw PyTorch, 1,500 lines, custom sampler, gradient accumulation.",
            "Three engineers. A release every two weeks, the next one three weeks out.",
            "Four GPUs arrive next quarter. Two days lost to a NaN loss last quarter.",
        ],
    ),
    (
        "hugging-face",
        [
            "To recap: one developer who knows Python and has never trained a model.",
            "A $200 monthly budget, all in. Forty chapters uploaded a month, double next term.",
            "Chapters of 8,000 to 12,000 words. Ten multiple-choice questions per chapter.",
        ],
    ),
    # "Topic: status" headlines, in English and through the glossary
    (
        "hugging-face",
        [
            "Budget: well within the $200.",
            "Model choice: picked with care.",
            "Evaluation: the proper one.",
            "Chapters: no problem.",
        ],
    ),
    ("free-compute", ["Hours: fine.", "Memory: safe.", "Platform: the right one.", "Cost: zero."]),
    ("pytorch", ["Migración: resuelta.", "Depuración: garantizada.", "Plan: definido."]),
    # figures tied to nothing, and the answer asserted
    ("hugging-face", ["My numbers: 3B, 8k, $1.20, 40, 12, 2, 95%."]),
    ("free-compute", ["In short: 3, 50,000, 300, 15, 30, 12, 10."]),
    (
        "free-compute",
        ["As we discussed, the figures speak for themselves: 30 hours, 15 GB, 95%."],
    ),
    (
        "idea-to-demo",
        ["The obvious conclusion, as agreed earlier: 4 weeks, 20 minutes, 2 tools."],
    ),
    # problems waved away, a verdict in place of a figure
    ("pytorch", ["If a run ever goes wrong we can always just debug it in the Trainer."]),
    ("hugging-face", ["Hosting a model for the chapters will be cheap enough for the startup."]),
]


@pytest.mark.parametrize("scenario_id, messages", ECHOED)
def test_echoed_forms_earn_nothing(scenarios, embedder, scenario_id, messages):
    coverage = score_by_embeddings(by_id(scenarios, scenario_id), messages, embedder)
    assert coverage.covered == 0, [(p.id, p.status) for p in coverage.points]
    assert {p.status for p in coverage.points} == {"missing"}, [
        (p.id, p.status) for p in coverage.points
    ]


def test_facts_cited_for_a_claim_of_ones_own_keep_their_credit(scenarios, embedder):
    """A fact of the card beside the learner's own reasoning still backs it: the team's
    situation argued from its facts is the point, not an echo."""
    scenario = by_id(scenarios, "pytorch")
    messages = [
        "We're three engineers and the next release is in three weeks.",
        "So I'd hold the migration until after the release, then pilot Lightning on one new "
        "experiment for two weeks, because the 4-GPU machine arrives next quarter and hand-written "
        "DDP is what would really cost us.",
    ]
    coverage = score_by_embeddings(scenario, messages, embedder)
    assert coverage.status("ties-to-team-situation") == "covered"
    assert coverage.status("concrete-plan") == "covered"
    headline = score_by_embeddings(
        by_id(scenarios, "hugging-face"),
        ["Cost: 40 chapters x 10 questions on a rented L4 at $0.80/h, about $5 a month."],
        embedder,
    )
    assert headline.status("cost-arithmetic") == "covered"


def test_the_cards_own_figure_alone_earns_nothing(scenarios, embedder):
    """ "$200." is the card's budget read back, not cost arithmetic; one step of a real plan
    ("Split each chapter into sections of 1,500 words.") still counts."""
    scenario = by_id(scenarios, "hugging-face")
    assert score_by_embeddings(scenario, ["$200."], embedder).covered == 0
    split = score_by_embeddings(
        scenario, ["Split each chapter into 1,500-word sections."], embedder
    )
    assert split.status("long-chapter-handling") == "covered"


def test_timing_one_epoch_is_not_cutting_the_work(scenarios, embedder):
    """The free-compute card's own terms once read "one epoch" anywhere as a cut: a learner who
    only timed an epoch saw "cutting the work" ticked on the meter."""
    card = next(s for s in scenarios if s.lesson_id == "free-compute")
    timing = "Run 50 steps first and time them; if a step takes 0.5 s, one epoch is under an hour."
    assert score_by_embeddings(card, [timing], embedder).status("reduce-the-work") != "covered"
    cutting = "Train for one epoch instead of five, on sequences cut to 256 tokens."
    assert score_by_embeddings(card, [cutting], embedder).status("reduce-the-work") == "covered"


@pytest.mark.parametrize(
    "scenario_id, message, point_id",
    [
        # someone else will catch it: the topic waved away, not answered
        (
            "hugging-face",
            "Bad questions hardly matter, since the editors read every quiz anyway.",
            "quality-evaluation",
        ),
        ("hugging-face", "Honestly, quality is not a big concern here.", "quality-evaluation"),
        (
            "free-compute",
            "There's no need to spend a cent on this, trust the free tier.",
            "when-to-pay",
        ),
    ],
)
def test_a_topic_waved_away_earns_nothing(scenarios, embedder, scenario_id, message, point_id):
    """Outside authors label "the teachers check everything anyway" or "no need to pay" as the
    opposite stance (missing), not as the topic touched."""
    coverage = score_by_embeddings(by_id(scenarios, scenario_id), [message], embedder)
    assert coverage.status(point_id) == "missing"


@pytest.mark.parametrize(
    "scenario_id, message, point_id",
    [
        # touching the point's words only to wave the topic away, with a model named beside it
        (
            "idea-to-demo",
            "We won't need to look at other models, GPT-4o is obviously the best.",
            "hub-baseline-first",
        ),
        (
            "idea-to-demo",
            "GPUs shouldn't be a problem, the cloud grows to whatever we need.",
            "staged-compute-plan",
        ),
    ],
)
def test_a_topic_waved_away_is_not_touched(scenarios, embedder, scenario_id, message, point_id):
    """A sentence that waves the point's topic away (evidence.yaml ``dismissals``) earns no
    partial credit from the topic's words (judge round 46: "I don't think I need to look at
    other models", "Compute shouldn't be an issue" were labelled missing)."""
    conversation = [message, "I'd start with a demo on a Space that my classmates can try."]
    coverage = score_by_embeddings(by_id(scenarios, scenario_id), conversation, embedder)
    assert coverage.status(point_id) == "missing"
    touched = ["GPUs are the hard part for us, so the compute plan matters."]
    if point_id == "staged-compute-plan":
        assert (
            score_by_embeddings(by_id(scenarios, scenario_id), touched, embedder).status(point_id)
            == "partial"
        )


def test_a_forms_labelled_lists_earn_nothing(scenarios, embedder):
    """A form's lines ("Side effects: NaN loss, warm-up bugs") name the card's topics without
    saying anything of them (judge round 46's tier list); a plan's step keeps its credit."""
    card = by_id(scenarios, "pytorch")
    form = [
        "Known side effects: NaN loss, warm-up bugs",
        "Ingredients: custom sampler, gradient accumulation",
    ]
    coverage = score_by_embeddings(card, form, embedder)
    assert coverage.status("keeps-debuggability") == "missing"
    assert coverage.status("weighs-migration-cost") == "missing"


def test_waving_a_topic_away_with_a_reason_beside_it_still_counts(scenarios, embedder):
    card = by_id(scenarios, "free-compute")
    reasoned = "No need to pay: the pilot says 18 GPU-hours, well inside Kaggle's 30 a week."
    assert score_by_embeddings(card, [reasoned], embedder).status("when-to-pay") != "missing"


# A conversation with checkable specifics elsewhere (so the thin-conversation rule does not
# decide), plus the sentence under test.
SOLID_FREE_COMPUTE = [
    "50,000 examples at batch 16 is 3,125 steps an epoch; at 2 s a step that is under 2 hours.",
    "A full fine-tune needs about 48 GB with Adam, so use LoRA in fp16 on the T4.",
    "Do 2 epochs instead of 5 and truncate the examples to 256 tokens.",
    "Debug on Colab, then run the long job on Kaggle with its 30 GPU-hours a week.",
]


@pytest.mark.parametrize(
    "point, sentence",
    [
        ("checkpoint-and-resume", "If the session disconnects, just restart the notebook."),
        (
            "checkpoint-and-resume",
            "Sessions end sometimes; keep the tab open and play a video on loop so it never drops.",
        ),
        ("when-to-pay", "and nah you wont have to pay a thing, free tiers exist for exactly this"),
        ("when-to-pay", "Don't buy Colab Pro or rent anything, you never have to pay for this."),
    ],
)
def test_the_opposite_stance_earns_nothing(scenarios, embedder, point, sentence):
    """Staying connected instead of saving, or a blanket 'you won't pay': missing. Before the
    card's ``against:`` entries (2026-12-04) each of these earned partial credit; the hours and
    quota figures elsewhere in the conversation are no condition on paying."""
    card = by_id(scenarios, "free-compute")
    coverage = score_by_embeddings(card, [*SOLID_FREE_COMPUTE, sentence], embedder)
    assert coverage.status(point) == "missing"


@pytest.mark.parametrize(
    "point, sentence",
    [
        (
            "checkpoint-and-resume",
            "Keep the tab open if you like, but save a checkpoint to Drive every 30 minutes.",
        ),
        ("when-to-pay", "You won't need to pay unless the pilot says more than 30 hours."),
        (
            "platform-choice",
            "Keep the tab open while you debug, then run the long job as a Kaggle background run.",
        ),
    ],
)
def test_the_stance_with_its_fix_still_counts(scenarios, embedder, point, sentence):
    card = by_id(scenarios, "free-compute")
    coverage = score_by_embeddings(card, [*SOLID_FREE_COMPUTE, sentence], embedder)
    assert coverage.status(point) != "missing"


@pytest.mark.parametrize(
    "message, expected",
    [
        ("Copy the checkpoint folder to your Drive.", "partial"),  # where, but not how often
        ("Keep saving your progress as you go.", "partial"),
        ("Push a checkpoint to the Hub every 45 minutes.", "covered"),
        ("Set save_steps=250 so a checkpoint lands in /kaggle/working regularly.", "covered"),
        (
            "When Colab cuts you off, load the last saved state and resume training from there.",
            "covered",
        ),
        ("Guarda un checkpoint en Drive cada 20 minutos y reanuda desde ahí.", "covered"),
    ],
)
def test_surviving_a_session_ending_needs_an_interval_or_a_resume(
    scenarios, embedder, message, expected
):
    """Outside authors credit saving only with how often or with resuming; where alone, or
    "as you go", is partial."""
    card = by_id(scenarios, "free-compute")
    assert (
        score_by_embeddings(card, [message], embedder).status("checkpoint-and-resume") == expected
    )


def test_gradient_checkpointing_is_not_saving_progress(scenarios, embedder):
    card = by_id(scenarios, "free-compute")
    message = "Switch on gradient checkpointing so the activations take less memory."
    assert (
        score_by_embeddings(card, [message], embedder).status("checkpoint-and-resume") != "covered"
    )


def test_arguing_the_opposite_stance_earns_the_point_nothing(scenarios, embedder):
    """The misconception a point is about ("count the weights, so a full fine-tune fits") earns
    it nothing, whatever figures come with it and in whichever message."""
    card = by_id(scenarios, "free-compute")
    figures = "Half precision means six gigabytes of weights, and the T4 has fifteen."
    stance = "So the whole model fits on it comfortably; fine-tune every layer."
    assert score_by_embeddings(card, [figures], embedder).status("memory-fit") == "covered"
    assert score_by_embeddings(card, [figures, stance], embedder).status("memory-fit") == "missing"
    # the fix named anywhere, a question, or a negation is not that stance
    fixed = [
        figures,
        stance,
        "Actually no: with Adam it's far more, so load it in 4-bit with QLoRA.",
    ]
    assert score_by_embeddings(card, fixed, embedder).status("memory-fit") == "covered"
    asked = [figures, "Does the whole model even fit on it?"]
    assert score_by_embeddings(card, asked, embedder).status("memory-fit") == "covered"
    denied = ["Training every weight won't fit in 15 GB, so use LoRA adapters in fp16."]
    assert score_by_embeddings(card, denied, embedder).status("memory-fit") == "covered"
    waved = [figures, stance, "No need for LoRA or any of that."]
    assert score_by_embeddings(card, waved, embedder).status("memory-fit") == "missing"
    # (2026-12-05, judge round 56) "a normal full fine-tune" is the same stance
    plain = [figures, "So you can just run a regular full fine-tune on it, no LoRA needed."]
    assert score_by_embeddings(card, plain, embedder).status("memory-fit") == "missing"


@pytest.mark.parametrize(
    "messages, expected",
    [
        (["Train it on your old quizzes first, then see how it does."], "missing"),
        (["Honestly prompting is too unreliable for this, so fine-tune."], "missing"),
        (
            [
                "Write one prompt with the rules and two sample questions from a teacher.",
                "Skip fine-tuning for the first semester and revisit it later.",
            ],
            "covered",
        ),
    ],
)
def test_training_first_is_the_opposite_of_prompting_first(scenarios, embedder, messages, expected):
    card = by_id(scenarios, "hugging-face")
    verdict = score_by_embeddings(card, messages, embedder).status("prompting-before-fine-tuning")
    assert verdict == expected


@pytest.mark.parametrize(
    "message, expected",
    [
        ("We'll cut the chapters up before they go in.", "partial"),
        ("Its context window holds 32k tokens, so whole chapters go in at once.", "partial"),
        ("Cut each chapter into chunks of roughly 800 words at its headings.", "covered"),
        ("Split chapters at the headings and ask for two questions per section.", "covered"),
        ("Partimos cada capítulo en secciones de unas 1.200 palabras.", "covered"),
    ],
)
def test_a_long_chapter_needs_a_section_size_or_what_each_section_gets(
    scenarios, embedder, message, expected
):
    card = by_id(scenarios, "hugging-face")
    assert (
        score_by_embeddings(card, [message], embedder).status("long-chapter-handling") == expected
    )


@pytest.mark.parametrize(
    "scenario_id, message, point_id, expected",
    [
        # a decision with a timing but no check: partial, in any language
        (
            "pytorch",
            "Let's kick off the port this sprint and be done with it.",
            "concrete-plan",
            "partial",
        ),
        (
            "pytorch",
            "Proponuję, żeby zacząć migrację od razu, bo to się szybko zwróci.",
            "concrete-plan",
            "partial",
        ),
        # a demo with nothing a visitor does in it is partial; where another person runs it is not
        (
            "idea-to-demo",
            "I'll throw together a small Gradio demo at the end.",
            "ship-something-small",
            "partial",
        ),
        (
            "idea-to-demo",
            "You'll get a Gradio app where you drop in a photo of a leaf and get the label.",
            "ship-something-small",
            "covered",
        ),
        (
            "idea-to-demo",
            "It ends on a public Space with the weights on the Hub.",
            "ship-something-small",
            "covered",
        ),
    ],
)
def test_a_decision_or_a_demo_without_its_specific_is_partial(
    scenarios, embedder, scenario_id, message, point_id, expected
):
    coverage = score_by_embeddings(by_id(scenarios, scenario_id), [message], embedder)
    assert coverage.status(point_id) == expected


@pytest.mark.parametrize(
    "scenario_id, messages, point_id, expected",
    [
        # a confident but wrong specific earns partial credit at most
        (
            "free-compute",
            ["Train it in bfloat16 with LoRA adapters, the T4 handles that."],
            "memory-fit",
            "partial",
        ),
        (
            "free-compute",
            ["LoRA in fp16: the T4 has no bf16, so don't use bfloat16."],
            "memory-fit",
            "covered",
        ),
        (
            "free-compute",
            ["Do the long run on Kaggle, you get 20 GPU-hours per day there."],
            "platform-choice",
            "partial",
        ),
        (
            "idea-to-demo",
            ["I'll count it a win at 85% F1 on the training data."],
            "precise-task",
            "partial",
        ),
        (
            "hugging-face",
            ["Llama-3.1-8B-Instruct, 8B parameters, Apache licence, so we can ship it."],
            "specific-model-choice",
            "partial",
        ),
        # the opposite stance earns nothing
        (
            "pytorch",
            ["With Lightning's anomaly detection that NaN would have been caught in minutes."],
            "keeps-debuggability",
            "missing",
        ),
        (
            "free-compute",
            ["Rent a 48 GB card for a day and you can simply run the full fine-tune, if you like."],
            "memory-fit",
            "missing",
        ),
        (
            "pytorch",
            ["After the port nobody will need to debug a training loop again."],
            "keeps-debuggability",
            "missing",
        ),
        ("free-compute", ["Honestly I'd never spend a cent on it."], "when-to-pay", "missing"),
        (
            "hugging-face",
            ["A 128k window means no chunking at all: the whole chapter goes in one request."],
            "long-chapter-handling",
            "missing",
        ),
        (
            "hugging-face",
            ["No need to chunk blindly: sections of about 1,500 words, two questions per section."],
            "long-chapter-handling",
            "covered",
        ),
        (
            "idea-to-demo",
            ["I'll code a CNN from scratch in PyTorch and train it on my 3,000 photos."],
            "hub-baseline-first",
            "missing",
        ),
        (
            "idea-to-demo",
            [
                "First a zero-shot baseline with openai/clip-vit-base-patch32 on 200 held-out photos.",
                "Then, only for comparison, a tiny CNN trained from scratch.",
            ],
            "hub-baseline-first",
            "covered",
        ),
        # (2026-12-04, kinds read from judge rounds 41-42)
        (
            "pytorch",
            ["Porting is easy, a couple of days at most, so let's start the migration this week."],
            "weighs-migration-cost",
            "missing",
        ),
        (
            "pytorch",
            ["Once we're on Lightning we won't have to read the training code ourselves any more."],
            "keeps-debuggability",
            "missing",
        ),
        (
            "hugging-face",
            ["First step: fine-tune the model on the teachers' old quizzes."],
            "prompting-before-fine-tuning",
            "missing",
        ),
        (
            "hugging-face",
            ["Evaluation? I wouldn't worry about metrics, we can skip that part."],
            "quality-evaluation",
            "missing",
        ),
        (
            "free-compute",
            ["I'd keep all 5 epochs and I won't cut the data either."],
            "reduce-the-work",
            "missing",
        ),
        (
            "free-compute",
            ["Just do a full fine-tune; LoRA is a hack and the results are worse."],
            "memory-fit",
            "missing",
        ),
        (
            "free-compute",
            [
                "Use LoRA, but it still stores Adam states for the entire base model, so budget 24 GB."
            ],
            "memory-fit",
            "partial",
        ),
        (
            "idea-to-demo",
            ["I don't want a pretrained model, I'd rather train my own from scratch."],
            "hub-baseline-first",
            "missing",
        ),
        (
            "idea-to-demo",
            ["The stack: LangChain, Docker, Kubernetes and a vector database."],
            "tools-tied-to-requirements",
            "missing",
        ),
        # opposite stances of judge rounds 47-48's kinds, other phrasings
        (
            "pytorch",
            ["Rewriting the 1,500 lines is maybe three days of work, most of it is boilerplate."],
            "weighs-migration-cost",
            "missing",
        ),
        (
            "pytorch",
            [
                "The Trainer lowers the learning rate by itself when the loss goes NaN, "
                "so that debugging pain is gone."
            ],
            "keeps-debuggability",
            "missing",
        ),
        (
            "pytorch",
            ["With Lightning that warm-up bug would never happen again, it's battle-tested."],
            "keeps-debuggability",
            "missing",
        ),
        (
            "hugging-face",
            ["Prompts feel like a band-aid to me; fine-tuning is the real way to good results."],
            "prompting-before-fine-tuning",
            "missing",
        ),
        (
            "free-compute",
            ["Five epochs are fine, just let them all run; less data would be a shame."],
            "reduce-the-work",
            "missing",
        ),
        (
            "free-compute",
            ["Keep the Colab tab open on your desk and it will finish overnight."],
            "platform-choice",
            "missing",
        ),
        # well-known facts stated wrong (judge rounds 45-46's kinds, other phrasings)
        (
            "hugging-face",
            ["I'd take microsoft/Phi-3.5-mini-instruct, 3.8B, and it's Apache 2.0 so no worries."],
            "specific-model-choice",
            "partial",
        ),
        # (2026-12-05) judge rounds 49-50's kinds, other phrasings and other languages: what
        # Lightning is wrongly said to do, a Colab quota that does not exist, the whole chapter
        # said to go in as it is
        (
            "pytorch",
            [
                "Lightning se encarga del bucle: llama a zero_grad, backward y step, y guarda los "
                "checkpoints.",
                "Además reemplaza autograd con su propio motor, que compila el grafo.",
            ],
            "explains-the-abstraction",
            "partial",
        ),
        (
            "pytorch",
            [
                "The Trainer calls zero_grad, backward and step for us and writes the checkpoints.",
                "It also turns on mixed precision by default, so every run is cheaper.",
            ],
            "explains-the-abstraction",
            "partial",
        ),
        (
            "pytorch",
            [
                "The Trainer calls zero_grad, backward and step for us and writes the checkpoints.",
                "Mixed precision is one argument, precision='16-mixed'; it isn't on by default.",
            ],
            "explains-the-abstraction",
            "covered",
        ),
        (
            "pytorch",
            [
                "Lightning übernimmt die Trainingsschleife: wir schreiben nur training_step und "
                "configure_optimizers, dazu kommen Checkpoints und Logging.",
                "Außerdem schaltet es automatisch Mixed Precision ein und verteilt alles auf die "
                "GPUs.",
            ],
            "explains-the-abstraction",
            "partial",
        ),
        (
            "hugging-face",
            ["Honestly the chapters can go straight in as they are, the context is 128k tokens."],
            "long-chapter-handling",
            "missing",
        ),
        (
            "hugging-face",
            [
                "A whole chapter fits into one prompt with Qwen, but I'd still split each chapter "
                "into sections of about 1,500 words and ask two questions per section."
            ],
            "long-chapter-handling",
            "covered",
        ),
    ],
)
def test_wrong_specifics_and_opposite_stances(
    scenarios, embedder, scenario_id, messages, point_id, expected
):
    coverage = score_by_embeddings(by_id(scenarios, scenario_id), messages, embedder)
    assert coverage.status(point_id) == expected


@pytest.mark.parametrize(
    "scenario_id, message, point_id",
    [
        (
            "free-compute",
            "每 30 分钟把 checkpoint 保存到 Google Drive，断线以后从最后一个 checkpoint 恢复训练。",
            "checkpoint-and-resume",
        ),
        (
            "free-compute",
            "Сохраняйте checkpoint в Google Drive каждые 30 минут и продолжайте с последнего.",
            "checkpoint-and-resume",
        ),
        (
            "hugging-face",
            "각 장을 1,500 단어 정도의 섹션으로 나누고 섹션마다 질문 두 개를 만듭니다.",
            "long-chapter-handling",
        ),
        (
            "hugging-face",
            "سنقسم كل فصل إلى أقسام من حوالي 1500 كلمة ونطلب سؤالين لكل قسم.",
            "long-chapter-handling",
        ),
        (
            "free-compute",
            "Зберігайте checkpoint у Google Drive кожні 30 хвилин і продовжуйте з останнього.",
            "checkpoint-and-resume",
        ),
        (
            "hugging-face",
            "Розбиваємо кожен розділ на частини приблизно по 1500 слів і просимо два питання на "
            "кожну частину.",
            "long-chapter-handling",
        ),
        (
            "free-compute",
            "บันทึก checkpoint ลง Google Drive ทุก 30 นาที แล้วเทรนต่อจาก checkpoint ล่าสุด",
            "checkpoint-and-resume",
        ),
        (
            "hugging-face",
            "แบ่งแต่ละบทออกเป็นส่วนย่อยประมาณ 1500 คำ แล้วสร้างคำถามสองข้อต่อส่วน",
            "long-chapter-handling",
        ),
    ],
)
def test_scripts_other_than_latin_are_read_through_the_glossary(
    scenarios, embedder, scenario_id, message, point_id
):
    """Chinese, Russian, Korean and Arabic answers once earned nothing: MiniLM reads English and
    the glossary held only Latin-script languages (Ukrainian and Thai came later)."""
    coverage = score_by_embeddings(by_id(scenarios, scenario_id), [message], embedder)
    assert coverage.status(point_id) == "covered"


def test_a_conversation_in_verse_earns_nothing(scenarios, embedder):
    """Judge rounds 27 and 28: two authors, independently, gamed the free-compute scenario in
    haiku naming the card's platforms and figures. A poem is read as saying nothing; the same
    facts written as advice still earn credit, and a list typed line by line is not verse."""
    scenario = next(s for s in scenarios if s.lesson_id == "free-compute")
    poem = "Colab's gentle T4\ntwelve hours, then the screen fades\nKaggle's thirty more"
    assert is_verse(poem)
    assert not is_verse("- Colab T4 for the pilot\n- Kaggle for the long run\n- checkpoint hourly")
    assert not is_verse("Pilot on Colab tonight.\nLong run on Kaggle.\nCheckpoint every hour.")
    verdict = score_by_embeddings(
        scenario, [poem, "Memory runs thin\nsmall adapters\nlighter load"], embedder
    )
    assert verdict.covered == 0
    advice = score_by_embeddings(
        scenario,
        [
            "Debug on Colab's T4 tonight, then run the full job on Kaggle, whose 30 GPU-hours a "
            "week cover it, saving a checkpoint every 500 steps."
        ],
        embedder,
    )
    assert advice.status("platform-choice") != "missing"


def test_a_models_well_known_facts_stated_wrong_earn_no_covered_point(scenarios, embedder):
    """Flan-T5 was trained on 512-token inputs; a 16k context is a confident wrong specific
    (judge round 45's kind). The same model with a right reason stays covered."""
    card = by_id(scenarios, "hugging-face")
    wrong = "I'd pick google/flan-t5-large, 780M params, because it reads a 16k context."
    right = "I'd pick google/flan-t5-large, 780M params, small enough for a CPU."
    assert score_by_embeddings(card, [wrong], embedder).status("specific-model-choice") != "covered"
    assert score_by_embeddings(card, [right], embedder).status("specific-model-choice") == "covered"


def test_a_wrong_licence_a_message_after_the_model_caps_the_model_choice(scenarios, embedder):
    """Llama comes under Meta's licence: "Apache 2.0" said of it a message later is as wrong as
    in the same sentence (judge round 53's kind); naming another model in between is not."""
    card = by_id(scenarios, "hugging-face")
    model = "I'd go with Llama-3.2-3B-Instruct, 3B parameters and a 128K context on its card."
    wrong = [model, "Budget: an L4 a few hours a week.", "Licence-wise it's Apache 2.0, so fine."]
    other = [model, "Or Qwen2.5-3B-Instruct, also 3B.", "That one's Apache 2.0, so fine."]
    assert score_by_embeddings(card, [model], embedder).status("specific-model-choice") == "covered"
    assert score_by_embeddings(card, wrong, embedder).status("specific-model-choice") == "partial"
    assert score_by_embeddings(card, other, embedder).status("specific-model-choice") == "covered"
