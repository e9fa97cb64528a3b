"""GPU-hour and memory estimates for a training or inference job: pure functions, no Gradio.

Two ways in:

* :class:`ModelJob` describes a job from the model: parameters, data, method, precision, GPU.
  Compute follows Kaplan et al. 2020 (C ~ 6·N·D for training, 2·N·D for a forward pass), memory
  follows Hugging Face's "model memory anatomy" guide for weights, gradients and optimizer states and
  Korthikanti et al. 2022 for activations.
* :class:`MeasuredJob` is lesson 3's arithmetic: steps x the seconds per batch the learner timed.

:func:`estimate` takes either and returns an :class:`Estimate`: hours and memory per GPU, a verdict
per GPU with the cheapest change that makes the job fit, a plan per platform, and one recommendation.

Every formula names its source next to the code, in the manner of EleutherAI's cookbook (calc/).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Literal

from demos.calculator import tables

Method = Literal["inference", "full", "lora", "qlora"]
Precision = Literal["fp32", "mixed", "int8", "4bit"]
Optimizer = Literal["adamw", "adamw_8bit", "sgd"]

METHODS: tuple[str, ...] = ("inference", "full", "lora", "qlora")
PRECISIONS: tuple[str, ...] = ("fp32", "mixed", "int8", "4bit")
OPTIMIZERS: tuple[str, ...] = ("adamw", "adamw_8bit", "sgd")

GIB = 2**30

# Sanity limits: beyond these a number is a typo, not a job.
MAX_PARAMETERS = 2e12  # the largest dense models published are ~1-2 trillion parameters
MIN_PARAMETERS = 1e3
MAX_TOKENS = 1e15  # 1,000 trillion tokens: 60x the largest published pre-training sets
MAX_EXAMPLES = 1e11
MAX_EPOCHS = 1e4
MAX_SEQUENCE = 2**21
MAX_BATCH = 2**17
MAX_RANK = 4096
MAX_SECONDS_PER_BATCH = 86_400.0
MAX_STEPS = 1e10
MAX_DEADLINE_DAYS = 3650.0

# --- Compute ---------------------------------------------------------------------------------
# Kaplan et al. 2020 ("Scaling Laws for Neural Language Models", section 2.1, Table 1): a forward
# pass costs ~2·N FLOPs per token (one multiply-add per parameter) and the backward pass twice that,
# so training costs ~6·N·D. The attention term 2·n_layer·n_ctx·d_model per token is left out: it is
# under 5% of 2·N for the models and sequence lengths a learner uses (e.g. 3% for a 3B model at 1024).
FLOPS_PER_PARAMETER_TOKEN: dict[str, float] = {
    "inference": 2.0,  # forward only
    "full": 6.0,  # forward 2N + backward 4N (gradients w.r.t. activations 2N and weights 2N)
    # LoRA (Hu et al. 2021) freezes the base weights: the backward pass still propagates gradients
    # through every layer (2N) to reach the adapters, but skips the weight gradients (2N), so ~4·N·D.
    # The adapters themselves add well under 1% (r·(d_in+d_out) vs d_in·d_out per matrix).
    "lora": 4.0,
    "qlora": 4.0,  # same arithmetic as LoRA (Dettmers et al. 2023); the dequantisation cost is below
}
# Gradient checkpointing (Chen et al. 2016; full recomputation in Korthikanti et al. 2022, section 4)
# runs the forward pass a second time during backward: +2·N·D.
RECOMPUTE_FLOPS_PER_PARAMETER_TOKEN = 2.0

# Achieved speed relative to a full fine-tune at the same MFU ("efficiency", eta). FLOPs alone
# overstate what LoRA and quantisation save:
# - LoRA: Hu et al. 2021 (section 4.2) measured a 25% training speed-up on GPT-3 175B: time ratio 0.8,
#   where 4N vs 6N alone would give 0.67, so eta = 4 / (6 x 0.8) = 0.83. Our H100 run measured
#   0.84 (1.1B) and 0.80 (0.5B) (bench/results/calculator_h100.md): the adapters' small extra kernels.
# - QLoRA: Raschka 2023 ("Practical Tips for Finetuning LLMs Using LoRA", Lightning AI) measured
#   QLoRA 39% slower than LoRA on Llama 2 7B (2.79 h vs 1.85 h on an A100): the 4-bit weights are
#   dequantised to 16 bits in every forward and backward pass. eta = 0.83 / 1.39.
# - int8 / 4-bit inference (bitsandbytes) also dequantises: Hugging Face's LLM.int8() blog post
#   (Belkada & Dettmers 2022) reports 8-bit inference ~15-23% slower than fp16 on BLOOM-176B: 1/1.2.
LORA_EFFICIENCY = 0.83
QLORA_SLOWDOWN = 1.39
INT8_INFERENCE_SLOWDOWN = 1.2
FOUR_BIT_INFERENCE_SLOWDOWN = 1.39

# --- Memory ----------------------------------------------------------------------------------
# Hugging Face, "Model training anatomy" (transformers docs, perf_train_gpu_one / model_memory_anatomy):
# weights 4 bytes/param in fp32 training, 6 in mixed precision (fp32 master weights + a 16-bit copy for
# the forward pass); gradients 4 bytes/param either way; optimizer AdamW 8 bytes/param (two fp32
# moments), 8-bit AdamW 2, SGD with momentum 4.
FULL_WEIGHT_BYTES = {"fp32": 4.0, "mixed": 6.0}
GRADIENT_BYTES = 4.0
OPTIMIZER_BYTES = {"adamw": 8.0, "adamw_8bit": 2.0, "sgd": 4.0}
# Frozen weights, stored once: accelerate's estimate-memory uses 4 / 2 / 1 / 0.5 bytes per parameter
# for float32 / float16 / int8 / int4. 4-bit NF4 with double quantisation adds 0.127 bits/param of
# quantisation constants (Dettmers et al. 2023, QLoRA, section 3); int8 (LLM.int8) keeps one fp32 scale
# per row: negligible.
FROZEN_WEIGHT_BYTES = {"fp32": 4.0, "mixed": 2.0, "int8": 1.0, "4bit": (4 + 0.127) / 8}
# LoRA adapters are trained in fp32 (PEFT's default): 4 bytes weights + 4 gradients + the optimizer.
ADAPTER_BYTES_BEFORE_OPTIMIZER = 8.0
# LoRA targets the attention projections q, k, v, o in every layer (a common default, and the
# setting of our H100 check); r·(d_in + d_out) parameters per adapted matrix (Hu et al. 2021, section 4).
LORA_TARGETS_PER_LAYER = ("q", "k", "v", "o")

# Activations (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
# Models", section 4.1, eq. 1, no parallelism): per layer s·b·h·(34 + 5·a·s/h) bytes with 16-bit
# activations, for a GPT-style layer (GeLU MLP with a 4h intermediate, dropout). The 5·a·s/h term is
# the attention score matrix, which memory-efficient attention (PyTorch SDPA / FlashAttention, the
# default in transformers) never stores, leaving 34·s·b·h. fp32 activations take twice the bytes.
ACTIVATION_BYTES_PER_LAYER_COEFF = 34.0
# A gated MLP (SwiGLU, Shazeer 2020: Llama, Qwen, Mistral, SmolLM, Phi-3) keeps two more 4h-wide
# 16-bit tensors per layer (the second projection's output and the gated product): +16·s·b·h. Our
# GPU check measured 48-51·s·b·h on Llama-style layers (bench/results/calculator_h100.md).
GATED_MLP_EXTRA_COEFF = 16.0
# With full recomputation (gradient checkpointing) each layer keeps only its input, 2·s·b·h bytes in
# 16 bits (Korthikanti et al. 2022, section 4.2), plus one layer's full activations while it is recomputed.
CHECKPOINT_BYTES_PER_LAYER_COEFF = 2.0
# The output layer's logits, b·s·vocab values: transformers computes them in 16 bits, upcasts them to
# fp32 for the cross-entropy loss and keeps an fp32 gradient: 2 + 4 + 4 bytes per logit (fp32: 4+4+4).
LOGIT_BYTES = {"fp32": 12.0, "mixed": 10.0}
# Framework overhead: the CUDA context and cuBLAS workspaces (~0.5 GiB, invisible to PyTorch's
# allocator statistics) plus allocator fragmentation and temporary buffers (~10% of the rest; EleutherAI's
# "Transformer Math 101" and accelerate's estimator both allow up to 20% on top for inference).
CUDA_CONTEXT_GIB = 0.5
FRAGMENTATION_SHARE = 0.10

# Narrow models leave a big GPU's units idle (NVIDIA, "Matrix Multiplication Background" user's guide:
# tile and wave quantisation), so their MFU is lower. Measured on the H100: 0.32 at width 2048, 0.20 at
# width 1024 (ratio 0.62 = 0.5^0.7). Each GPU's `full_mfu_width` in gpus.yaml is the width from which
# its default MFU applies; below it the default is scaled by (width / full_mfu_width)^0.7.
MFU_WIDTH_EXPONENT = 0.7

# Verdict thresholds on total / usable memory.
FITS_BELOW = 0.90
TIGHT_BELOW = 1.00


class InvalidInputError(ValueError):
    """An input a learner can fix; ``field`` names the input, the message says what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# --- Inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Architecture:
    """Shape of a transformer, as its config.json gives it (or as :func:`infer_architecture` guesses)."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    vocab: int
    tied_embeddings: bool = True
    gated_mlp: bool = True
    inferred: bool = False

    @property
    def embedding_parameters(self) -> int:
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2)


@dataclass(frozen=True)
class ModelJob:
    """A job described from the model (way in "b")."""

    parameters: float
    epochs: float = 1.0
    examples: float | None = None
    tokens_per_example: float | None = None
    dataset_tokens: float | None = None
    sequence_length: int = 512
    batch_size: int = 8
    method: str = "lora"
    precision: str = "mixed"
    optimizer: str = "adamw"
    gradient_checkpointing: bool = False
    lora_rank: int = 16
    gpu: str = "T4"
    mfu: float | None = None
    architecture: Architecture | None = None
    deadline_days: float | None = None
    model_name: str = ""


@dataclass(frozen=True)
class MeasuredJob:
    """A job the learner timed (way in "a"): steps, or examples x epochs / batch size, and seconds per batch."""

    seconds_per_batch: float
    steps: float | None = None
    examples: float | None = None
    epochs: float = 1.0
    batch_size: int | None = None
    gpu: str = "T4"
    precision: str = "mixed"
    deadline_days: float | None = None


# --- Outputs ---------------------------------------------------------------------------------


@dataclass
class MemoryBreakdown:
    """Peak GPU memory of a job, in GiB, by part."""

    weights: float
    gradients: float
    optimizer: float
    adapters: float
    activations: float
    overhead: float

    @property
    def total(self) -> float:
        return (
            self.weights
            + self.gradients
            + self.optimizer
            + self.adapters
            + self.activations
            + self.overhead
        )

    def parts(self) -> dict[str, float]:
        return {
            "weights": self.weights,
            "gradients": self.gradients,
            "optimizer states": self.optimizer,
            "LoRA adapters + their optimizer": self.adapters,
            "activations": self.activations,
            "framework overhead": self.overhead,
        }


@dataclass
class Fix:
    """The cheapest change that makes a job fit on a GPU."""

    changes: list[str]
    description: str
    total_gib: float
    hours: float


@dataclass
class GpuVerdict:
    gpu: str
    gpu_name: str
    usable_gib: float
    total_gib: float | None
    verdict: str  # "fits" | "tight" | "does not fit" | "unknown"
    hours: float
    mfu: float
    fix: Fix | None = None


@dataclass
class PlatformPlan:
    platform: str
    name: str
    gpu: str
    verdict: str
    hours: float
    sessions: int | None
    checkpoint_every_minutes: int | None
    weeks_of_quota: float | None
    cost_low: float
    cost_high: float
    within_deadline: bool | None
    plan: str
    uses_fix: str | None = None


@dataclass
class Recommendation:
    platform: str | None
    headline: str
    reasons: list[str]


@dataclass
class Estimate:
    mode: str  # "model" | "measured"
    gpu: str
    hours: float
    tokens: float | None
    flops: float | None
    formula: list[str]
    memory: MemoryBreakdown | None
    verdicts: list[GpuVerdict]
    plans: list[PlatformPlan]
    recommendation: Recommendation
    notes: list[str] = field(default_factory=list)
    assumptions: dict = field(default_factory=dict)

    def verdict_for(self, gpu_key: str) -> GpuVerdict:
        return next(v for v in self.verdicts if v.gpu == gpu_key)

    def plan_for(self, platform_key: str) -> PlatformPlan:
        return next(p for p in self.plans if p.platform == platform_key)

    def to_dict(self) -> dict:
        """A JSON-ready dict (numbers rounded for reading, totals included)."""
        data = dataclasses.asdict(self)
        if self.memory is not None:
            data["memory"] = {k: round(v, 3) for k, v in data["memory"].items()}
            data["memory"]["total"] = round(self.memory.total, 3)
        return _rounded(data)


def _rounded(value):
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.4g}") if abs(value) < 1e6 else float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


# --- Validation ------------------------------------------------------------------------------


def _number(field_name: str, value, *, low: float, high: float, what: str, allow_none=False):
    if value is None:
        if allow_none:
            return None
        raise InvalidInputError(field_name, f"{what} is missing.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(field_name, f"{what} must be a number, not {value!r}.") from None
    if not math.isfinite(number):
        raise InvalidInputError(field_name, f"{what} must be a finite number, not {value!r}.")
    if number <= 0 and low > 0:
        raise InvalidInputError(field_name, f"{what} must be greater than zero (got {value:g}).")
    if number < low:
        raise InvalidInputError(field_name, f"{what} must be at least {low:g} (got {value:g}).")
    if number > high:
        raise InvalidInputError(
            field_name, f"{what} of {value:g} is beyond any real job (the limit is {high:g})."
        )
    return number


def _choice(field_name: str, value: str, options: tuple[str, ...], what: str) -> str:
    if value not in options:
        raise InvalidInputError(
            field_name, f"Unknown {what} {value!r}: choose one of {', '.join(options)}."
        )
    return value


def _gpu(field_name: str, key: str) -> tables.GpuSpec:
    try:
        return tables.gpu(key)
    except tables.UnknownEntryError as error:
        raise InvalidInputError(field_name, str(error)) from None


def _deadline(days) -> None:
    _number(
        "deadline_days",
        days,
        low=1e-3,
        high=MAX_DEADLINE_DAYS,
        what="The deadline (days)",
        allow_none=True,
    )


def validate_model_job(job: ModelJob) -> ModelJob:
    """Check every input of ``job``; return it with derived defaults filled, or raise InvalidInputError."""
    _number(
        "parameters",
        job.parameters,
        low=MIN_PARAMETERS,
        high=MAX_PARAMETERS,
        what="The parameter count",
    )
    _number("epochs", job.epochs, low=1e-6, high=MAX_EPOCHS, what="Epochs")
    seq = _number(
        "sequence_length", job.sequence_length, low=1, high=MAX_SEQUENCE, what="Sequence length"
    )
    _number("batch_size", job.batch_size, low=1, high=MAX_BATCH, what="Batch size")
    _number("lora_rank", job.lora_rank, low=1, high=MAX_RANK, what="LoRA rank")
    _choice("method", job.method, METHODS, "method")
    _choice("precision", job.precision, PRECISIONS, "precision")
    _choice("optimizer", job.optimizer, OPTIMIZERS, "optimizer")
    _gpu("gpu", job.gpu)
    _number("mfu", job.mfu, low=0.01, high=1.0, what="MFU (utilisation)", allow_none=True)
    _deadline(job.deadline_days)
    if job.dataset_tokens is None and job.examples is None:
        raise InvalidInputError(
            "examples", "Give the dataset size: a number of examples, or a number of tokens."
        )
    if job.dataset_tokens is not None:
        _number("dataset_tokens", job.dataset_tokens, low=1, high=MAX_TOKENS, what="Dataset tokens")
    else:
        _number("examples", job.examples, low=1, high=MAX_EXAMPLES, what="The number of examples")
        _number(
            "tokens_per_example",
            job.tokens_per_example,
            low=1,
            high=MAX_SEQUENCE,
            what="Tokens per example",
            allow_none=True,
        )
    if job.method == "full" and job.precision in ("int8", "4bit"):
        raise InvalidInputError(
            "precision",
            "Quantized (int8 / 4-bit) weights cannot be fully fine-tuned: choose LoRA or QLoRA, or mixed precision.",
        )
    if job.method == "lora" and job.precision == "4bit":
        raise InvalidInputError(
            "precision", "LoRA on a 4-bit base model is QLoRA: choose the QLoRA method."
        )
    if job.architecture is not None:
        arch = job.architecture
        for name in ("layers", "hidden", "heads", "kv_heads", "vocab"):
            _number(name, getattr(arch, name), low=1, high=1e7, what=f"The model's {name}")
    tokens_per_example = job.tokens_per_example
    if job.dataset_tokens is None and tokens_per_example is not None and tokens_per_example > seq:
        raise InvalidInputError(
            "tokens_per_example",
            f"Tokens per example ({tokens_per_example:g}) exceed the sequence length ({seq:g}): "
            "longer examples are truncated; raise the sequence length or lower the tokens.",
        )
    return job


def validate_measured_job(job: MeasuredJob) -> MeasuredJob:
    """Check every input of a measured job, or raise InvalidInputError."""
    _number(
        "seconds_per_batch",
        job.seconds_per_batch,
        low=1e-6,
        high=MAX_SECONDS_PER_BATCH,
        what="Seconds per batch",
    )
    _gpu("gpu", job.gpu)
    _choice("precision", job.precision, PRECISIONS, "precision")
    _deadline(job.deadline_days)
    if job.steps is not None:
        _number("steps", job.steps, low=1, high=MAX_STEPS, what="Steps")
    else:
        if job.examples is None or job.batch_size is None:
            raise InvalidInputError(
                "steps", "Give the number of steps, or examples, epochs and batch size."
            )
        _number("examples", job.examples, low=1, high=MAX_EXAMPLES, what="The number of examples")
        _number("epochs", job.epochs, low=1e-6, high=MAX_EPOCHS, what="Epochs")
        _number("batch_size", job.batch_size, low=1, high=MAX_BATCH, what="Batch size")
    return job


# --- Architecture ----------------------------------------------------------------------------


def infer_architecture(parameters: float, vocab: int = 32_000) -> Architecture:
    """Guess a decoder's shape from its size alone, for the activation and adapter formulas.

    Kaplan et al. 2020 (eq. 2.1): non-embedding parameters ~ 12·n_layer·d_model². Published models keep
    d_model / n_layer near 100 (Llama 3.2 3B: 3072/28 = 110; Llama 2 7B: 128; Llama 2 70B: 102), so
    we solve 12·L·h² + vocab·h = N with L = h/100, round h to a multiple of 64 and use 64-wide heads.
    """
    low, high = 1.0, 1e6
    for _ in range(200):
        mid = (low + high) / 2
        if 0.12 * mid**3 + vocab * mid > parameters:
            high = mid
        else:
            low = mid
    hidden = max(64, int(round(low / 64)) * 64)
    layers = max(1, int(round(hidden / 100)))
    heads = max(1, hidden // 64)
    return Architecture(
        layers, hidden, heads, heads, vocab, tied_embeddings=True, gated_mlp=True, inferred=True
    )


def _architecture(job: ModelJob) -> Architecture:
    return job.architecture or infer_architecture(job.parameters)


def lora_adapter_parameters(arch: Architecture, rank: int) -> int:
    """Trainable LoRA parameters on q, k, v, o of every layer: r·(d_in + d_out) per matrix (Hu et al. 2021).

    With grouped-query attention, k and v project to kv_heads·head_dim instead of hidden.
    """
    head_dim = arch.hidden // arch.heads
    kv_out = arch.kv_heads * head_dim
    per_layer = rank * (
        (arch.hidden + arch.hidden)  # q
        + (arch.hidden + kv_out)  # k
        + (arch.hidden + kv_out)  # v
        + (arch.hidden + arch.hidden)  # o
    )
    return per_layer * arch.layers


# --- Compute and time ------------------------------------------------------------------------


def dataset_tokens(job: ModelJob) -> float:
    """Tokens processed in one epoch: the dataset's tokens, or examples x tokens per example.

    Without tokens per example every example is padded to the sequence length (the worst case).
    """
    if job.dataset_tokens is not None:
        return float(job.dataset_tokens)
    per_example = job.tokens_per_example or job.sequence_length
    return float(job.examples) * min(float(per_example), float(job.sequence_length))


def flops_per_parameter_token(job: ModelJob) -> float:
    """k in C = k·N·D: 2 for inference, 6 for a full fine-tune, 4 for (Q)LoRA, +2 with checkpointing."""
    k = FLOPS_PER_PARAMETER_TOKEN[job.method]
    if job.method != "inference" and job.gradient_checkpointing:
        k += RECOMPUTE_FLOPS_PER_PARAMETER_TOKEN
    return k


def training_flops(job: ModelJob) -> float:
    """Total FLOPs C = k·N·D over all epochs (Kaplan et al. 2020)."""
    return flops_per_parameter_token(job) * job.parameters * dataset_tokens(job) * job.epochs


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


def default_mfu(gpu: tables.GpuSpec, hidden: int) -> float:
    """The GPU's default MFU for a model of width ``hidden`` (lower for narrow models, see MFU_WIDTH_EXPONENT)."""
    width_factor = min(1.0, hidden / gpu.full_mfu_width) ** MFU_WIDTH_EXPONENT
    return gpu.default_mfu * width_factor


