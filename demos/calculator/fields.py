"""Every input of the calculator, declared once: the form, the address bar, the API/MCP and the CLI read it.

Like TensorFlow Playground's ``state.ts``: one table (:data:`FIELDS`) gives each input its name (the
API and MCP argument), its kind (how a value is parsed and checked), its key in the address bar, its
label, its help sentence (the API/MCP description and the CLI help) and its default. From it come the
flat :class:`Fields` record, the parser that turns what a form, a link, an API call or a command line
sends into a job (:func:`build_job`), and the link that reopens an estimate (:func:`to_query`,
:func:`from_query`). No Gradio here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from demos.calculator.estimate import Estimate, estimate
from demos.calculator.jobs import (
    METHODS,
    OPTIMIZERS,
    PARALLELISMS,
    PRECISIONS,
    TASKS,
    InvalidInputError,
    MeasuredJob,
    ModelJob,
)
from demos.calculator.model_size import ModelSize, ModelSizeError, parse_parameter_count, resolve

# When a typed parameter count is this close to the picked model's, the model's real shape is used.
SHAPE_MATCH_TOLERANCE = 0.10


@dataclass(frozen=True)
class Field:
    """One input. ``kind``: text | count | number | int | bool | choice (``choices``: allowed values)."""

    name: str
    kind: str
    url: str
    label: str
    help: str
    default: object = None
    choices: tuple[str, ...] = ()
    aliases: dict | None = None  # other spellings a person or a model may send, for choices
    cli: tuple[str, ...] = ()  # extra command-line spellings
    low: float = 0.0
    high: float = math.inf
    measured: bool = False  # belongs to the "measured" way in only


FIELDS: tuple[Field, ...] = (
    Field(
        "mode",
        "choice",
        "mode",
        "Way in",
        '"model" to estimate from the model (parameters, data, method, precision), or "measured" '
        "to use lesson 3's arithmetic: steps x the seconds per batch you timed.",
        "model",
        ("model", "measured"),
        aliases={"from the model": "model", "measured (seconds per batch)": "measured"},
    ),
    Field(
        "model",
        "text",
        "model",
        "Model: built-in or Hub ID (owner/name)",
        'Optional: a built-in model (e.g. "Llama-3.2-3B", "roberta-base", "gpt2", "t5-base") or a '
        'Hugging Face Hub ID ("owner/name", read from the Hub\'s metadata when online). Gives the '
        "parameter count and the real layer shape. Leave empty and give `parameters` instead.",
        "",
    ),
    Field(
        "parameters",
        "count",
        "params",
        "Parameters",
        'Parameter count, e.g. "3B", "125M" or "3e9". Overrides the model\'s count; required when '
        'no model is given (mode "model").',
        "",
    ),
    Field(
        "task",
        "choice",
        "task",
        "Task",
        '"causal-lm" (a decoder predicting the next token), "masked-lm", "classification" (a small '
        'head, no vocabulary logits) or "seq2seq" (encoder-decoder). Empty: from the model\'s kind.',
        "",
        ("",) + TASKS,
        aliases={
            "auto": "",
            "causal": "causal-lm",
            "clm": "causal-lm",
            "text-generation": "causal-lm",
            "mlm": "masked-lm",
            "fill-mask": "masked-lm",
            "sequence-classification": "classification",
            "text-classification": "classification",
            "text2text-generation": "seq2seq",
            "summarization": "seq2seq",
            "translation": "seq2seq",
        },
    ),
    Field(
        "examples",
        "number",
        "examples",
        "Examples",
        "Number of training examples (or examples to run inference on). Use this or dataset_tokens.",
        None,
        low=1,
    ),
    Field(
        "tokens_per_example",
        "number",
        "tpe",
        "Tokens per example (avg)",
        "Average tokens per example; empty means every example is padded to sequence_length.",
        None,
        low=1,
    ),
    Field(
        "dataset_tokens",
        "number",
        "tokens",
        "or dataset tokens",
        "Dataset size in tokens, instead of examples x tokens_per_example.",
        None,
        cli=("--tokens",),
        low=1,
    ),
    Field(
        "target_length",
        "int",
        "target",
        "Target length (seq2seq)",
        "seq2seq only: tokens of the output the decoder reads; empty means the same as the input.",
        None,
        low=1,
    ),
    Field(
        "num_labels",
        "int",
        "labels",
        "Labels (classification)",
        "classification only: number of classes (default 2).",
        2,
        low=1,
    ),
    Field("epochs", "number", "epochs", "Epochs", "Passes over the data (default 1).", 1),
    Field(
        "sequence_length",
        "int",
        "seq",
        "Sequence length",
        "Maximum sequence length in tokens (default 512).",
        512,
        cli=("--seq",),
    ),
    Field(
        "batch_size",
        "int",
        "batch",
        "Batch size (per GPU)",
        'Examples per batch on each GPU (default 8); in "measured" mode, the batch size you timed.',
        8,
        cli=("--batch",),
    ),
    Field(
        "method",
        "choice",
        "method",
        "Method",
        '"inference", "full" (full fine-tune), "lora" or "qlora".',
        "lora",
        METHODS,
        aliases={"full fine-tune": "full", "fine-tune": "full", "finetune": "full"},
    ),
    Field(
        "precision",
        "choice",
        "precision",
        "Precision",
        '"fp32", "mixed" (fp16/bf16 autocast), "int8" or "4bit" (weights; 4-bit with LoRA is QLoRA).',
        "mixed",
        PRECISIONS,
        aliases={
            "fp16": "mixed",
            "bf16": "mixed",
            "mixed (fp16/bf16)": "mixed",
            "amp": "mixed",
            "4-bit": "4bit",
            "nf4": "4bit",
            "8bit": "int8",
            "8-bit": "int8",
            "float32": "fp32",
        },
    ),
    Field(
        "optimizer",
        "choice",
        "optim",
        "Optimizer",
        '"adamw", "adamw_8bit" or "sgd" (with momentum).',
        "adamw",
        OPTIMIZERS,
        aliases={"adam": "adamw", "8-bit adam": "adamw_8bit", "adamw 8-bit": "adamw_8bit"},
    ),
    Field(
        "gradient_checkpointing",
        "bool",
        "ckpt",
        "Gradient checkpointing",
        "Recompute activations in the backward pass (less memory, about a third more time).",
        False,
        cli=("--checkpointing",),
    ),
    Field(
        "lora_rank",
        "int",
        "rank",
        "LoRA rank",
        "LoRA rank r (default 16), adapters on the attention projections q, k, v, o.",
        16,
    ),
    Field(
        "gpu",
        "choice",
        "gpu",
        "GPU",
        "The GPU you plan to use (see the GPU list; e.g. T4, L4, A100-80GB, H100, RTX4090, L40S, "
        "ZeroGPU, CPU-2 for 2 vCPU and no GPU).",
        "T4",
    ),
    Field(
        "gpus",
        "int",
        "gpus",
        "GPUs",
        "How many GPUs of that kind work together (default 1).",
        1,
    ),
    Field(
        "parallelism",
        "choice",
        "par",
        "Several GPUs",
        '"ddp" (a full copy on each GPU, gradients averaged) or "fsdp" (weights, gradients and '
        "optimizer states sharded across the GPUs, like DeepSpeed ZeRO-3).",
        "ddp",
        PARALLELISMS,
        aliases={"zero3": "fsdp", "zero-3": "fsdp", "deepspeed": "fsdp", "data parallel": "ddp"},
    ),
    Field(
        "mfu",
        "number",
        "mfu",
        "MFU (utilisation, 0-1)",
        "Model FLOPs utilisation between 0.01 and 1; empty uses the GPU's default (lower for narrow models).",
        None,
    ),
    Field(
        "deadline_days",
        "number",
        "deadline",
        "Deadline (days, optional)",
        "Optional days until the deadline; plans that cannot finish in time are flagged.",
        None,
    ),
    Field(
        "seconds_per_batch",
        "number",
        "spb",
        "Seconds per batch (timed)",
        'Mode "measured" only: the seconds one batch (one optimizer step) took on `gpu`.',
        None,
        measured=True,
    ),
    Field(
        "steps",
        "number",
        "steps",
        "Steps (or leave empty)",
        'Mode "measured" only: total steps; empty means ceil(examples / batch_size) x epochs.',
        None,
        measured=True,
    ),
)
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
BY_URL: dict[str, Field] = {f.url: f for f in FIELDS}
NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)

Fields = dataclasses.make_dataclass(
    "Fields",
    [(f.name, object, dataclasses.field(default=f.default)) for f in FIELDS],
    frozen=True,
)
Fields.__module__ = __name__
Fields.__doc__ = (
    "Every input of the calculator, flat, as a form, a link, the API or the CLI gives it."
)


# --- Reading one value -------------------------------------------------------------------------


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value) -> str:
    text = repr(value) if isinstance(value, str) else f"{value}"
    return text if len(text) <= 40 else text[:37] + "..."


def parse_value(field: Field, value):
    """``value`` as the field's type, None when empty (the default applies), or InvalidInputError."""
    if field.kind == "bool":
        if isinstance(value, bool):
            return value
        if _empty(value):
            return None
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise InvalidInputError(
            field.name, f"{field.label} must be true or false, not {_shown(value)}."
        )
    if _empty(value):
        return None
    if field.kind in ("text", "count"):
        return str(value).strip()
    if field.kind == "choice":
        text = str(value).strip()
        lowered = text.lower()
        if field.aliases and lowered in field.aliases:
            return field.aliases[lowered]
        if not field.choices:
            return text  # checked against the tables later (the GPU)
        for option in field.choices:
            if lowered == option.lower():
                return option
        options = ", ".join(o for o in field.choices if o)
        raise InvalidInputError(
            field.name, f"Unknown {field.label.lower()} {_shown(value)}: choose one of {options}."
        )
    if isinstance(value, bool):
        raise InvalidInputError(field.name, f"{field.label} must be a number, not {value}.")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            field.name, f"{field.label} must be a number, not {_shown(value)}."
        ) from None
    if not math.isfinite(number):
        raise InvalidInputError(
            field.name, f"{field.label} must be a finite number, not {_shown(value)}."
        )
    if field.kind == "int":
        if number != int(number):
            raise InvalidInputError(
                field.name, f"{field.label} must be a whole number, not {_shown(value)}."
            )
        return int(number)
    return number


