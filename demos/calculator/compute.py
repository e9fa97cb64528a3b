"""Compute and time: FLOPs of a job, how fast a GPU runs them, and what several GPUs add.

Pure functions, no Gradio. Sources beside each constant (EleutherAI cookbook style):

* FLOPs: Kaplan et al. 2020 ("Scaling Laws for Neural Language Models", section 2.1, Table 1): a
  forward pass costs 2 FLOPs per multiplying parameter per token plus 2·n_layer·n_ctx·d_model for
  the attention scores; the backward pass twice the forward. The input embedding is a lookup and
  does not count; a tied output layer does (it multiplies). k·N·D is the familiar summary.
* Time: C / (peak x MFU x eta) per optimizer step, but never less than the time the host needs to
  dispatch the forward pass's operations (small models, see HOST_SECONDS_PER_FORWARD_OP), plus the
  communication the GPUs cannot hide behind their compute.
"""

from __future__ import annotations

import math

from demos.calculator import tables
from demos.calculator.jobs import Architecture, ModelJob, architecture_of
from demos.calculator.memory import (
    UNFUSED_ACTIVATIONS,
    has_lm_head,
    matmul_parameters,
    task_of,
)

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

# --- Small models: the host's time ------------------------------------------------------------------
# PyTorch runs eagerly: Python walks each module's forward and dispatches one ATen operation at a time
# (transformers' module code around each), and the GPU runs each kernel as it arrives. When the kernels
# are small the GPU waits for Python, and a step takes the host's time, which grows with the number
# of operations the forward pass dispatches, whatever the FLOPs or the batch. The backward pass is
# issued by the autograd engine in C++ and adds no measurable host time.
# Measured (bench/calculator_host_check.py): the nine host-bound jobs of the H200 round 2 (MiniLM,
# BERT, SmolLM2 at batch 2 and 16, T5, Flan-T5 full and LoRA, 0.5B LoRA: 16 to 191 ms a step) fit
# seconds = 2.53 ms + 67.6 us x forward operations within 9% (a second variable for the backward's
# operations gets -7.5 us: nothing). One host (the H200 machine's CPU, Python 3.12, torch 2.11); a
# slower CPU (Colab's) takes longer.
HOST_SECONDS_PER_STEP = 0.00253
HOST_SECONDS_PER_FORWARD_OP = 67.6e-6
# Forward ATen operations per layer, counted by the same script (transformers 5.24, bf16 autocast,
# full fine-tune, CUDA's kernels: a fused attention is one operation) with each family's usual MLP
# and dropout: llama (SmolLM2), gpt (GPT-2), bert (BERT), t5 (T5's encoder layer, relu, fused
# attention; its decoder layer adds cross-attention), bart (BART base: torch's LayerNorm is one
# operation where T5's RMSNorm, written in Python with fp32 casts, is several). Outside the layers:
# embeddings (and T5's relative position buckets), final norm, head, loss.
FORWARD_OPS_PER_LAYER = {"llama": 50, "gpt": 33, "bert": 30, "t5": 39, "bart": 30}
FORWARD_OPS_PER_DECODER_LAYER = {"t5": 68, "bart": 49}
FORWARD_OPS_OUTSIDE_LAYERS = {"llama": 24, "gpt": 19, "bert": 20, "t5": 74, "bart": 34}
# Each family's usual MLP: (gated, fused activation). A gate adds a projection and a product (~4
# operations); gelu_new's five element-wise steps and their fp32 casts ~7 more than a fused activation
# (T5 relu -> Flan-T5 gated-gelu counted +11).
USUAL_MLP = {
    "llama": (True, True),
    "gpt": (False, False),
    "bert": (False, True),
    "t5": (False, True),
    "bart": (False, True),
}
GATE_OPS = 4
UNFUSED_ACTIVATION_OPS = 7
# A dropout site is one operation (native_dropout); memory.DROPOUT_SITES says where each family has them.
# Counted: BERT 30 with dropout, 28 without.
DROPOUT_OPS_PER_SITE = 1
# A self-attention on PyTorch's math path (memory.ATTENTION_FUSED_SINCE) instead of one fused kernel:
# counted +14 per T5 encoder layer and +12 per decoder layer (upcasts, scale, two matmuls, softmax,
# dropout, casts).
MATH_ATTENTION_OPS = 13
# PEFT's LoRA layer: the adapter's input cast, A, B, scaling and the sum (counted: Llama +22 for 4
# adapters per layer, T5 +23 per encoder layer (4) and +50 per decoder layer (8)).
LORA_OPS_PER_ADAPTER = 6
# QLoRA dequantises each 4-bit weight before its matmul (bitsandbytes): one more operation per base
# linear (not counted here: bitsandbytes needs CUDA).
QLORA_OPS_PER_LINEAR = 1

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
    """(N that multiplies every source token, N that multiplies every target token).

    A decoder-only or encoder model has one stream of tokens: (N, 0). An encoder-decoder runs its
    encoder over the source; each decoder layer runs its self-attention, its cross-attention's query
    and output projections and its MLP over the target, but the cross-attention's key and value
    projections over the encoder's output, i.e. over the source tokens (Vaswani et al. 2017, section
    3.2.3; transformers' T5Attention and BartAttention project ``key_value_states``). The output
    layer goes with the target. The multiplying parameters are shared in proportion to these weights.
    """
    arch = arch or architecture_of(job)
    n = matmul_parameters(job, arch)
    if arch.kind != "encoder-decoder" or not arch.decoder_layers:
        return n, 0.0
    h, kv = arch.hidden, arch.kv_width
    attention = 2 * h * h + 2 * h * kv
    mlp = (3 if arch.gated_mlp else 2) * h * arch.mlp_width
    encoder = arch.layers * (attention + mlp)
    cross_keys_values = arch.decoder_layers * 2 * h * kv
    decoder = arch.decoder_layers * (2 * attention + mlp) - cross_keys_values
    head = arch.vocab * h if has_lm_head(job) else 0
    share = (encoder + cross_keys_values) / (encoder + cross_keys_values + decoder + head)
    return n * share, n * (1 - share)