def mfu_for(job_gpu: str, job_mfu: float | None, target: tables.GpuSpec, hidden: int) -> float:
    """MFU on ``target``: its default for this width, scaled by the learner's override on their own GPU.

    A learner who sets 0.15 on a T4 whose default is 0.20 says "my job runs at 3/4 of typical";
    the same ratio is applied to every other card.
    """
    if job_mfu is None:
        return default_mfu(target, hidden)
    own = tables.gpu(job_gpu)
    if target.key == own.key:
        return job_mfu
    return min(1.0, default_mfu(target, hidden) * job_mfu / default_mfu(own, hidden))


def hours_on(job: ModelJob, gpu: tables.GpuSpec) -> tuple[float, float, str]:
    """(hours, mfu, precision key) for ``job`` on ``gpu``: C / (peak x MFU x eta) / 3600."""
    precision_key = compute_precision(job.precision, job.method, gpu)
    peak = gpu.peak_tflops[precision_key] * 1e12
    mfu = mfu_for(job.gpu, job.mfu, gpu, _architecture(job).hidden)
    seconds = training_flops(job) / (peak * mfu * method_efficiency(job))
    return seconds / 3600.0, mfu, precision_key


# --- Memory ----------------------------------------------------------------------------------


def _activation_coeff(arch: Architecture) -> float:
    return ACTIVATION_BYTES_PER_LAYER_COEFF + (GATED_MLP_EXTRA_COEFF if arch.gated_mlp else 0.0)


