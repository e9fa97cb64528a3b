"""Unit tests of the pure estimation code (no Gradio): formulas, verdicts, fixes, plans, bad input."""

from __future__ import annotations

import dataclasses
import math
import sys

import pytest

from demos.calculator import tables
from demos.calculator.estimate import (
    GIB,
    Architecture,
    InvalidInputError,
    MeasuredJob,
    ModelJob,
    cheapest_fix,
    estimate,
    infer_architecture,
    memory_breakdown,
    plan_platform,
    training_flops,
    verdict,
)
from demos.calculator.fields import FRIEND_SCENARIO, Fields, build_job, estimate_fields

BASE = ModelJob(
    parameters=1e9, examples=10_000, tokens_per_example=256, epochs=1, sequence_length=512
)


def test_logic_modules_import_no_gradio():
    # The lab and the lessons call these without a UI.
    for name in ("demos.calculator.estimate", "demos.calculator.fields", "demos.calculator.report"):
        assert name in sys.modules or __import__(name)
    code = (
        "import sys, demos.calculator.estimate, demos.calculator.fields, demos.calculator.report, "
        "demos.calculator.model_size; print('gradio' in sys.modules, 'torch' in sys.modules)"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_flops_factor_per_method():
    # k·N·D plus Kaplan's attention term 2·n_layer·n_ctx·d_model per token, scaled by k/2 for training.
    n, d = 1e9, 10_000 * 256
    arch = infer_architecture(n)
    attention = 2 * arch.layers * 256 * arch.hidden * d
    for method, k in (("full", 6), ("inference", 2), ("lora", 4)):
        assert training_flops(dataclasses.replace(BASE, method=method)) == pytest.approx(
            k * n * d + attention * k / 2
        )
    with_recompute = dataclasses.replace(BASE, method="full", gradient_checkpointing=True)
    assert training_flops(with_recompute) == pytest.approx(8 * n * d + attention * 4)


def test_input_embedding_is_a_lookup_not_flops():
    """A classifier has no LM head: its input embedding costs no FLOPs (Kaplan et al. leave it out)."""
    minilm = build_job(Fields(model="all-MiniLM-L6-v2", examples=1000, tokens_per_example=128))
    embedding = minilm.architecture.vocab * minilm.architecture.hidden
    as_classifier = training_flops(
        dataclasses.replace(minilm, task="classification", method="full")
    )
    as_mlm = training_flops(dataclasses.replace(minilm, task="masked-lm", method="full"))
    assert as_mlm > as_classifier
    per_token = as_classifier / (1000 * 128)
    assert per_token < 6 * (minilm.parameters - embedding) * 1.15


def test_tokens_default_to_padded_sequence_and_are_truncated():
    padded = ModelJob(parameters=1e9, examples=100, sequence_length=512)
    assert estimate(padded).tokens == 100 * 512
    with pytest.raises(InvalidInputError) as error:
        estimate(
            ModelJob(parameters=1e9, examples=100, tokens_per_example=600, sequence_length=512)
        )
    assert error.value.field == "tokens_per_example"


def test_time_is_flops_over_peak_times_mfu():
    # 64 x 256 tokens a step: compute-bound (a smaller batch would wait for the host, see below).
    job = dataclasses.replace(
        BASE, method="full", gpu="H100", mfu=0.5, architecture=None, batch_size=64
    )
    result = estimate(job)
    expected = training_flops(job) / (989.4e12 * 0.5) / 3600
    assert result.hours == pytest.approx(expected, rel=1e-2)  # 157 whole steps of 64
    assert any("989.4e12" in line for line in result.formula)
    assert result.assumptions["bound_by"] == "compute"


def test_small_model_takes_the_hosts_time_not_the_flops():
    """Item 4: a 22M classifier on an H100 is launch-bound: batch 8 and batch 32 take about as long per
    step, and the time is the host's floor, not FLOPs / (peak x MFU)."""
    small = build_job(
        Fields(model="all-MiniLM-L6-v2", examples=64_000, tokens_per_example=128, gpu="H100")
    )
    small = dataclasses.replace(small, method="full", sequence_length=128)
    result = estimate(small)
    assert result.assumptions["bound_by"] == "host"
    per_step = result.assumptions["seconds_per_step"]
    bigger = estimate(dataclasses.replace(small, batch_size=32)).assumptions["seconds_per_step"]
    assert bigger == pytest.approx(per_step, rel=0.05)
    assert any("host" in line for line in result.formula)


def test_t4_has_no_bf16_so_mixed_uses_fp16_and_says_so():
    result = estimate(dataclasses.replace(BASE, gpu="T4"))
    assert result.assumptions["compute_precision"] == "fp16"
    assert any("bfloat16" in note for note in result.notes)


def test_memory_parts_per_method():
    full = memory_breakdown(dataclasses.replace(BASE, method="full", precision="mixed"))
    # Item 2: autocast keeps the model in fp32 (4 bytes) and saves 16-bit copies of the weights that
    # multiply for the backward pass: 2 bytes each, until the backward pass frees them.
    assert full.weights * GIB == pytest.approx(4e9)
    assert full.weight_copies * GIB == pytest.approx(2e9)
    assert full.optimizer * GIB == pytest.approx(8e9)
    # The peak is at the start of the backward pass: only the output layer's gradient exists yet.
    assert full.gradients * GIB < 0.1 * 4e9 and "forward" in full.peak_at
    fp32 = memory_breakdown(dataclasses.replace(BASE, method="full", precision="fp32"))
    assert fp32.weights * GIB == pytest.approx(4e9) and fp32.weight_copies == 0
    sgd = memory_breakdown(dataclasses.replace(BASE, method="full", optimizer="sgd"))
    assert sgd.optimizer * GIB == pytest.approx(4e9)
    adam8 = memory_breakdown(dataclasses.replace(BASE, method="full", optimizer="adamw_8bit"))
    assert adam8.optimizer * GIB == pytest.approx(2e9)
    lora = memory_breakdown(BASE)
    assert lora.gradients == lora.optimizer == 0
    assert lora.weights * GIB == pytest.approx(2e9)
    assert 0 < lora.adapters < 0.2
    qlora = memory_breakdown(dataclasses.replace(BASE, method="qlora"))
    assert qlora.weights < lora.weights / 2


def test_gradients_peak_when_activations_are_small():
    """With one short sequence the activations are tiny: the peak is the end of the backward pass,
    where every gradient exists (4 bytes each) and the 16-bit copies are gone."""
    tiny_batch = dataclasses.replace(
        BASE, method="full", batch_size=1, sequence_length=16, tokens_per_example=16
    )
    memory = memory_breakdown(tiny_batch)
    assert memory.gradients * GIB == pytest.approx(4e9)
    assert memory.weight_copies == 0 and "backward" in memory.peak_at


def test_checkpointing_cuts_activations():
    plain = memory_breakdown(dataclasses.replace(BASE, batch_size=16))
    recomputed = memory_breakdown(
        dataclasses.replace(BASE, batch_size=16, gradient_checkpointing=True)
    )
    assert recomputed.activations < plain.activations / 3


def test_checkpointed_full_fine_tune_never_counts_gradients_and_activations_together():
    """Item 2: the old sum (weights + copies + gradients + optimizer + all checkpoints + a layer) was
    25% above the measured 1.1B run; the peak is one phase or the other."""
    arch = Architecture(
        16, 2048, 32, 8, 32000, tied_embeddings=False, gated_mlp=True, intermediate=8192
    )
    job = ModelJob(
        parameters=1_104_218_112,
        examples=8,
        sequence_length=1024,
        batch_size=8,
        method="full",
        gradient_checkpointing=True,
        gpu="H100",
        architecture=arch,
    )
    memory = estimate(job).memory
    # The peak is the end of the backward pass (as PyTorch's MemTracker finds): all gradients, and
    # only the first layer's recomputed activations (~1 GiB), not every checkpoint and the logits too.
    assert "backward" in memory.peak_at
    assert memory.gradients * GIB == pytest.approx(4 * job.parameters)
    assert memory.activations < 1.5
    # Measured on an H200: 18.0 GiB allocated, 20.7 GiB with the allocator's reserve and the context.
    assert memory.total == pytest.approx(20.7, rel=0.10)


def test_infer_architecture_close_to_real_models():
    arch = infer_architecture(3.2e9)
    assert 2560 <= arch.hidden <= 3328 and 24 <= arch.layers <= 34  # Llama 3.2 3B: 3072, 28
    assert arch.inferred


def test_verdict_thresholds():
    assert verdict(8, 10) == "fits"
    assert verdict(9.5, 10) == "tight"
    assert verdict(10.5, 10) == "does not fit"


def test_cheapest_fix_prefers_smaller_batch_then_checkpointing_then_method():
    t4 = tables.gpu("T4")
    big_batch = dataclasses.replace(BASE, batch_size=64)
    fix = cheapest_fix(big_batch, t4)
    assert fix is not None and fix.changes[0].startswith("micro-batch")
    assert "accumulation" in fix.description
    full_7b = ModelJob(parameters=7e9, examples=1000, sequence_length=512, method="full")
    fix = cheapest_fix(full_7b, t4)
    assert fix is not None and "QLoRA" in fix.description
    assert fix.total_gib <= 0.9 * t4.usable_gib
    assert cheapest_fix(ModelJob(parameters=1e6, examples=10), t4) is None  # already fits


def test_nothing_fits_a_400b_full_fine_tune():
    result = estimate(ModelJob(parameters=400e9, examples=1000, method="full", sequence_length=512))
    assert all(v.verdict == "does not fit" for v in result.verdicts)
    assert result.recommendation.platform is None


def test_plans_sessions_quota_and_cost():
    colab = tables.platforms()["colab_free"]
    one = plan_platform(colab, 3.0, "fits", None)
    assert one.sessions == 1 and "one session" in one.plan
    three = plan_platform(colab, 30.0, "fits", None)
    assert three.sessions == 3 and three.checkpoint_every_minutes == 30
    kaggle = plan_platform(tables.platforms()["kaggle_t4"], 45.0, "fits", 10)
    assert kaggle.weeks_of_quota == pytest.approx(1.5) and kaggle.within_deadline is True
    kaggle_late = plan_platform(tables.platforms()["kaggle_t4"], 45.0, "fits", 5)
    assert kaggle_late.within_deadline is False
    rent = plan_platform(tables.platforms()["rent_a100_80"], 10.0, "fits", None)
    assert rent.cost_low == pytest.approx(12.0) and rent.cost_high == pytest.approx(28.0)


def test_recommendation_follows_lesson_three():
    short = estimate(
        ModelJob(
            parameters=125e6, examples=20_000, tokens_per_example=200, epochs=3, sequence_length=256
        )
    )
    assert short.recommendation.platform == "colab_free"
    long = estimate(dataclasses.replace(FRIEND_SCENARIO_JOB, deadline_days=None))
    assert long.recommendation.platform == "kaggle_t4"
    huge = estimate(
        ModelJob(parameters=8e9, dataset_tokens=2e9, epochs=1, sequence_length=1024, method="lora")
    )
    assert huge.recommendation.platform not in ("colab_free", "kaggle_t4")
    assert "$" in huge.recommendation.headline


FRIEND_SCENARIO_JOB = build_job(FRIEND_SCENARIO)


def test_the_friends_scenario():
    """Lesson 3's friend: a 3B model, 50,000 examples, 5 epochs, no GPU, no budget, 10 days.

    The calculator's answer: LoRA at batch 8 does not fit a T4 (activations of a 3B model at 512
    tokens x 8), but micro-batch 2 with gradient accumulation x4 does; 4·N·D = 8.2e17 FLOPs take
    about 21 h on a T4 at MFU 0.20: more than one Colab session (12 h), within one week of Kaggle's
    30 h quota: Kaggle, 2 sessions with checkpoints. A full fine-tune (18 bytes/param = 54 GB before
    activations) fits no free GPU.
    """
    result = estimate(FRIEND_SCENARIO_JOB)
    t4 = result.verdict_for("T4")
    assert t4.verdict == "does not fit"
    assert t4.fix is not None and t4.fix.changes[0].startswith("micro-batch 2")
    assert 15 < result.hours < 30
    assert result.recommendation.platform == "kaggle_t4"
    assert result.plan_for("colab_free").sessions == 2
    full = estimate(dataclasses.replace(FRIEND_SCENARIO_JOB, method="full"))
    assert full.memory.total > 45
    assert all(v.verdict == "does not fit" for v in full.verdicts if v.usable_gib < 30)


def test_lesson_four_lora_125m_about_four_hours_explained():
    """Lesson 4's example: LoRA on a 125M model, 20,000 examples, 3 epochs, "about 4 GPU-hours on Kaggle".

    From the model the compute is small: 4 x 125M x (20,000 x 256 tokens x 3) = 7.7e15 FLOPs, about
    12 minutes on a T4 at MFU 0.20. The lesson's 4 hours is a generous budget (setup, evaluation, data
    loading, a slow input pipeline): in the measured way it is what 3,750 batches of 16 take at 3.8 s
    each. Both ways agree it is a single free session.
    """
    roberta = Fields(
        model="roberta-base",
        examples=20_000,
        tokens_per_example=256,
        epochs=3,
        sequence_length=256,
        batch_size=16,
        method="lora",
        gpu="T4",
    )
    from_model = estimate_fields(roberta)
    assert from_model.hours < 1
    assert from_model.recommendation.platform == "colab_free"
    measured = estimate(
        MeasuredJob(seconds_per_batch=3.84, examples=20_000, epochs=3, batch_size=16, gpu="T4")
    )
    assert measured.hours == pytest.approx(4.0, rel=0.01)
    assert measured.plan_for("kaggle_t4").sessions == 1


def test_measured_mode_is_lesson_three_arithmetic():
    result = estimate(MeasuredJob(seconds_per_batch=0.5, steps=7200, gpu="T4"))
    assert result.hours == pytest.approx(1.0)
    assert result.memory is None
    faster = result.verdict_for("A100-80GB")
    assert faster.hours < result.hours
    assert result.verdict_for("CPU-2").verdict == "fits"  # 16 GiB of RAM >= the T4's 14.75


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"parameters": 0}, "parameters"),
        ({"parameters": -3e9}, "parameters"),
        ({"parameters": math.nan}, "parameters"),
        ({"parameters": 1e15}, "parameters"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": math.inf}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"sequence_length": -1}, "sequence_length"),
        ({"examples": 0}, "examples"),
        ({"examples": 1e20}, "examples"),
        ({"gpu": "Z80"}, "gpu"),
        ({"method": "magic"}, "method"),
        ({"mfu": 1.5}, "mfu"),
        ({"mfu": 0}, "mfu"),
        ({"deadline_days": -1}, "deadline_days"),
        ({"method": "full", "precision": "4bit"}, "precision"),
        ({"method": "lora", "precision": "4bit"}, "precision"),
        ({"examples": None}, "examples"),
    ],
)
def test_bad_input_names_the_field(changes, field):
    with pytest.raises(InvalidInputError) as error:
        estimate(dataclasses.replace(BASE, **changes))
    assert error.value.field == field
    assert str(error.value)[0].isupper()  # a sentence, not a code


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"seconds_per_batch": 0}, "seconds_per_batch"),
        ({"seconds_per_batch": math.nan}, "seconds_per_batch"),
        ({"steps": -5}, "steps"),
        ({"steps": None, "examples": None}, "steps"),
        ({"gpu": "nope"}, "gpu"),
    ],
)
def test_bad_measured_input(changes, field):
    job = dataclasses.replace(MeasuredJob(seconds_per_batch=1.0, steps=100), **changes)
    with pytest.raises(InvalidInputError) as error:
        estimate(job)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"parameters": "three billion"}, "parameters"),
        ({"parameters": "", "model": ""}, "parameters"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"precision": "fp8"}, "precision"),
        ({"model": "not a model id!!", "parameters": ""}, "model"),
    ],
)
def test_bad_fields(changes, field):
    with pytest.raises(InvalidInputError) as error:
        estimate_fields(dataclasses.replace(Fields(parameters="1B", examples=100), **changes))
    assert error.value.field == field


def test_typed_count_overrides_model_and_keeps_shape_only_when_close():
    close = build_job(Fields(model="Llama-3.2-3B", parameters="3.2B", examples=10))
    assert close.architecture is not None and close.architecture.hidden == 3072
    far = build_job(Fields(model="Llama-3.2-3B", parameters="7B", examples=10))
    assert far.architecture is None and far.parameters == 7e9


def test_to_dict_is_json_ready():
    import json

    data = estimate(FRIEND_SCENARIO_JOB).to_dict()
    text = json.dumps(data)
    assert "NaN" not in text and "Infinity" not in text
    assert data["memory"]["total"] > 0 and data["recommendation"]["platform"] == "kaggle_t4"
