"""The calculator against published figures. Each case names its source and says why its tolerance.

Tolerances: parameter-count arithmetic (bytes x N, 6·N·D) must match to a few percent, since only
rounding separates it from the source; measured runs (GPU-hours, peak memory) get 10-20%, because
the sources leave out batch size, sequence length or utilisation, and we say which we assumed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demos.calculator import tables
from demos.calculator.estimate import (
    GIB,
    Architecture,
    ModelJob,
    estimate,
    lora_adapter_parameters,
    memory_breakdown,
    training_flops,
)
from demos.calculator.model_size import from_table

MIB = 2**20
ROOT = Path(__file__).resolve().parents[2]


def within(value: float, expected: float, tolerance: float) -> bool:
    return abs(value / expected - 1) <= tolerance


def job(**kwargs) -> ModelJob:
    defaults = dict(
        examples=1, tokens_per_example=1, sequence_length=1, batch_size=1, gpu="A100-80GB"
    )
    return ModelJob(**{**defaults, **kwargs})


# 1-2. accelerate's model memory estimator, `accelerate estimate-memory bert-base-cased`, as printed in
# https://huggingface.co/docs/accelerate/usage_guides/model_size_estimator : float32 total size
# 413.18 MB and "Training using Adam" 1.61 GB (accelerate divides by 2**20 / 2**30). Pure bytes x N:
# within 1%.
def test_accelerate_bert_base_cased_weights_and_adam():
    bert = from_table("bert-base-cased")
    inference = memory_breakdown(
        job(parameters=bert.parameters, method="inference", precision="fp32"), bert.architecture
    )
    assert within(inference.weights * GIB / MIB, 413.18, 0.01)
    training = memory_breakdown(
        job(parameters=bert.parameters, method="full", precision="fp32"), bert.architecture
    )
    weights_grads_adam = training.weights + training.gradients + training.optimizer
    assert within(weights_grads_adam, 1.61, 0.01)


# 3. The Model Memory Utility Space's report on HuggingFaceH4/zephyr-7b-alpha (a Mistral 7B):
# https://huggingface.co/HuggingFaceH4/zephyr-7b-alpha/discussions/21 : float16 total 13.74 GB,
# int4 3.44 GB. Our Mistral-7B count (7,241,732,096) gives 13.49 GiB: accelerate counts about 135 M
# more parameters (its meta-device model), so 3% tolerance.
def test_accelerate_zephyr_7b_fp16_and_int4():
    mistral = tables.model("Mistral-7B")
    fp16 = memory_breakdown(
        job(parameters=mistral.parameters, method="inference", precision="mixed")
    )
    assert within(fp16.weights, 13.74, 0.03)
    # int4: accelerate counts every parameter at 0.5 byte. bitsandbytes keeps the embeddings and the
    # output layer in 16 bits (+0.37 GiB for Mistral's two 32000 x 4096 matrices) and stores 0.127
    # bits/param of quantisation constants, so we must be above accelerate, by less than 15%.
    int4 = memory_breakdown(
        job(parameters=mistral.parameters, method="inference", precision="4bit"),
        from_table("Mistral-7B").architecture,
    )
    assert int4.weights > 3.44
    assert within(int4.weights, 3.44, 0.15)


# 4. Lesson 3's own figure: "a 7B-parameter model in float16 needs ~14GB". Llama 2 7B, 6.74 B params
# x 2 bytes = 13.5 GB (decimal): within 5% of 14.
def test_lesson_7b_fp16_needs_about_14_gb():
    llama = tables.model("Llama-2-7B")
    weights = memory_breakdown(
        job(parameters=llama.parameters, method="inference", precision="mixed")
    ).weights
    assert within(weights * GIB / 1e9, 14, 0.05)


# 5. GPT-3 175B: 3.14e23 training FLOPs for 300 B tokens (Brown et al. 2020, "Language Models are
# Few-Shot Learners", Table D.1). 6·N·D: within 1%.
def test_gpt3_training_compute():
    flops = training_flops(job(parameters=175e9, method="full", dataset_tokens=300e9))
    assert within(flops, 3.14e23, 0.01)


# 6. Chinchilla 70B on 1.4 T tokens: 5.76e23 FLOPs (Hoffmann et al. 2022, Table 3). 6·N·D gives
# 5.88e23; the paper counts FLOPs layer by layer (appendix F), hence 3% tolerance.
def test_chinchilla_training_compute():
    flops = training_flops(job(parameters=70e9, method="full", dataset_tokens=1.4e12))
    assert within(flops, 5.76e23, 0.03)


# 7. Llama 3 405B: 3.8e25 FLOPs on 15.6 T tokens (Dubey et al. 2024, "The Llama 3 Herd of Models",
# section 3.2.1). Within 2%.
def test_llama3_405b_training_compute():
    flops = training_flops(job(parameters=405e9, method="full", dataset_tokens=15.6e12))
    assert within(flops, 3.8e25, 0.02)


# 8. Llama 2 7B: 184,320 A100-80GB GPU-hours for 2 T tokens (Touvron et al. 2023, Table 2; 4,096-token
# sequences). At an MFU of 0.40 (Meta's published 38-43% for Llama 3 on H100, Dubey et al. 2024
# Table 4) the calculator gives ~183,000 h. 10% tolerance: the MFU is borrowed from a later run.
def test_llama2_7b_gpu_hours():
    llama = tables.model("Llama-2-7B")
    result = estimate(
        job(
            parameters=llama.parameters,
            method="full",
            dataset_tokens=2e12,
            mfu=0.40,
            gpu="A100-80GB",
            sequence_length=4096,
            batch_size=4,
        )
    )
    assert within(result.gpu_hours, 184_320, 0.10)


# 9. MPT-7B: 1 T tokens in 9.5 days on 440 A100-40GB = 100,320 GPU-hours (MosaicML, "Introducing
# MPT-7B", 2023-05-05). Same MFU 0.40; 15% tolerance (the 9.5 days include restarts).
def test_mpt_7b_gpu_hours():
    result = estimate(
        job(
            parameters=6.7e9,
            method="full",
            dataset_tokens=1e12,
            mfu=0.40,
            gpu="A100-40GB",
            sequence_length=2048,
            batch_size=4,
        )
    )
    assert within(result.gpu_hours, 440 * 9.5 * 24, 0.15)


# 10. QLoRA (Dettmers et al. 2023, abstract): fine-tuning a 65B model needs ">780 GB" of GPU memory
# in 16-bit, and "<48 GB" with QLoRA (Guanaco 65B on one 48 GB GPU; LoRA r=64, gradient checkpointing,
# paged optimizer; we assume batch 1, sequence 512).
def test_qlora_65b_fits_in_48_gb_and_full_needs_over_780():
    llama65 = Architecture(
        layers=80, hidden=8192, heads=64, kv_heads=64, vocab=32000, tied_embeddings=False
    )
    common = dict(parameters=65.2e9, architecture=llama65, sequence_length=512, batch_size=1)
    full = memory_breakdown(job(method="full", precision="mixed", **common))
    assert full.total * GIB > 780e9
    qlora = memory_breakdown(
        job(method="qlora", lora_rank=64, gradient_checkpointing=True, **common)
    )
    assert qlora.total * GIB < 48e9


# 11. LoRA (Hu et al. 2021, section 4.2): on GPT-3 175B with r=4 on W_q and W_v, training VRAM falls
# from 1.2 TB to 350 GB and a checkpoint from 350 GB to about 35 MB. The frozen fp16 weights are the
# 350 GB (within 1%); adapters on q and v are half of our q, k, v, o count: 18.9 M params x 2 bytes =
# 37.7 MB, within 10% of "35 MB".
def test_lora_gpt3_adapter_size_and_frozen_weights():
    gpt3 = Architecture(layers=96, hidden=12288, heads=96, kv_heads=96, vocab=50257)
    qv_params = lora_adapter_parameters(gpt3, rank=4) / 2
    assert within(qv_params * 2 / 1e6, 35, 0.10)
    lora = memory_breakdown(
        job(parameters=175e9, method="lora", precision="mixed", lora_rank=4, architecture=gpt3)
    )
    assert within(lora.weights * GIB, 350e9, 0.01)


# 12-15. PEFT's README (https://github.com/huggingface/peft, "GPU memory required" table, A100 80GB,
# fp32 training): bigscience/T0_3B full fine-tune 47.14 GB, LoRA 14.4 GB; bigscience/mt0-xxl (12.9B)
# LoRA 56 GB; bigscience/bloomz-7b1 LoRA 32 GB. The README gives no batch or sequence length; at these
# sizes the weights dominate, so we assume batch 1 and 256 tokens and allow 15%.
@pytest.mark.parametrize(
    ("parameters", "method", "published_gb"),
    [
        (2.85e9, "full", 47.14),
        (2.85e9, "lora", 14.4),
        (12.9e9, "lora", 56.0),
        (7.07e9, "lora", 32.0),
    ],
    ids=["T0_3B-full", "T0_3B-lora", "mt0-xxl-lora", "bloomz-7b1-lora"],
)
def test_peft_readme_memory(parameters, method, published_gb):
    architecture = None
    if parameters == 2.85e9:
        # T0_3B is a T5 v1.1 XL (LM-adapted): 24 + 24 layers of width 2048, gated-GeLU MLP of 5120.
        architecture = Architecture(
            layers=24,
            decoder_layers=24,
            hidden=2048,
            heads=32,
            kv_heads=32,
            vocab=32128,
            tied_embeddings=False,
            gated_mlp=True,
            intermediate=5120,
            kind="encoder-decoder",
            family="t5",
            activation="gelu_new",
            dropout=0.1,
        )
    memory = memory_breakdown(
        job(
            parameters=parameters,
            method=method,
            precision="fp32",
            sequence_length=256,
            batch_size=1,
            architecture=architecture,
            task="seq2seq" if architecture else "causal-lm",
        )
    )
    assert within(memory.total * GIB / 1e9, published_gb, 0.15)


# 16. Our own H100 check (bench/results/calculator_h100.json, bench/results/calculator_h100.md): every
# job within 35% on time (the target) and 25% on memory, GPT-2 medium included (its memory was
# 36% under before the second round re-derived the activations per model family).
def test_h100_measurements_within_targets():
    from bench.calculator_gpu_check import predict

    saved = json.loads((ROOT / "bench" / "results" / "calculator_h100.json").read_text())
    assert "H100" in saved["device"]
    assert len(saved["measurements"]) >= 7
    for measured in saved["measurements"]:
        predicted = predict(measured)
        assert within(predicted["seconds_per_step"], measured["seconds_per_step"], 0.35), measured[
            "name"
        ]
        peak = measured["peak_reserved_gib"] + measured["cuda_context_gib"]
        assert within(predicted["total_gib"], peak, 0.25), measured["name"]
        if measured["model"].startswith("llama"):  # the formula alone, without the allocator
            assert within(predicted["allocated_gib"], measured["peak_allocated_gib"], 0.10)


# --- Second round: several GPUs, seq2seq, small models ------------------------------------------


# 17. MPT-7B on 440 A100-40GB: 1 T tokens in 9.5 days (MosaicML, "Introducing MPT-7B", 2023-05-05;
# FSDP, 2,048-token sequences). At the same MFU 0.40 the calculator's wall clock on 440 GPUs, sharded,
# with communication over the network between machines: within 15% of 9.5 days. (Llama 3 405B is not
# a case: it used tensor and pipeline parallelism, which the calculator does not model; sharding alone
# over 16k GPUs would be communication-bound.)
def test_mpt_7b_wall_clock_on_440_gpus():
    result = estimate(
        job(
            parameters=6.7e9,
            method="full",
            dataset_tokens=1e12,
            mfu=0.40,
            gpu="A100-40GB",
            sequence_length=2048,
            batch_size=4,
            gpus=440,
            parallelism="fsdp",
        )
    )
    assert within(result.hours / 24, 9.5, 0.15)
    # Sharding leaves room for the states, but 4 x 2,048 tokens of activations do not fit in 40 GB
    # (LLM Foundry's MPT configs recompute activations): the calculator finds a change that fits.
    fix = result.verdict_for("A100-40GB").fix
    assert fix is not None and fix.total_gib <= 0.9 * 39.4


# 18. nanoGPT (karpathy/nanoGPT, README and config/train_gpt2.py): GPT-2 124M trained with DDP on one
# node of 8 A100 40GB, micro-batch 12 x 1,024 tokens per GPU. The job must fit, and all-reducing 124M
# gradients over NVLink must cost under 10% of a step.
def test_nanogpt_ddp_on_8_a100s_fits_and_scales():
    gpt2 = from_table("gpt2")
    common = dict(
        parameters=gpt2.parameters,
        architecture=gpt2.architecture,
        method="full",
        dataset_tokens=1e9,
        gpu="A100-40GB",
        sequence_length=1024,
        batch_size=12,
    )
    one = estimate(job(**common))
    eight = estimate(job(**common, gpus=8))
    assert eight.verdict_for("A100-40GB").verdict == "fits"
    assert (
        eight.assumptions["communication_seconds_per_step"]
        < 0.1 * (eight.assumptions["seconds_per_step"])
    )
    assert within(eight.gpu_hours, one.hours, 0.10)
