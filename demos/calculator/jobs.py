"""What the calculator takes and gives: jobs, model shapes, results, and the checks on every input.

Pure Python, no Gradio. :func:`validate_model_job` and :func:`validate_measured_job` return a
normalised copy (numbers as numbers, whole numbers as ints) or raise :class:`InvalidInputError`
naming the input, so nothing downstream ever computes with a string, a NaN or a fraction of a batch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from demos.calculator import tables

METHODS: tuple[str, ...] = ("inference", "full", "lora", "qlora")
PRECISIONS: tuple[str, ...] = ("fp32", "mixed", "int8", "4bit")
OPTIMIZERS: tuple[str, ...] = ("adamw", "adamw_8bit", "sgd")
# What the model is trained (or run) for; it decides the output layer and its memory (memory.py).
TASKS: tuple[str, ...] = ("causal-lm", "masked-lm", "classification", "seq2seq")
# Several GPUs: "ddp" keeps a full copy on each card (PyTorch DistributedDataParallel);
# "fsdp" shards weights, gradients and optimizer states (FSDP / DeepSpeed ZeRO-3).
PARALLELISMS: tuple[str, ...] = ("ddp", "fsdp")
KINDS: tuple[str, ...] = ("decoder", "encoder", "encoder-decoder")

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
MAX_GPUS = 100_000  # Llama 3 405B used 16,384 H100s; xAI's clusters ~100k
MAX_LABELS = 1_000_000
MAX_SECONDS_PER_BATCH = 86_400.0
MAX_STEPS = 1e10
MAX_DEADLINE_DAYS = 3650.0


class InvalidInputError(ValueError):
    """An input a learner can fix; ``field`` names the input, the message says what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# --- Inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Architecture:
    """Shape of a transformer, as its config.json gives it (or as :func:`infer_architecture` guesses).

    ``family`` picks the activation-memory recipe in memory.py: "llama" (pre-RMSNorm, gated MLP,
    no dropout: Llama, Mistral, Qwen, Gemma, Phi-3, SmolLM), "gpt" (pre-LayerNorm, GeLU, dropout:
    GPT-2, GPT-Neo, OPT), "bert" (post-LayerNorm encoder: BERT, RoBERTa, MiniLM, DistilBERT), "t5"
    (encoder-decoder, RMSNorm: T5, Flan-T5, mT5, BART). Empty: chosen from ``kind`` and ``gated_mlp``.
    """

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    vocab: int
    tied_embeddings: bool = True
    gated_mlp: bool = True
    inferred: bool = False
    intermediate: int = 0  # MLP width; 0: 8/3·hidden for a gated MLP, 4·hidden otherwise
    kind: str = "decoder"  # decoder | encoder | encoder-decoder
    decoder_layers: int = 0  # encoder-decoder models: `layers` is the encoder's count
    family: str = ""
    activation: str = ""  # e.g. silu, gelu, gelu_new, relu; "" = the family's usual one
    dropout: float = 0.0  # hidden dropout probability while training

    @property
    def embedding_parameters(self) -> int:
        """The input embedding matrix (plus an untied output layer of the same size)."""
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2)

    @property
    def mlp_width(self) -> int:
        if self.intermediate:
            return self.intermediate
        return int(8 * self.hidden / 3) if self.gated_mlp else 4 * self.hidden

    @property
    def kv_width(self) -> int:
        return self.kv_heads * (self.hidden // max(1, self.heads))

    @property
    def recipe(self) -> str:
        if self.family:
            return self.family
        if self.kind == "encoder-decoder":
            return "t5"
        if self.kind == "encoder":
            return "bert"
        return "llama" if self.gated_mlp else "gpt"

    @property
    def total_layers(self) -> int:
        return self.layers + self.decoder_layers


@dataclass(frozen=True)
class ModelJob:
    """A job described from the model (way in "b")."""

    parameters: float
    epochs: float = 1.0
    examples: float | None = None
    tokens_per_example: float | None = None
    dataset_tokens: float | None = None
    sequence_length: int = 512
    batch_size: int = 8  # per GPU (what transformers calls per_device_train_batch_size)
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
    task: str = (
        ""  # "" = from the architecture: decoder -> causal-lm, encoder -> classification ...
    )
    target_length: int | None = (
        None  # seq2seq: tokens the decoder produces (default: sequence_length)
    )
    num_labels: int = 2  # classification
    gpus: int = 1
    parallelism: str = "ddp"


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
    """Peak GPU memory of a job, per GPU, in GiB, by part (see memory.py for each part's source).

    The parts are what is alive at the peak: ``peak_at`` says when that is. Before the backward
    pass the gradients do not exist yet; at its end the activations are gone.
    """

    weights: float
    gradients: float
    optimizer: float
    adapters: float
    activations: float
    overhead: float
    weight_copies: float = (
        0.0  # 16-bit copies of the weights that autocast keeps for the backward pass
    )
    cuda_context: float = 0.0  # part of overhead: the CUDA context and libraries, before any tensor
    peak_at: str = ""

    @property
    def total(self) -> float:
        return (
            self.weights
            + self.weight_copies
            + self.gradients
            + self.optimizer
            + self.adapters
            + self.activations
            + self.overhead
        )

    @property
    def allocated(self) -> float:
        """What PyTorch allocates (torch.cuda.max_memory_allocated): the total less the overhead."""
        return self.total - self.overhead

    def parts(self) -> dict[str, float]:
        return {
            "weights": self.weights,
            "16-bit weight copies (autocast)": self.weight_copies,
            "gradients": self.gradients,
            "optimizer states": self.optimizer,
            "LoRA adapters + their optimizer": self.adapters,
            "activations": self.activations,
            "CUDA context": self.cuda_context,
            "allocator slack": self.overhead - self.cuda_context,
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
    note: str = ""


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
    days_of_quota: float | None = None


@dataclass
class Recommendation:
    platform: str | None
    headline: str
    reasons: list[str]


@dataclass
class Cut:
    """One change that shrinks the work, and what it does to the time (advice.py)."""

    name: str
    change: str
    hours: float
    factor: float  # new hours / old hours
    note: str = ""


@dataclass
class Estimate:
    mode: str  # "model" | "measured"
    gpu: str
    hours: float  # wall-clock hours on the chosen GPU(s)
    tokens: float | None
    flops: float | None
    formula: list[str]
    memory: MemoryBreakdown | None
    verdicts: list[GpuVerdict]
    plans: list[PlatformPlan]
    recommendation: Recommendation
    notes: list[str] = field(default_factory=list)
    assumptions: dict = field(default_factory=dict)
    gpus: int = 1
    cuts: list[Cut] = field(default_factory=list)
    cut_plan: str = ""

    @property
    def gpu_hours(self) -> float:
        return self.hours * self.gpus

    def verdict_for(self, gpu_key: str) -> GpuVerdict:
        return next(v for v in self.verdicts if v.gpu == gpu_key)

    def plan_for(self, platform_key: str) -> PlatformPlan:
        return next(p for p in self.plans if p.platform == platform_key)

    def to_dict(self) -> dict:
        """A JSON-ready dict (numbers rounded for reading, totals included)."""
        data = dataclasses.asdict(self)
        data["gpu_hours"] = self.gpu_hours
        if self.memory is not None:
            data["memory"] = {
                k: (round(v, 3) if isinstance(v, float) else v) for k, v in data["memory"].items()
            }
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


def _shown(value) -> str:
    """A value as the learner typed it, for a message (never formatted as a number: it may be text)."""
    text = repr(value) if isinstance(value, str) else f"{value}"
    return text if len(text) <= 40 else text[:37] + "..."


def _parse(field_name: str, value, what: str) -> float:
    if isinstance(value, bool):
        raise InvalidInputError(field_name, f"{what} must be a number, not {_shown(value)}.")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            field_name, f"{what} must be a number, not {_shown(value)}."
        ) from None
    if not math.isfinite(number):
        raise InvalidInputError(field_name, f"{what} must be a finite number, not {_shown(value)}.")
    return number


def number(
    field_name: str, value, *, low: float, high: float, what: str, allow_none=False, whole=False
):
    """``value`` as a float (an int when ``whole``) within [low, high], or InvalidInputError naming the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_none:
            return None
        raise InvalidInputError(field_name, f"{what} is missing.")
    parsed = _parse(field_name, value, what)
    if whole and parsed != int(parsed):
        raise InvalidInputError(field_name, f"{what} must be a whole number, not {_shown(value)}.")
    if parsed <= 0 and low > 0:
        raise InvalidInputError(
            field_name, f"{what} must be greater than zero (got {_shown(value)})."
        )
    if parsed < low:
        raise InvalidInputError(field_name, f"{what} must be at least {low:g} (got {parsed:g}).")
    if parsed > high:
        raise InvalidInputError(
            field_name, f"{what} of {parsed:g} is beyond any real job (the limit is {high:g})."
        )
    return int(parsed) if whole else parsed


def choice(field_name: str, value, options: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str) or value not in options:
        raise InvalidInputError(
            field_name, f"Unknown {what} {_shown(value)}: choose one of {', '.join(options)}."
        )
    return value


def _gpu(field_name: str, key) -> str:
    try:
        return tables.gpu(str(key)).key
    except tables.UnknownEntryError as error:
        raise InvalidInputError(field_name, str(error)) from None


def _deadline(days) -> float | None:
    return number(
        "deadline_days",
        days,
        low=1e-3,
        high=MAX_DEADLINE_DAYS,
        what="The deadline (days)",
        allow_none=True,
    )


def default_task(arch: Architecture | None) -> str:
    """The usual job for a model of this kind: decoders generate, encoders classify, seq2seq maps."""
    if arch is None or arch.kind == "decoder":
        return "causal-lm"
    return "classification" if arch.kind == "encoder" else "seq2seq"


def validate_model_job(job: ModelJob) -> ModelJob:
    """Check every input of ``job``; return it normalised (numbers parsed, task chosen), or raise InvalidInputError."""
    n = number(
        "parameters",
        job.parameters,
        low=MIN_PARAMETERS,
        high=MAX_PARAMETERS,
        what="The parameter count",
    )
    changes: dict = {"parameters": n}
    changes["epochs"] = number("epochs", job.epochs, low=1e-6, high=MAX_EPOCHS, what="Epochs")
    seq = number(
        "sequence_length",
        job.sequence_length,
        low=1,
        high=MAX_SEQUENCE,
        what="Sequence length",
        whole=True,
    )
    changes["sequence_length"] = seq
    changes["batch_size"] = number(
        "batch_size", job.batch_size, low=1, high=MAX_BATCH, what="Batch size", whole=True
    )
    changes["lora_rank"] = number(
        "lora_rank", job.lora_rank, low=1, high=MAX_RANK, what="LoRA rank", whole=True
    )
    changes["gpus"] = number(
        "gpus", job.gpus, low=1, high=MAX_GPUS, what="The number of GPUs", whole=True
    )
    changes["num_labels"] = number(
        "num_labels", job.num_labels, low=1, high=MAX_LABELS, what="Labels", whole=True
    )
    choice("method", job.method, METHODS, "method")
    choice("precision", job.precision, PRECISIONS, "precision")
    choice("optimizer", job.optimizer, OPTIMIZERS, "optimizer")
    choice("parallelism", job.parallelism, PARALLELISMS, "parallelism")
    changes["gpu"] = _gpu("gpu", job.gpu)
    changes["mfu"] = number(
        "mfu", job.mfu, low=0.01, high=1.0, what="MFU (utilisation)", allow_none=True
    )
    changes["deadline_days"] = _deadline(job.deadline_days)
    if job.architecture is not None:
        arch = job.architecture
        for name in ("layers", "hidden", "heads", "kv_heads", "vocab"):
            number(name, getattr(arch, name), low=1, high=1e7, what=f"The model's {name}")
        choice("model", arch.kind, KINDS, "model kind")
    task = job.task or default_task(job.architecture)
    choice("task", task, TASKS, "task")
    changes["task"] = task
    changes["target_length"] = number(
        "target_length",
        job.target_length,
        low=1,
        high=MAX_SEQUENCE,
        what="Target length",
        allow_none=True,
        whole=True,
    )
    if job.dataset_tokens is None and job.examples is None:
        raise InvalidInputError(
            "examples", "Give the dataset size: a number of examples, or a number of tokens."
        )
    if job.dataset_tokens is not None:
        changes["dataset_tokens"] = number(
            "dataset_tokens", job.dataset_tokens, low=1, high=MAX_TOKENS, what="Dataset tokens"
        )
    else:
        changes["examples"] = number(
            "examples", job.examples, low=1, high=MAX_EXAMPLES, what="The number of examples"
        )
        per = number(
            "tokens_per_example",
            job.tokens_per_example,
            low=1,
            high=MAX_SEQUENCE,
            what="Tokens per example",
            allow_none=True,
        )
        changes["tokens_per_example"] = per
        if per is not None and per > seq:
            raise InvalidInputError(
                "tokens_per_example",
                f"Tokens per example ({per:g}) exceed the sequence length ({seq:g}): "
                "longer examples are truncated; raise the sequence length or lower the tokens.",
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
    return dataclasses.replace(job, **changes)


def validate_measured_job(job: MeasuredJob) -> MeasuredJob:
    """Check every input of a measured job; return it normalised, or raise InvalidInputError."""
    changes: dict = {
        "seconds_per_batch": number(
            "seconds_per_batch",
            job.seconds_per_batch,
            low=1e-6,
            high=MAX_SECONDS_PER_BATCH,
            what="Seconds per batch",
        ),
        "gpu": _gpu("gpu", job.gpu),
        "deadline_days": _deadline(job.deadline_days),
    }
    choice("precision", job.precision, PRECISIONS, "precision")
    if job.steps is not None:
        changes["steps"] = number("steps", job.steps, low=1, high=MAX_STEPS, what="Steps")
    else:
        if job.examples is None or job.batch_size is None:
            raise InvalidInputError(
                "steps", "Give the number of steps, or examples, epochs and batch size."
            )
        changes["examples"] = number(
            "examples", job.examples, low=1, high=MAX_EXAMPLES, what="The number of examples"
        )
        changes["epochs"] = number("epochs", job.epochs, low=1e-6, high=MAX_EPOCHS, what="Epochs")
        changes["batch_size"] = number(
            "batch_size", job.batch_size, low=1, high=MAX_BATCH, what="Batch size", whole=True
        )
    return dataclasses.replace(job, **changes)


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


def architecture_of(job: ModelJob) -> Architecture:
    return job.architecture or infer_architecture(job.parameters)
