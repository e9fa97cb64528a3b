"""Compute and time: FLOPs of a job, how fast a GPU runs them, and what several GPUs add.

Pure functions, no Gradio. Sources beside each constant (EleutherAI cookbook style):

* FLOPs: Kaplan et al. 2020 ("Scaling Laws for Neural Language Models", section 2.1, Table 1): a
  forward pass costs 2 FLOPs per multiplying parameter per token plus 2·n_layer·n_ctx·d_model for
  the attention scores; the backward pass twice the forward. The input embedding is a lookup and
  does not count; a tied output layer does (it multiplies). k·N·D is the familiar summary.
* Time: C / (peak x MFU x eta) per optimizer step, but never less than the time the host needs to
  launch the step's kernels (small models, see HOST_SECONDS_PER_LAYER), plus the communication the
  GPUs cannot hide behind their compute.
"""

from __future__ import annotations

import math

from demos.calculator import tables
from demos.calculator.jobs import Architecture, ModelJob, architecture_of
from demos.calculator.memory import has_lm_head, matmul_parameters, task_of

# --- FLOPs ---------------------------------------------------------------------------------------
FLOPS_PER_PARAMETER_TOKEN: dict[str, float] = {
    "inference": 2.0,  # forward only
    "full": 6.0,  # forward 2N + backward 4N (gradients w.r.t. activations 2N and weights 2N)
    # LoRA (Hu et al. 2021) freezes the base weights: the backward pass still propagates gradients
    # through every layer (2N) to reach the adapters, but skips the weight gradients (2N), so ~4·N·D.
    "lora": 4.0,
    "qlora": 4.0,  # same arithmetic as LoRA (Dettmers et al. 2023); the dequantisation cost is below
}
# Gradient checkpointing (Chen et al. 2016; full recomputation in Korthikanti et al. 2022, section 4)
# runs the forward pass a second time during backward: +2·N·D.
RECOMPUTE_FLOPS_PER_PARAMETER_TOKEN = 2.0

# Achieved speed relative to a full fine-tune at the same MFU ("efficiency", eta):
# - LoRA: Hu et al. 2021 (section 4.2) measured a 25% training speed-up on GPT-3 175B: time ratio 0.8,
#   where 4N vs 6N alone would give 0.67, so eta = 4 / (6 x 0.8) = 0.83. Our H100 run measured
#   0.84 (1.1B) and 0.80 (0.5B) (bench/results/calculator_h100.md).
# - QLoRA: Raschka 2023 ("Practical Tips for Finetuning LLMs Using LoRA", Lightning AI) measured
#   QLoRA 39% slower than LoRA on Llama 2 7B (2.79 h vs 1.85 h on an A100): dequantisation.
# - int8 / 4-bit inference (bitsandbytes) also dequantises: Belkada & Dettmers 2022 report 8-bit
#   inference ~15-23% slower than fp16 on BLOOM-176B: 1/1.2.
LORA_EFFICIENCY = 0.83
QLORA_SLOWDOWN = 1.39
INT8_INFERENCE_SLOWDOWN = 1.2
FOUR_BIT_INFERENCE_SLOWDOWN = 1.39
# A forward pass reaches a higher MFU than a training step (no weight-gradient kernels, no optimizer):
# 0.40 vs 0.30-0.33 on the H100 for the same 1.1B model (bench/results/calculator_h100.md).
INFERENCE_MFU_FACTOR = 1.3

# Narrow models leave a big GPU's units idle (NVIDIA, "Matrix Multiplication Background" user's guide:
# tile and wave quantisation), so their MFU is lower. Measured on the H100: 0.32 at width 2048, 0.20 at
# width 1024 (ratio 0.62 = 0.5^0.7). Each GPU's `full_mfu_width` in gpus.yaml is the width from which
# its default MFU applies; below it the default is scaled by (width / full_mfu_width)^0.7.
MFU_WIDTH_EXPONENT = 0.7

# --- Small models: the host's floor ---------------------------------------------------------------
# PyTorch runs eagerly: Python launches every kernel (~40 per transformer layer forward, ~80 backward,
# ~10-20 us each with transformers' code). A GPU finishes a small model's kernels faster than the host
# launches them, so below ~200M parameters a step takes the host's time, whatever the FLOPs. FIELD-NOTES
# (H100): MiniLM-L6 (6 layers, 22M) trains at 3,357 samples/s at batch 64 x 128 = 19 ms a step, when its
# FLOPs take ~3 ms: ~2.2 ms per layer and ~6 ms per step (embedding, loss, optimizer, data). LoRA
# launches more kernels per layer (adapters), checkpointing re-runs the forward, inference skips backward.
HOST_SECONDS_PER_LAYER = 0.0022
HOST_SECONDS_PER_STEP = 0.006
HOST_FACTOR = {"full": 1.0, "lora": 1.3, "qlora": 1.5, "inference": 0.35}
CHECKPOINT_HOST_FACTOR = 1.33

