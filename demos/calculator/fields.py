"""Flat inputs (what a form, an API call or a command line gives) to a job, and the estimate.

Shared by the Gradio UI, the API/MCP endpoint and ``python -m demos.calculator``, so the three
always agree. No Gradio here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from demos.calculator.estimate import (
    Estimate,
    InvalidInputError,
    MeasuredJob,
    ModelJob,
    estimate,
)
from demos.calculator.model_size import ModelSize, ModelSizeError, parse_parameter_count, resolve

# When a typed parameter count is this close to the picked model's, the model's real shape is used.
SHAPE_MATCH_TOLERANCE = 0.10

PRECISION_ALIASES = {
    "fp32": "fp32",
    "mixed": "mixed",
    "fp16": "mixed",
    "bf16": "mixed",
    "mixed (fp16/bf16)": "mixed",
    "int8": "int8",
    "4bit": "4bit",
    "4-bit": "4bit",
    "nf4": "4bit",
}
METHOD_ALIASES = {
    "inference": "inference",
    "full": "full",
    "full fine-tune": "full",
    "lora": "lora",
    "qlora": "qlora",
}
OPTIMIZER_ALIASES = {
    "adamw": "adamw",
    "adam": "adamw",
    "adamw_8bit": "adamw_8bit",
    "8-bit adam": "adamw_8bit",
    "adamw 8-bit": "adamw_8bit",
    "sgd": "sgd",
}


@dataclass(frozen=True)
class Fields:
    """Every input of the calculator, flat. Empty / None / 0 optional fields mean "not given"."""

    mode: str = "model"  # "model" | "measured"
    model: str = ""
    parameters: str | float | None = None  # "3B", 3e9 ...
    examples: float | None = None
    tokens_per_example: float | None = None
    dataset_tokens: float | None = None
    epochs: float | None = 1.0
    sequence_length: float | None = 512
    batch_size: float | None = 8
    method: str = "lora"
    precision: str = "mixed"
    optimizer: str = "adamw"
    gradient_checkpointing: bool = False
    lora_rank: float | None = 16
    gpu: str = "T4"
    mfu: float | None = None
    deadline_days: float | None = None
    seconds_per_batch: float | None = None
    steps: float | None = None


def _given(value) -> bool:
    """Optional numeric fields: None, "" and 0 mean "not given" (a form's empty box)."""
    if value is None or value == "":
        return False
    try:
        return float(value) != 0
    except (TypeError, ValueError):
        return True  # let validation name the bad value


def _optional(value):
    return value if _given(value) else None


def _int_field(name: str, value, what: str) -> int:
    if value is None or value == "":
        raise InvalidInputError(name, f"{what} is missing.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(name, f"{what} must be a number, not {value!r}.") from None
    if not math.isfinite(number):
        raise InvalidInputError(name, f"{what} must be a finite number, not {value!r}.")
    if number != int(number):
        raise InvalidInputError(name, f"{what} must be a whole number (got {value!r}).")
    return int(number)


def _alias(name: str, value: str, aliases: dict[str, str], what: str) -> str:
    key = str(value or "").strip().lower()
    if key not in aliases:
        options = ", ".join(sorted(set(aliases.values())))
        raise InvalidInputError(name, f"Unknown {what} {value!r}: choose one of {options}.")
    return aliases[key]


def model_size(fields: Fields) -> tuple[float, ModelSize | None]:
    """(parameter count, the picked model's size or None) from the model and parameters fields."""
    picked = None
    if fields.model and fields.model.strip():
        try:
            picked = resolve(fields.model)
        except ModelSizeError as error:
            if not _given(fields.parameters):
                raise InvalidInputError("model", str(error)) from None
    if _given(fields.parameters):
        try:
            return parse_parameter_count(fields.parameters), picked
        except ModelSizeError as error:
            raise InvalidInputError("parameters", str(error)) from None
    if picked is None:
        raise InvalidInputError("parameters", "Give the parameter count (e.g. 3B) or pick a model.")
    return float(picked.parameters), picked


def build_job(fields: Fields) -> ModelJob | MeasuredJob:
    """The job the fields describe; InvalidInputError (naming the field) when one is wrong."""
    mode = str(fields.mode or "model").strip().lower()
    if mode.startswith("measured"):
        return MeasuredJob(
            seconds_per_batch=fields.seconds_per_batch,
            steps=_optional(fields.steps),
            examples=_optional(fields.examples),
            epochs=fields.epochs if _given(fields.epochs) else 1.0,
            batch_size=_int_field("batch_size", fields.batch_size, "Batch size")
            if _given(fields.batch_size)
            else None,
            gpu=str(fields.gpu or ""),
            precision=_alias("precision", fields.precision, PRECISION_ALIASES, "precision"),
            deadline_days=_optional(fields.deadline_days),
        )
    if not mode.startswith("model"):
        raise InvalidInputError("mode", f"Unknown mode {fields.mode!r}: use 'model' or 'measured'.")
    parameters, picked = model_size(fields)
    architecture = None
    if picked is not None and picked.architecture is not None:
        if abs(picked.parameters - parameters) <= SHAPE_MATCH_TOLERANCE * parameters:
            architecture = picked.architecture
    return ModelJob(
        parameters=parameters,
        epochs=fields.epochs,
        examples=_optional(fields.examples),
        tokens_per_example=_optional(fields.tokens_per_example),
        dataset_tokens=_optional(fields.dataset_tokens),
        sequence_length=_int_field("sequence_length", fields.sequence_length, "Sequence length"),
        batch_size=_int_field("batch_size", fields.batch_size, "Batch size"),
        method=_alias("method", fields.method, METHOD_ALIASES, "method"),
        precision=_alias("precision", fields.precision, PRECISION_ALIASES, "precision"),
        optimizer=_alias("optimizer", fields.optimizer, OPTIMIZER_ALIASES, "optimizer"),
        gradient_checkpointing=bool(fields.gradient_checkpointing),
        lora_rank=_int_field(
            "lora_rank", fields.lora_rank if _given(fields.lora_rank) else 16, "LoRA rank"
        ),
        gpu=str(fields.gpu or ""),
        mfu=_optional(fields.mfu),
        architecture=architecture,
        deadline_days=_optional(fields.deadline_days),
        model_name=picked.name if picked else "",
    )


def estimate_fields(fields: Fields) -> Estimate:
    """Build the job from ``fields`` and estimate it (InvalidInputError on a bad field)."""
    return estimate(build_job(fields))


# The friend's scenario of lesson 3: a 3B model, 50,000 examples, 5 epochs, no GPU, no budget,
# 10 days. The lesson gives no example length: 256 tokens is a typical short instruction/answer pair.
FRIEND_SCENARIO = Fields(
    mode="model",
    model="Llama-3.2-3B",
    parameters=None,
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
