"""Checkable evidence: a named model with its size, numbers with units, a plan with an order;
and the check that a learner restates a rubric point instead of answering it."""

from __future__ import annotations

import pytest

from demos.lab.evidence import EvidenceError, evidence_kinds, parse_checks, restates


def found(kind: str, text: str) -> bool:
    return evidence_kinds()[kind].found_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'd use Qwen2.5-7B-Instruct.",
        "SmolLM2-1.7B-Instruct fits the budget.",
        "Llama 3.2 3B Instruct, in a nightly batch.",
        "a 7B Mistral model",
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        "Phi-3.5-mini-instruct, 3.8B parameters",
        "Qwen 2.5 with 1.5 billion parameters",
    ],
)
def test_a_named_model_with_its_size(text):
    assert found("model-with-size", text)


@pytest.mark.parametrize(
    "text", ["a small open model", "GPT is good", "three engineers", "a 3B model", "Kaggle"]
)
def test_no_model_name_with_size(text):
    assert not found("model-with-size", text)


def test_numbers_money_and_order():
    assert found("number-unit", "about 4 GPU-hours a month")
    assert found("number-unit", "two hundred dollars")
    assert not found("number-unit", "a few hours")
    assert found("money", "$4 a month") and found("money", "costs 12 dollars")
    assert not found("money", "Colab is free")
    assert found("ordered-plan", "First ship the release, then pilot Lightning.")
    assert found("ordered-plan", "1. release\n2. pilot\n3. decide")
    assert not found("ordered-plan", "We should migrate.")
    assert found("step-arithmetic", "50,000 / 8 is 6,250 steps")


def test_a_rubric_point_pasted_back_is_a_restatement(scenarios):
    point = scenarios[1].rubric[0].point
    assert restates(point, [point])
    assert restates("I think it " + point.lower(), [point])
    assert not restates("Run it on a GPU rented by the hour.", [point])


def test_a_card_naming_an_unknown_kind_is_refused_with_its_field():
    with pytest.raises(EvidenceError, match="rubric.x.evidence: unknown evidence kind 'magic'"):
        parse_checks(["magic"], "rubric.x.evidence")
    checks = parse_checks([{"terms": ["LoRA", "QLoRA"]}], "here")
    assert checks[0].found_in("use qlora in fp16") and not checks[0].found_in("use lorax")
