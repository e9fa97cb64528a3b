"""Items 5, 6 and 7: several GPUs, the cards learners rent or get, and cuts that make a job finish."""

from __future__ import annotations

import dataclasses

import pytest

from demos.calculator import tables
from demos.calculator.estimate import estimate
from demos.calculator.fields import FRIEND_SCENARIO, Fields, build_job

FRIEND = build_job(FRIEND_SCENARIO)


def test_eight_gpus_divide_the_wall_clock_not_the_gpu_hours():
    job = build_job(
        Fields(
            model="Llama-3.2-1B",
            method="full",
            examples=200_000,
            tokens_per_example=512,
            sequence_length=512,
            gpu="H100",
        )
    )
    one = estimate(job)
    eight = estimate(dataclasses.replace(job, gpus=8))
    assert eight.hours == pytest.approx(one.hours / 8, rel=0.10)
    assert eight.gpu_hours == pytest.approx(one.hours, rel=0.10)
    assert any("communication" in line for line in eight.formula)


def test_two_t4s_over_pcie_gain_little_on_a_full_fine_tune():
    """Kaggle's T4 x2 has no NVLink: DDP all-reduces 4 bytes per parameter over PCIe every step."""
    job = build_job(
        Fields(
            parameters="350M", method="full", examples=20_000, tokens_per_example=128, batch_size=4
        )
    )
    one, two = estimate(job), estimate(dataclasses.replace(job, gpus=2))
    assert two.assumptions["communication_seconds_per_step"] > 0
    assert one.hours / two.hours < 1.6


def test_sharding_fits_what_copies_cannot():
    job = build_job(
        Fields(
            model="Llama-3.1-8B",
            method="full",
            examples=10_000,
            tokens_per_example=1024,
            sequence_length=1024,
            batch_size=1,
            gpu="A100-80GB",
            gpus=8,
        )
    )
    ddp = estimate(job)
    fsdp = estimate(dataclasses.replace(job, parallelism="fsdp"))
    assert ddp.verdict_for("A100-80GB").verdict == "does not fit"
    assert fsdp.verdict_for("A100-80GB").verdict in ("fits", "tight")
    assert fsdp.memory.total < ddp.memory.total / 3


def test_platforms_know_how_many_gpus_they_offer():
    job = dataclasses.replace(FRIEND, gpus=2, deadline_days=None)
    result = estimate(job)
    assert result.plan_for("kaggle_t4").verdict != "does not fit"  # T4 x2
    assert "at most 1 GPU" in result.plan_for("colab_free").plan
    four = estimate(dataclasses.replace(job, gpus=4))
    assert "at most 2 GPUs" in four.plan_for("kaggle_t4").plan
    rent = four.plan_for("rent_a100_80")
    assert rent.cost_high == pytest.approx(4 * rent.hours * 2.80)


@pytest.mark.parametrize(
    ("key", "gib"), [("RTX4090", 24), ("L40S", 48), ("RTXA6000", 48), ("ZeroGPU", 48)]
)
def test_the_cards_learners_rent_or_get(key, gib):
    gpu = tables.gpu(key)
    assert gpu.memory_gb == gib and gpu.source.startswith("http") and gpu.as_of
    assert gpu.peak_tflops["bf16"] and gpu.usable_gib < gib


def test_a_7b_qlora_fits_a_4090_and_a_full_fine_tune_does_not():
    job = build_job(
        Fields(
            model="Mistral-7B", method="qlora", examples=1000, tokens_per_example=512, batch_size=2
        )
    )
    assert estimate(job).verdict_for("RTX4090").verdict == "fits"
    full = estimate(dataclasses.replace(job, method="full"))
    assert full.verdict_for("RTX4090").verdict == "does not fit"


def test_the_p100_is_flagged_and_never_recommended():
    p100 = tables.gpu("P100")
    assert "kaggle-cli#1151" in p100.status and "2026" in p100.status
    result = estimate(dataclasses.replace(FRIEND, method="qlora", deadline_days=None))
    assert "Pascal" in result.plan_for("kaggle_p100").plan
    assert result.recommendation.platform != "kaggle_p100"


def test_zerogpu_is_a_daily_quota_of_short_calls():
    zero = tables.platforms()["zerogpu"]
    assert zero.daily_quota_minutes == {"unauthenticated": 2, "free": 5, "pro": 40}
    assert zero.call_seconds == 60 and "spaces-zerogpu" in zero.source and zero.as_of
    result = estimate(FRIEND)
    plan = result.plan_for("zerogpu")
    assert plan.days_of_quota == pytest.approx(plan.hours * 60 / 5)
    assert "days of quota" in plan.plan and "not training" in plan.plan
    assert result.recommendation.platform != "zerogpu"


def test_a_job_weeks_too_long_gets_cuts_with_numbers():
    """Item 7: 20 epochs of the friend's job need ~3 weeks of Kaggle: the plan says what to cut."""
    long = estimate(dataclasses.replace(FRIEND, epochs=20, deadline_days=None))
    names = {c.name for c in long.cuts}
    assert {"fewer epochs", "a subset", "a smaller model first", "shorter sequences"} <= names
    for cut in long.cuts:
        if cut.name != "QLoRA":
            assert cut.hours < long.hours and cut.factor < 1
    assert next(c for c in long.cuts if c.name == "QLoRA").factor > 1  # memory, not time
    assert "30 h" in long.cut_plan and "epochs instead of 20" in long.cut_plan
    assert long.cut_plan in long.recommendation.reasons


def test_a_missed_deadline_gets_a_plan_that_meets_it():
    late = estimate(dataclasses.replace(FRIEND, deadline_days=0.5))
    assert late.cuts and "deadline" in late.cut_plan
    hours = float(late.cut_plan.split("about ")[1].split(" h")[0])
    assert hours <= 12


def test_a_job_that_fits_gets_no_cuts():
    assert estimate(FRIEND).cuts == []