def parsed(fields) -> dict:
    """Every field of ``fields`` parsed (empty ones are None): InvalidInputError names the first bad one."""
    return {f.name: parse_value(f, getattr(fields, f.name)) for f in FIELDS}


def _or_default(values: dict, name: str):
    value = values[name]
    return BY_NAME[name].default if value is None else value


# --- Fields to a job ---------------------------------------------------------------------------


def model_size(fields, local_anywhere: bool = False) -> tuple[float, ModelSize | None]:
    """(parameter count, the picked model's size or None) from the model and parameters fields."""
    values = parsed(fields)
    picked = None
    if values["model"]:
        try:
            picked = resolve(values["model"], local_anywhere=local_anywhere)
        except ModelSizeError as error:
            if values["parameters"] is None:
                raise InvalidInputError("model", str(error)) from None
    if values["parameters"] is not None:
        try:
            return parse_parameter_count(values["parameters"]), picked
        except ModelSizeError as error:
            raise InvalidInputError("parameters", str(error)) from None
    if picked is None:
        raise InvalidInputError("parameters", "Give the parameter count (e.g. 3B) or pick a model.")
    return float(picked.parameters), picked


def build_job(fields, local_anywhere: bool = False) -> ModelJob | MeasuredJob:
    """The job the fields describe; InvalidInputError (naming the field) when one is wrong.

    An empty field takes its default; a given one is used as given, so a 0 is an error, never a
    silent fallback to the default.
    """
    values = parsed(fields)
    mode = _or_default(values, "mode")
    if mode == "measured":
        return MeasuredJob(
            seconds_per_batch=values["seconds_per_batch"],
            steps=values["steps"],
            examples=values["examples"],
            epochs=_or_default(values, "epochs"),
            batch_size=values["batch_size"],
            gpu=_or_default(values, "gpu"),
            precision=_or_default(values, "precision"),
            deadline_days=values["deadline_days"],
        )
    parameters, picked = model_size(fields, local_anywhere)
    architecture = None
    if picked is not None and picked.architecture is not None:
        if abs(picked.parameters - parameters) <= SHAPE_MATCH_TOLERANCE * parameters:
            architecture = picked.architecture
    return ModelJob(
        parameters=parameters,
        epochs=_or_default(values, "epochs"),
        examples=values["examples"],
        tokens_per_example=values["tokens_per_example"],
        dataset_tokens=values["dataset_tokens"],
        sequence_length=_or_default(values, "sequence_length"),
        batch_size=_or_default(values, "batch_size"),
        method=_or_default(values, "method"),
        precision=_or_default(values, "precision"),
        optimizer=_or_default(values, "optimizer"),
        gradient_checkpointing=bool(_or_default(values, "gradient_checkpointing")),
        lora_rank=_or_default(values, "lora_rank"),
        gpu=_or_default(values, "gpu"),
        mfu=values["mfu"],
        architecture=architecture,
        deadline_days=values["deadline_days"],
        model_name=picked.name if picked else "",
        task=values["task"] or "",
        target_length=values["target_length"],
        num_labels=_or_default(values, "num_labels"),
        gpus=_or_default(values, "gpus"),
        parallelism=_or_default(values, "parallelism"),
    )