# --- Several GPUs -----------------------------------------------------------------------------------
# Ring all-reduce moves 2(n-1)/n of the data through each GPU's link; all-gather and reduce-scatter
# (n-1)/n each (NCCL's performance notes, "bus bandwidth"). DDP all-reduces the fp32 gradients once
# per step, overlapped with the backward pass (PyTorch DDP buckets; Li et al. 2020, VLDB). FSDP /
# ZeRO-3 gathers the 16-bit weights twice (forward and backward) and reduce-scatters fp32 gradients,
# overlapped with the whole step (prefetch). Between machines (more than GPUS_PER_NODE cards) traffic
# crosses the network: INTER_NODE_GBPS per GPU (400 Gb/s InfiniBand per GPU, ~80% achieved).
GPUS_PER_NODE = 8
INTER_NODE_GBPS = 40.0
DDP_GRADIENT_BYTES = 4.0
FSDP_GATHER_BYTES = 2.0
FSDP_REDUCE_BYTES = 4.0


def flops_per_parameter_token(job: ModelJob) -> float:
    """k in C = k·N·D: 2 for inference, 6 for a full fine-tune, 4 for (Q)LoRA, +2 with checkpointing."""
    k = FLOPS_PER_PARAMETER_TOKEN[job.method]
    if job.method != "inference" and job.gradient_checkpointing:
        k += RECOMPUTE_FLOPS_PER_PARAMETER_TOKEN
    return k


def dataset_tokens(job: ModelJob) -> float:
    """Tokens the model reads in one epoch: the dataset's tokens, or examples x tokens per example.

    Without tokens per example every example is padded to the sequence length (the worst case).
    """
    if job.dataset_tokens is not None:
        return float(job.dataset_tokens)
    per_example = job.tokens_per_example or job.sequence_length
    return float(job.examples) * min(float(per_example), float(job.sequence_length))


def target_tokens(job: ModelJob) -> float:
    """seq2seq: tokens the decoder reads in one epoch (the targets); 0 for other tasks."""
    if task_of(job) != "seq2seq":
        return 0.0
    source_per_example = min(job.tokens_per_example or job.sequence_length, job.sequence_length)
    target = job.target_length or source_per_example
    return dataset_tokens(job) / source_per_example * target


def compute_parameters(job: ModelJob, arch: Architecture | None = None) -> tuple[float, float]:
    """(N of the encoder or the whole decoder-only/encoder model, N of the decoder) that multiply.

    For an encoder-decoder, the multiplying parameters are shared in proportion to the layers'
    weights (a decoder layer adds cross-attention); the output layer goes with the decoder.
    """
    arch = arch or architecture_of(job)
    n = matmul_parameters(job, arch)
    if arch.kind != "encoder-decoder" or not arch.decoder_layers:
        return n, 0.0
    h, kv = arch.hidden, arch.kv_width
    attention = 2 * h * h + 2 * h * kv
    mlp = (3 if arch.gated_mlp else 2) * h * arch.mlp_width
    encoder = arch.layers * (attention + mlp)
    decoder = arch.decoder_layers * (2 * attention + mlp)
    head = arch.vocab * h if has_lm_head(job) else 0
    share = encoder / (encoder + decoder + head)
    return n * share, n * (1 - share)


def attention_flops_per_token(arch: Architecture, context: float) -> float:
    """Kaplan et al. 2020, Table 1: 2·n_layer·n_ctx·d_model forward FLOPs per token for the scores."""
    return 2.0 * arch.layers * context * arch.hidden


def training_flops(job: ModelJob, arch: Architecture | None = None) -> float:
    """Total FLOPs over all epochs: k·N·D plus the attention term (x k/2 for the backward pass)."""
    arch = arch or architecture_of(job)
    k = flops_per_parameter_token(job)
    n_source, n_target = compute_parameters(job, arch)
    source = dataset_tokens(job)
    target = target_tokens(job)
    context = min(job.tokens_per_example or job.sequence_length, job.sequence_length)
    attention = attention_flops_per_token(arch, context) * (k / 2) * source
    if target:
        decoder_context = job.target_length or context
        attention += (
            2.0 * arch.decoder_layers * (2 * decoder_context) * arch.hidden * (k / 2) * target
        )
    return (k * (n_source * source + n_target * target) + attention) * job.epochs


def method_efficiency(job: ModelJob) -> float:
    """Eta: achieved speed relative to a full fine-tune at the same MFU (see LORA_EFFICIENCY)."""
    if job.method == "lora":
        return LORA_EFFICIENCY
    if job.method == "qlora":
        return LORA_EFFICIENCY / QLORA_SLOWDOWN
    if job.method == "inference" and job.precision == "int8":
        return 1 / INT8_INFERENCE_SLOWDOWN
    if job.method == "inference" and job.precision == "4bit":
        return 1 / FOUR_BIT_INFERENCE_SLOWDOWN
    return 1.0


def compute_precision(precision: str, method: str, gpu: tables.GpuSpec) -> str:
    """Which peak applies: fp32 stays fp32; 16-bit work uses bf16 where the card has it, else fp16.

    Quantized weights (int8, 4-bit, QLoRA) are dequantised and multiplied in 16 bits (bitsandbytes).
    A card without 16-bit units (a CPU) falls back to fp32.
    """
    if precision == "fp32" and method != "qlora":
        return "fp32"
    for key in ("bf16", "fp16"):
        if gpu.peak_tflops.get(key):
            return key
    return "fp32"