def attention_flops_per_token(arch: Architecture, context: float) -> float:
    """Kaplan et al. 2020, Table 1: 2·n_layer·n_ctx·d_model forward FLOPs per token for the scores."""
    return 2.0 * arch.layers * context * arch.hidden


def attention_flops(job: ModelJob, arch: Architecture | None = None) -> dict[str, float]:
    """Forward-pass FLOPs of the attention scores over one epoch, by stack (Kaplan's 2·n_ctx·d per
    token and layer): ``encoder`` (or the only stack) over the source tokens, each attending to the
    source; for an encoder-decoder ``decoder`` (each target token attends to the targets) and
    ``cross`` (each target token attends to the encoder's output: the source length)."""
    arch = arch or architecture_of(job)
    source = dataset_tokens(job)
    target = target_tokens(job)
    context = min(job.tokens_per_example or job.sequence_length, job.sequence_length)
    parts = {"encoder": attention_flops_per_token(arch, context) * source}
    if target:
        decoder_context = job.target_length or context
        parts["decoder"] = 2.0 * arch.decoder_layers * decoder_context * arch.hidden * target
        parts["cross"] = 2.0 * arch.decoder_layers * context * arch.hidden * target
    return parts


def training_flops(job: ModelJob, arch: Architecture | None = None) -> float:
    """Total FLOPs over all epochs: k·(N_source·D_source + N_target·D_target) plus the attention
    scores (x k/2: the backward pass costs twice the forward, as for the weights)."""
    arch = arch or architecture_of(job)
    k = flops_per_parameter_token(job)
    n_source, n_target = compute_parameters(job, arch)
    source = dataset_tokens(job)
    target = target_tokens(job)
    attention = sum(attention_flops(job, arch).values()) * (k / 2)
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


def forward_operations(job: ModelJob, arch: Architecture) -> float:
    """ATen operations one forward pass dispatches from Python (see FORWARD_OPS_PER_LAYER)."""
    from demos.calculator.memory import (
        DROPOUT_SITES,
        LORA_TARGETS_PER_LAYER,
        attention_materialized,
    )

    recipe = arch.recipe
    usual_gated, usual_fused = USUAL_MLP[recipe]
    fused = (arch.activation or "").lower() not in UNFUSED_ACTIVATIONS
    per_layer = float(FORWARD_OPS_PER_LAYER[recipe])
    per_layer += GATE_OPS * (int(arch.gated_mlp) - int(usual_gated))
    per_layer += UNFUSED_ACTIVATION_OPS * (int(not fused) - int(not usual_fused))
    sites_h, sites_i = DROPOUT_SITES.get(recipe, (0, 0))
    training_dropout = arch.dropout > 0 and job.method != "inference"
    if not training_dropout:  # the counts include the family's usual dropout
        per_layer -= DROPOUT_OPS_PER_SITE * (sites_h + sites_i)
    linears = 4 + (3 if arch.gated_mlp else 2)
    adapters = len(LORA_TARGETS_PER_LAYER) if job.method in ("lora", "qlora") else 0
    per_layer += LORA_OPS_PER_ADAPTER * adapters
    if job.method == "qlora":
        per_layer += QLORA_OPS_PER_LINEAR * linears
    if attention_materialized(arch, job):
        per_layer += MATH_ATTENTION_OPS
    total = FORWARD_OPS_OUTSIDE_LAYERS[recipe] + per_layer * arch.layers
    if arch.decoder_layers:
        style = recipe if recipe in FORWARD_OPS_PER_DECODER_LAYER else "t5"
        extra = FORWARD_OPS_PER_DECODER_LAYER[style] - FORWARD_OPS_PER_LAYER[style]
        decoder = per_layer + extra + LORA_OPS_PER_ADAPTER * adapters  # cross-attention's adapters
        if job.method == "qlora":
            decoder += QLORA_OPS_PER_LINEAR * 4
        if not training_dropout:
            decoder -= DROPOUT_OPS_PER_SITE  # the cross-attention's output dropout
        total += decoder * arch.decoder_layers
    return total


def host_seconds_per_step(job: ModelJob, arch: Architecture) -> float:
    """The host's time for one step: a fixed cost plus the forward pass's operations (HOST_SECONDS_*).

    Gradient checkpointing runs each layer's forward again during the backward pass, from Python.
    """
    operations = forward_operations(job, arch)
    if job.gradient_checkpointing and job.method != "inference":
        operations += forward_operations(job, arch) - FORWARD_OPS_OUTSIDE_LAYERS[arch.recipe]
    return HOST_SECONDS_PER_STEP + HOST_SECONDS_PER_FORWARD_OP * operations


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
        "forward_operations": forward_operations(job, arch),
        "mfu": mfu,
        "precision": precision_key,
        "steps": steps,
    }


def hours_on(job: ModelJob, gpu: tables.GpuSpec) -> tuple[float, float, str]:
    """(wall-clock hours, mfu, precision key) for ``job`` on ``gpu``: steps x seconds per step."""
    timing = step_time(job, gpu)
    return timing["steps"] * timing["seconds"] / 3600.0, timing["mfu"], timing["precision"]