def memory_breakdown(job: ModelJob, arch: Architecture | None = None) -> MemoryBreakdown:
    """Peak GPU memory of ``job`` by part (GiB); see the constants above for each formula's source."""
    arch = arch or _architecture(job)
    n = float(job.parameters)
    s, b, h, layers = job.sequence_length, job.batch_size, arch.hidden, arch.layers
    act_precision = "fp32" if job.precision == "fp32" and job.method != "qlora" else "mixed"
    act_scale = 2.0 if act_precision == "fp32" else 1.0

    weights = gradients = optimizer = adapters = 0.0
    if job.method == "full":
        weights = n * FULL_WEIGHT_BYTES[job.precision]
        gradients = n * GRADIENT_BYTES
        optimizer = n * OPTIMIZER_BYTES[job.optimizer]
    else:
        base_precision = "4bit" if job.method == "qlora" else job.precision
        if base_precision in ("int8", "4bit"):
            # bitsandbytes leaves the embeddings (and an untied output layer) in 16 bits.
            embedding = min(float(arch.embedding_parameters), n)
            weights = (n - embedding) * FROZEN_WEIGHT_BYTES[base_precision] + embedding * 2.0
        else:
            weights = n * FROZEN_WEIGHT_BYTES[base_precision]
        if job.method in ("lora", "qlora"):
            adapter_params = lora_adapter_parameters(arch, job.lora_rank)
            adapters = adapter_params * (
                ADAPTER_BYTES_BEFORE_OPTIMIZER + OPTIMIZER_BYTES[job.optimizer]
            )

    if job.method == "inference":
        # KV cache (2 tensors x layers x b x s x kv width), one layer's transient activations, and
        # the logits of every position in 16 bits (what model(input_ids) returns when scoring).
        kv_width = arch.kv_heads * (h // arch.heads)
        bytes_per_value = 4.0 if job.precision == "fp32" else 2.0
        kv_cache = 2 * layers * b * s * kv_width * bytes_per_value
        transient = _activation_coeff(arch) * s * b * h * act_scale
        activations = kv_cache + transient + b * s * arch.vocab * bytes_per_value
    else:
        per_layer_full = _activation_coeff(arch) * s * b * h * act_scale
        if job.gradient_checkpointing:
            kept = CHECKPOINT_BYTES_PER_LAYER_COEFF * s * b * h * act_scale * layers
            activations = kept + per_layer_full
        else:
            activations = per_layer_full * layers
        activations += b * s * arch.vocab * LOGIT_BYTES[act_precision]

    modelled = weights + gradients + optimizer + adapters + activations
    overhead = CUDA_CONTEXT_GIB * GIB + FRAGMENTATION_SHARE * modelled
    return MemoryBreakdown(
        weights=weights / GIB,
        gradients=gradients / GIB,
        optimizer=optimizer / GIB,
        adapters=adapters / GIB,
        activations=activations / GIB,
        overhead=overhead / GIB,
    )


def verdict(total_gib: float, usable_gib: float) -> str:
    """ "fits" under 90% of usable memory, "tight" up to 100%, else "does not fit"."""
    ratio = total_gib / usable_gib
    if ratio <= FITS_BELOW:
        return "fits"
    if ratio <= TIGHT_BELOW:
        return "tight"
    return "does not fit"


# --- The cheapest change that makes a job fit --------------------------------------------------

# Levers in order of what they cost the learner: none (only a smaller micro-batch with gradient
# accumulation, same effective batch and about the same time), then recomputation (+33% time), then
# mixed precision (faster, but fp16 needs loss scaling), 8-bit Adam, then changing the method.
TRAINING_LEVER_SETS: tuple[tuple[str, ...], ...] = (
    (),
    ("checkpointing",),
    ("mixed",),
    ("mixed", "checkpointing"),
    ("adam8",),
    ("adam8", "checkpointing"),
    ("lora",),
    ("lora", "checkpointing"),
    ("qlora",),
    ("qlora", "checkpointing"),
)
INFERENCE_LEVER_SETS: tuple[tuple[str, ...], ...] = ((), ("mixed",), ("int8",), ("4bit",))

LEVER_LABELS = {
    "checkpointing": "gradient checkpointing (about +33% time)",
    "mixed": "mixed precision (fp16/bf16)",
    "adam8": "8-bit AdamW",
    "lora": "LoRA instead of a full fine-tune",
    "qlora": "QLoRA (4-bit base model + LoRA)",
    "int8": "8-bit weights",
    "4bit": "4-bit weights",
}


def _apply_levers(job: ModelJob, levers: tuple[str, ...]) -> ModelJob | None:
    """``job`` with the levers applied, or None when a lever does not apply (or changes nothing)."""
    changes: dict = {}
    for lever in levers:
        if lever == "checkpointing":
            if job.gradient_checkpointing or job.method == "inference":
                return None
            changes["gradient_checkpointing"] = True
        elif lever == "mixed":
            if job.precision != "fp32":
                return None
            changes["precision"] = "mixed"
        elif lever == "adam8":
            if job.method != "full" or job.optimizer != "adamw":
                return None
            changes["optimizer"] = "adamw_8bit"
        elif lever == "lora":
            if job.method != "full":
                return None
            changes["method"] = "lora"
            if job.precision == "fp32":
                changes["precision"] = "mixed"
        elif lever == "qlora":
            if job.method not in ("full", "lora"):
                return None
            changes["method"] = "qlora"
            changes["precision"] = "mixed"
        elif lever in ("int8", "4bit"):
            order = PRECISIONS.index
            if order(job.precision) >= order(lever):
                return None
            changes["precision"] = lever
    return dataclasses.replace(job, **changes)


def cheapest_fix(
    job: ModelJob, gpu: tables.GpuSpec, arch: Architecture | None = None
) -> Fix | None:
    """The first change, in order of cost to the learner, after which ``job`` fits on ``gpu``.

    For each lever set (see TRAINING_LEVER_SETS) the largest micro-batch that fits is tried, halving
    down to 1 with gradient accumulation keeping the effective batch. None when nothing fits.
    """
    arch = arch or _architecture(job)
    lever_sets = INFERENCE_LEVER_SETS if job.method == "inference" else TRAINING_LEVER_SETS
    for levers in lever_sets:
        candidate = _apply_levers(job, levers)
        if candidate is None:
            continue
        micro_batch = job.batch_size
        while micro_batch >= 1:
            trial = dataclasses.replace(candidate, batch_size=micro_batch)
            total = memory_breakdown(trial, arch).total
            if total <= FITS_BELOW * gpu.usable_gib:
                if not levers and micro_batch == job.batch_size:
                    return None  # it already fits
                changes = [LEVER_LABELS[lever] for lever in levers]
                if micro_batch != job.batch_size:
                    accumulation = math.ceil(job.batch_size / micro_batch)
                    if job.method == "inference":
                        changes.insert(0, f"batch size {micro_batch}")
                    else:
                        changes.insert(
                            0,
                            f"micro-batch {micro_batch} with gradient accumulation x{accumulation} "
                            f"(same effective batch of {job.batch_size})",
                        )
                hours, _, _ = hours_on(trial, gpu)
                return Fix(
                    changes=changes,
                    description=" + ".join(changes),
                    total_gib=total,
                    hours=hours,
                )
            micro_batch //= 2
    return None


# --- Platforms and the recommendation ----------------------------------------------------------


def _quota_hours_within(platform: tables.Platform, deadline_days: float | None) -> float | None:
    """GPU hours a weekly quota gives before the deadline (quotas reset weekly: 10 days = 2 quotas)."""
    if platform.weekly_quota_hours is None:
        return None
    weeks = 1 if deadline_days is None else max(1, math.ceil(deadline_days / 7))
    return weeks * platform.weekly_quota_hours


def plan_platform(
    platform: tables.Platform,
    hours: float,
    fit: str,
    deadline_days: float | None,
    uses_fix: str | None = None,
) -> PlatformPlan:
    """One platform's plan: one session, N sessions with checkpoints, weeks of quota, or dollars."""
    low, high = platform.price_per_hour
    cost_low, cost_high = hours * low, hours * high
    sessions = None
    checkpoint = None
    weeks = None
    within = None if deadline_days is None else True
    parts: list[str] = []
    if fit == "does not fit":
        plan = "Does not fit in this GPU's memory."
        return PlatformPlan(
            platform.key,
            platform.name,
            platform.gpu,
            fit,
            hours,
            None,
            None,
            None,
            cost_low,
            cost_high,
            False if deadline_days is not None else None,
            plan,
            uses_fix,
        )
    if platform.session_hours:
        sessions = max(1, math.ceil(hours / platform.session_hours))
        if sessions == 1:
            parts.append(f"fits in one session ({_h(hours)} of {platform.session_hours:g} h)")
        else:
            checkpoint = platform.checkpoint_every_minutes
            parts.append(
                f"{sessions} sessions of up to {platform.session_hours:g} h; "
                f"save a checkpoint every {checkpoint} min and resume"
            )
    if platform.weekly_quota_hours:
        weeks = hours / platform.weekly_quota_hours
        if weeks <= 1:
            parts.append(f"uses {_h(hours)} of the {platform.weekly_quota_hours:g} h weekly quota")
        else:
            parts.append(
                f"needs {weeks:.1f} weeks of the {platform.weekly_quota_hours:g} h weekly quota"
            )
        available = _quota_hours_within(platform, deadline_days)
        if deadline_days is not None and available is not None and hours > available:
            within = False
    if platform.kind == "paid_hourly":
        if high == 0:
            parts.append(f"{_h(hours)}, free")
        elif low == high:
            parts.append(f"{_h(hours)} at ${low:.2f}/h = ${cost_low:,.2f}")
        else:
            parts.append(
                f"{_h(hours)} at ${low:.2f}-{high:.2f}/h = ${cost_low:,.2f}-{cost_high:,.2f}"
            )
        if hours > 24:
            checkpoint = platform.checkpoint_every_minutes
    if deadline_days is not None:
        wall_hours = hours
        if platform.session_hours and sessions and sessions > 1:
            wall_hours = hours + (sessions - 1) * 0.5  # restarting a session costs time too
        if wall_hours > deadline_days * 24:
            within = False
    if fit == "tight":
        parts.append("memory is tight: expect to lower the batch size")
    if uses_fix:
        parts.insert(0, f"with {uses_fix}")
    plan = "; ".join(parts) + "."
    plan = plan[0].upper() + plan[1:]
    return PlatformPlan(
        platform.key,
        platform.name,
        platform.gpu,
        fit,
        hours,
        sessions,
        checkpoint,
        weeks,
        cost_low,
        cost_high,
        within,
        plan,
        uses_fix,
    )


def _h(hours: float) -> str:
    if hours < 1 / 60:
        return f"{hours * 3600:.0f} s"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 100:
        return f"{hours:.1f} h"
    return f"{hours:,.0f} h"


def format_hours(hours: float) -> str:
    """Hours for people: seconds, minutes or hours."""
    return _h(hours)


def recommend(
    plans: list[PlatformPlan], deadline_days: float | None, method: str
) -> Recommendation:
    """Lesson 3's rule: one clean Colab session if the job fits in it; Kaggle when it outlasts a
    session but fits the weekly quota (before the deadline); otherwise the cheapest paid GPU that fits.
    """
    by_key = {p.platform: p for p in plans}
    usable = [p for p in plans if p.verdict in ("fits", "tight") and p.within_deadline is not False]
    colab = by_key.get("colab_free")
    kaggle = by_key.get("kaggle_t4")

    def fix_note(plan: PlatformPlan) -> list[str]:
        return [f"First make it fit on the {plan.gpu}: {plan.uses_fix}."] if plan.uses_fix else []

    if colab in usable and colab.sessions == 1:
        reasons = fix_note(colab) + [
            f"It takes about {_h(colab.hours)} on a T4: one Colab session (up to 12 h) is enough.",
            "Colab is the fastest loop for trying and debugging; keep the tab active and save "
            "results to Drive or the Hub before the session ends.",
        ]
        if kaggle in usable:
            reasons.append(
                "Kaggle works too, and keeps your outputs if you would rather walk away."
            )
        return Recommendation("colab_free", "Colab (free T4): one session.", reasons)
    if kaggle in usable and kaggle.weeks_of_quota is not None:
        kaggle_platform = tables.platforms()["kaggle_t4"]
        quota = kaggle_platform.weekly_quota_hours
        budget = _quota_hours_within(kaggle_platform, deadline_days) or 0
        if kaggle.hours <= budget:
            weeks = math.ceil(kaggle.hours / quota) if quota else 1
            quota_phrase = (
                f"within Kaggle's weekly {quota:g} h quota"
                if weeks <= 1
                else f"{weeks} weeks of Kaggle's {quota:g} h weekly quota"
            )
            reasons = fix_note(kaggle) + [
                f"It takes about {_h(kaggle.hours)} on a T4: "
                + ("more than one Colab session, " if (kaggle.sessions or 1) > 1 else "")
                + quota_phrase
                + (", before your deadline." if deadline_days else "."),
                f"Run it as {kaggle.sessions} Kaggle session(s); save a checkpoint every "
                f"{kaggle_platform.checkpoint_every_minutes} min and resume from it: "
                "outputs persist and runs continue without a browser.",
            ]
            headline = (
                f"Kaggle (free T4): {kaggle.sessions} session(s), about {_h(kaggle.hours)} of GPU time"
                + (f" over {weeks} weeks of quota." if weeks > 1 else ".")
            )
            return Recommendation("kaggle_t4", headline, reasons)
    paid = [p for p in usable if p.cost_high > 0]
    if paid:
        best = min(paid, key=lambda p: ((p.cost_low + p.cost_high) / 2, p.hours))
        free_reason = "It does not fit the free tiers" + (
            " before your deadline."
            if deadline_days
            else " (memory, one session or the weekly quota)."
        )
        reasons = [
            free_reason,
            f"Cheapest GPU that fits: {best.name}, {_h(best.hours)} for about "
            f"${best.cost_low:,.0f}-{best.cost_high:,.0f} (prices move: check the provider).",
            "Test the script on a free tier first for a few minutes, so the paid hours are spent on the run, not on debugging.",
        ] + fix_note(best)
        return Recommendation(
            best.platform,
            f"Pay for {best.name}: about ${best.cost_low:,.0f}-{best.cost_high:,.0f}.",
            reasons,
        )
    reasons = [
        "No single GPU in the tables fits this job, even after the changes the calculator knows, "
        "or none finishes before the deadline.",
        "Shrink the job (a smaller model, QLoRA, fewer tokens or epochs) or split it over several GPUs.",
    ]
    return Recommendation(None, "Does not fit any single GPU as described.", reasons)


# --- The estimate --------------------------------------------------------------------------


def _formula(
    job: ModelJob,
    arch: Architecture,
    gpu: tables.GpuSpec,
    hours: float,
    mfu: float,
    precision_key: str,
) -> list[str]:
    k = flops_per_parameter_token(job)
    d = dataset_tokens(job)
    eta = method_efficiency(job)
    peak = gpu.peak_tflops[precision_key]
    if job.dataset_tokens is not None:
        tokens_line = f"D = {d:,.0f} tokens per epoch"
    else:
        per = min(job.tokens_per_example or job.sequence_length, job.sequence_length)
        tokens_line = (
            f"D = {job.examples:,.0f} examples x {per:,.0f} tokens = {d:,.0f} tokens per epoch"
        )
    why_k = {
        "inference": "2 (forward pass only)",
        "full": "6 (forward 2 + backward 4)",
        "lora": "4 (forward 2 + backward through frozen layers 2)",
        "qlora": "4 (as LoRA)",
    }[job.method]
    if job.method != "inference" and job.gradient_checkpointing:
        why_k += " + 2 (checkpointing re-runs the forward)"
    return [
        tokens_line,
        f"k = {why_k}",
        f"C = k x N x D x epochs = {k:g} x {job.parameters:.3g} x {d:.3g} x {job.epochs:g} = {training_flops(job):.3g} FLOPs",
        f"time = C / (peak x MFU x eta) = {training_flops(job):.3g} / ({peak:g}e12 x {mfu:.2f} x {eta:.2f}) "
        f"= {hours * 3600:,.0f} s = {_h(hours)} on the {gpu.key} ({precision_key})",
    ]


def estimate(job: ModelJob | MeasuredJob) -> Estimate:
    """Estimate time, memory, per-GPU verdicts, per-platform plans and a recommendation for ``job``.

    Raises InvalidInputError (a ValueError naming the input) for zero, negative, NaN, absurd or
    unknown inputs; never returns a number computed from them.
    """
    if isinstance(job, MeasuredJob):
        return _estimate_measured(validate_measured_job(job))
    if not isinstance(job, ModelJob):
        raise TypeError("estimate() takes a ModelJob or a MeasuredJob")
    job = validate_model_job(job)
    arch = _architecture(job)
    notes: list[str] = []
    selected = tables.gpu(job.gpu)
    if job.precision == "mixed" and not selected.has_bf16 and selected.peak_tflops.get("fp16"):
        notes.append(
            f"The {selected.key} has no bfloat16: mixed precision means fp16 there (with loss scaling)."
        )
    if arch.inferred:
        notes.append(
            f"Shape inferred from the parameter count (about {arch.layers} layers of width {arch.hidden}); "
            "pick a built-in model or a Hub ID for its real shape."
        )
    if job.method == "inference":
        notes.append(
            "Inference time assumes batched forward passes (scoring, classification, prompt processing); "
            "token-by-token generation at small batch is limited by memory bandwidth and is slower."
        )

    verdicts: list[GpuVerdict] = []
    for gpu in tables.gpus().values():
        memory = memory_breakdown(job, arch)
        hours, mfu, _ = hours_on(job, gpu)
        fit = verdict(memory.total, gpu.usable_gib)
        fix = cheapest_fix(job, gpu, arch) if fit != "fits" else None
        verdicts.append(
            GpuVerdict(gpu.key, gpu.name, gpu.usable_gib, memory.total, fit, hours, mfu, fix)
        )
    by_gpu = {v.gpu: v for v in verdicts}

    plans = []
    for platform in tables.platforms().values():
        v = by_gpu[platform.gpu]
        if v.verdict == "does not fit" and v.fix is not None:
            plans.append(
                plan_platform(
                    platform, v.fix.hours, "fits", job.deadline_days, uses_fix=v.fix.description
                )
            )
        else:
            plans.append(plan_platform(platform, v.hours, v.verdict, job.deadline_days))
        if platform.gpu == "CPU-2" and job.method != "inference":
            plans[-1].plan = (
                "No GPU: for demos and small inference, not training. " + plans[-1].plan
            )
    hours, mfu, precision_key = hours_on(job, selected)
    return Estimate(
        mode="model",
        gpu=selected.key,
        hours=hours,
        tokens=dataset_tokens(job) * job.epochs,
        flops=training_flops(job),
        formula=_formula(job, arch, selected, hours, mfu, precision_key),
        memory=memory_breakdown(job, arch),
        verdicts=verdicts,
        plans=plans,
        recommendation=recommend(plans, job.deadline_days, job.method),
        notes=notes,
        assumptions={
            "architecture": dataclasses.asdict(arch),
            "mfu": mfu,
            "method_efficiency": method_efficiency(job),
            "flops_per_parameter_token": flops_per_parameter_token(job),
            "compute_precision": precision_key,
            "lora_adapter_parameters": lora_adapter_parameters(arch, job.lora_rank)
            if job.method in ("lora", "qlora")
            else 0,
            "model_name": job.model_name,
        },
    )


def measured_steps(job: MeasuredJob) -> float:
    """Steps of a measured job: as given, or ceil(examples / batch) x epochs."""
    if job.steps is not None:
        return float(job.steps)
    return math.ceil(job.examples / job.batch_size) * job.epochs


def _effective_tflops(gpu: tables.GpuSpec, precision: str) -> float:
    key = compute_precision(precision, "full", gpu)
    return gpu.peak_tflops[key] * gpu.default_mfu


def _estimate_measured(job: MeasuredJob) -> Estimate:
    steps = measured_steps(job)
    timed_on = tables.gpu(job.gpu)
    hours = steps * job.seconds_per_batch / 3600.0
    speed_here = _effective_tflops(timed_on, job.precision)
    verdicts = []
    for gpu in tables.gpus().values():
        # Other cards: scale by sustained throughput (peak x default MFU) relative to the timed card.
        gpu_hours = hours * speed_here / _effective_tflops(gpu, job.precision)
        if gpu.key == timed_on.key:
            fit = "fits"
        elif gpu.usable_gib >= timed_on.usable_gib:
            fit = "fits"
        else:
            fit = "unknown"
        verdicts.append(
            GpuVerdict(gpu.key, gpu.name, gpu.usable_gib, None, fit, gpu_hours, gpu.default_mfu)
        )
    by_gpu = {v.gpu: v for v in verdicts}
    plans = []
    for platform in tables.platforms().values():
        v = by_gpu[platform.gpu]
        plan = plan_platform(
            platform,
            v.hours,
            "fits" if v.verdict != "does not fit" else v.verdict,
            job.deadline_days,
        )
        if v.verdict == "unknown":
            plan.verdict = "unknown"
            plan.plan = (
                f"Less memory than the {timed_on.key} you timed on: check it fits. " + plan.plan
            )
        plans.append(plan)
    formula = [
        (
            f"steps = {job.steps:,.0f}"
            if job.steps is not None
            else f"steps = ceil({job.examples:,.0f} examples / batch {job.batch_size}) x {job.epochs:g} epochs = {steps:,.0f}"
        ),
        f"time = steps x seconds per batch = {steps:,.0f} x {job.seconds_per_batch:g} s = "
        f"{steps * job.seconds_per_batch:,.0f} s = {_h(hours)} on the {timed_on.key}",
        "other GPUs: scaled by (peak x default MFU) relative to the GPU you timed on",
    ]
    candidates = [p for p in plans if p.verdict != "unknown"]
    return Estimate(
        mode="measured",
        gpu=timed_on.key,
        hours=hours,
        tokens=None,
        flops=None,
        formula=formula,
        memory=None,
        verdicts=verdicts,
        plans=plans,
        recommendation=recommend(candidates, job.deadline_days, "full"),
        notes=["Memory is not estimated from a timing: it fit on the GPU you timed on."],
        assumptions={"steps": steps},
    )