def estimate_fields(fields, local_anywhere: bool = False) -> Estimate:
    """Build the job from ``fields`` and estimate it (InvalidInputError on a bad field)."""
    return estimate(build_job(fields, local_anywhere))


# --- The address bar ----------------------------------------------------------------------------


def as_text(value) -> str:
    """A value as short text (the address bar, a text box): 20000.0 -> '20000'."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def to_query(fields) -> dict[str, str]:
    """The address-bar parameters for ``fields``: every field that differs from its default.

    Only valid values are written (a link reopens what was estimated); the measured-only fields are
    left out of a "model" estimate and the model-only ones out of a "measured" one.
    """
    values = parsed(fields)
    measured = _or_default(values, "mode") == "measured"
    query: dict[str, str] = {}
    for f in FIELDS:
        value = values[f.name]
        if value is None or value == f.default:
            continue
        if f.measured and not measured:
            continue
        query[f.url] = as_text(value)
    return query


def from_query(params: Mapping[str, str]) -> tuple[dict, list[str]]:
    """(field values read from the address bar, messages about the keys that were unreadable).

    Unknown keys (``tab``, other tools' keys) are ignored; a value that does not parse is dropped
    with a message naming its field, so a mistyped link still opens, with the rest of its inputs.
    """
    values: dict = {}
    problems: list[str] = []
    for key, raw in params.items():
        f = BY_URL.get(key)
        if f is None:
            continue
        raw = str(raw)[:200]
        try:
            value = parse_value(f, raw)
        except InvalidInputError as error:
            problems.append(f"{f.label}: {error}")
            continue
        if value is not None:
            values[f.name] = value
    return values, problems


def fields_from_values(values: Mapping[str, object]) -> Fields:
    """A Fields record from a partial mapping of field names (defaults elsewhere)."""
    return Fields(**{k: v for k, v in values.items() if k in BY_NAME})


# The friend's scenario of lesson 3: a 3B model, 50,000 examples, 5 epochs, no GPU, no budget,
# 10 days. The lesson gives no example length: 256 tokens is a typical short instruction/answer pair.
FRIEND_SCENARIO = Fields(
    mode="model",
    model="Llama-3.2-3B",
    parameters="",
    examples=50_000,
    tokens_per_example=256,
    epochs=5,
    sequence_length=512,
    batch_size=8,
    method="lora",
    precision="mixed",
    optimizer="adamw",
    gradient_checkpointing=False,
    lora_rank=16,
    gpu="T4",
    mfu=None,
    deadline_days=10,
)