def default_mfu(gpu: tables.GpuSpec, hidden: int, method: str = "full") -> float:
    """The GPU's default MFU for a model of width ``hidden`` (lower for narrow models, higher for inference)."""
    width_factor = min(1.0, hidden / gpu.full_mfu_width) ** MFU_WIDTH_EXPONENT
    factor = INFERENCE_MFU_FACTOR if method == "inference" else 1.0
    return min(1.0, gpu.default_mfu * width_factor * factor)


def mfu_for(job: ModelJob, target: tables.GpuSpec, hidden: int) -> float:
    """MFU on ``target``: its default for this width, scaled by the learner's override on their own GPU.

    A learner who sets 0.15 on a T4 whose default is 0.20 says "my job runs at 3/4 of typical";
    the same ratio is applied to every other card.
    """
    if job.mfu is None:
        return default_mfu(target, hidden, job.method)
    own = tables.gpu(job.gpu)
    if target.key == own.key:
        return job.mfu
    return min(
        1.0,
        default_mfu(target, hidden, job.method) * job.mfu / default_mfu(own, hidden, job.method),
    )


def steps_per_epoch(job: ModelJob) -> float:
    """Optimizer steps in one epoch: every GPU takes a micro-batch of ``batch_size`` per step."""
    per_step = job.batch_size * job.gpus
    if job.dataset_tokens is not None:
        return math.ceil(job.dataset_tokens / (per_step * job.sequence_length))
    return math.ceil(job.examples / per_step)


def host_seconds_per_step(job: ModelJob, arch: Architecture) -> float:
    """The host's floor for one step (see HOST_SECONDS_PER_LAYER)."""
    factor = HOST_FACTOR[job.method]
    if job.gradient_checkpointing and job.method != "inference":
        factor *= CHECKPOINT_HOST_FACTOR
    return (HOST_SECONDS_PER_LAYER * arch.total_layers + HOST_SECONDS_PER_STEP) * factor


def link_gbps(gpu: tables.GpuSpec, gpus: int) -> float:
    """Effective bandwidth per GPU for collectives: the card's link within a machine, the network across."""
    within = gpu.interconnect_gbps or 0.0
    if gpus > GPUS_PER_NODE:
        return min(within, INTER_NODE_GBPS) if within else INTER_NODE_GBPS
    return within


def communication_seconds_per_step(job: ModelJob, gpu: tables.GpuSpec) -> float:
    """Seconds of collective communication in one step (before overlap), 0 on one GPU."""
    n = job.gpus
    if n <= 1 or job.method == "inference":
        return 0.0
    from demos.calculator.memory import lora_adapter_parameters

    arch = architecture_of(job)
    trainable = (
        lora_adapter_parameters(arch, job.lora_rank)
        if job.method in ("lora", "qlora")
        else job.parameters
    )
    if job.parallelism == "fsdp":
        volume = (
            (2 * FSDP_GATHER_BYTES * job.parameters + FSDP_REDUCE_BYTES * trainable) * (n - 1) / n
        )
    else:
        volume = DDP_GRADIENT_BYTES * trainable * 2 * (n - 1) / n
    bandwidth = link_gbps(gpu, n)
    if not bandwidth:
        return math.inf
    return volume / (bandwidth * 1e9)


def step_time(job: ModelJob, gpu: tables.GpuSpec) -> dict:
    """Seconds per optimizer step on ``gpu`` (x job.gpus of them), and what bounds it."""
    arch = architecture_of(job)
    precision_key = compute_precision(job.precision, job.method, gpu)
    peak = gpu.peak_tflops[precision_key] * 1e12
    mfu = mfu_for(job, gpu, arch.hidden)
    steps = steps_per_epoch(job) * job.epochs
    flops_per_step_per_gpu = training_flops(job, arch) / steps / job.gpus
    compute = flops_per_step_per_gpu / (peak * mfu * method_efficiency(job))
    host = host_seconds_per_step(job, arch)
    if gpu.key.startswith("CPU"):
        busy = compute + host  # a CPU runs the kernels it launches: nothing overlaps
    else:
        busy = max(compute, host)
    communication = communication_seconds_per_step(job, gpu)
    k = flops_per_parameter_token(job)
    hidden_behind = compute if job.parallelism == "fsdp" else compute * (k - 2) / k
    exposed = max(0.0, communication - hidden_behind)
    return {
        "seconds": busy + exposed,
        "compute": compute,
        "host": host,
        "communication": communication,
        "exposed_communication": exposed,
        "bound": "host" if host > compute else "compute",
        "mfu": mfu,
        "precision": precision_key,
        "steps": steps,
    }


def hours_on(job: ModelJob, gpu: tables.GpuSpec) -> tuple[float, float, str]:
    """(wall-clock hours, mfu, precision key) for ``job`` on ``gpu``: steps x seconds per step."""
    timing = step_time(job, gpu)
    return timing["steps"] * timing["seconds"] / 3600.0, timing["mfu"], timing["precision"]
