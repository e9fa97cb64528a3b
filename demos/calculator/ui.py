"""The calculator's Gradio builder: widgets and wiring only; the arithmetic lives in estimate.py."""

from __future__ import annotations

import dataclasses

import gradio as gr
import pandas as pd

from demos.calculator import tables
from demos.calculator.estimate import InvalidInputError, format_hours
from demos.calculator.fields import FRIEND_SCENARIO, Fields, estimate_fields
from demos.calculator.model_size import ModelSizeError, resolve
from demos.calculator.report import (
    PLAN_COLUMNS,
    VERDICT_COLUMNS,
    hours_rows,
    memory_rows,
    plan_rows,
    summary_markdown,
    verdict_rows,
)
from demos.ui_common import event_api

# Order of the inputs of estimate(); the validator maps a field name back to its position.
INPUT_FIELDS = [f.name for f in dataclasses.fields(Fields)]


def estimate(
    mode: str = "model",
    model: str = "",
    parameters: str = "",
    examples: float | None = None,
    tokens_per_example: float | None = None,
    dataset_tokens: float | None = None,
    epochs: float | None = 1,
    sequence_length: float | None = 512,
    batch_size: float | None = 8,
    method: str = "lora",
    precision: str = "mixed",
    optimizer: str = "adamw",
    gradient_checkpointing: bool = False,
    lora_rank: float | None = 16,
    gpu: str = "T4",
    mfu: float | None = None,
    deadline_days: float | None = None,
    seconds_per_batch: float | None = None,
    steps: float | None = None,
) -> dict:
    """Estimate GPU hours, peak GPU memory and a plan per platform (Colab, Kaggle, Hugging Face Spaces, rented GPUs) for a training or inference job, with a verdict per GPU, the cheapest change that makes the job fit, and one recommendation.

    Args:
        mode: "model" to estimate from the model (parameters, data, method, precision), or "measured" to use lesson 3's arithmetic: steps x the seconds per batch you timed.
        model: optional model: a built-in key (e.g. "Llama-3.2-3B", "roberta-base", "gpt2"), a local folder with safetensors + config.json, or a Hugging Face Hub ID ("owner/name", read from the Hub's metadata when online). Gives the parameter count and the real layer shape.
        parameters: parameter count, e.g. "3B", "125M" or "3e9". Overrides the model's count; required when no model is given (mode "model").
        examples: number of training examples (or examples to run inference on). Use this or dataset_tokens.
        tokens_per_example: average tokens per example; empty means every example is padded to sequence_length.
        dataset_tokens: dataset size in tokens, instead of examples x tokens_per_example.
        epochs: passes over the data (default 1).
        sequence_length: maximum sequence length in tokens (default 512).
        batch_size: examples per batch (default 8); in "measured" mode, the batch size you timed.
        method: "inference", "full" (full fine-tune), "lora" or "qlora".
        precision: "fp32", "mixed" (fp16/bf16 mixed precision), "int8" or "4bit" (weights; 4-bit with LoRA is QLoRA).
        optimizer: "adamw", "adamw_8bit" or "sgd" (with momentum).
        gradient_checkpointing: recompute activations in the backward pass (less memory, about a third more time).
        lora_rank: LoRA rank r (default 16), adapters on the attention projections q, k, v, o.
        gpu: the GPU you plan to use: T4, P100, L4, A10G, A100-40GB, A100-80GB, H100, or CPU-2 (2 vCPU, no GPU).
        mfu: model FLOPs utilisation between 0.01 and 1; empty uses the GPU's default (e.g. 0.20 on a T4, 0.30 on an H100).
        deadline_days: optional days until the deadline; plans that cannot finish in time are flagged.
        seconds_per_batch: mode "measured" only: the seconds one batch (one optimizer step) took on `gpu`.
        steps: mode "measured" only: total steps; empty means ceil(examples / batch_size) x epochs.

    Returns:
        A JSON object: hours on the chosen GPU, tokens, FLOPs, the formula with the numbers in it, the memory breakdown in GiB, a verdict per GPU (fits / tight / does not fit, hours, cheapest fix), a plan per platform (sessions, checkpoints, weeks of quota, cost in dollars) and the recommendation with its reasons.
    """
    fields = Fields(**{name: value for name, value in locals().items() if name in INPUT_FIELDS})
    try:
        return estimate_fields(fields).to_dict()
    except InvalidInputError as error:
        raise gr.Error(f"{_label(error.field)}: {error}") from None


FIELD_LABELS = {
    "parameters": "Parameters",
    "model": "Model",
    "examples": "Examples",
    "tokens_per_example": "Tokens per example",
    "dataset_tokens": "Dataset tokens",
    "epochs": "Epochs",
    "sequence_length": "Sequence length",
    "batch_size": "Batch size",
    "lora_rank": "LoRA rank",
    "mfu": "MFU",
    "deadline_days": "Deadline",
    "seconds_per_batch": "Seconds per batch",
    "steps": "Steps",
    "gpu": "GPU",
    "method": "Method",
    "precision": "Precision",
    "optimizer": "Optimizer",
    "mode": "Way in",
}


def _label(field_name: str) -> str:
    return FIELD_LABELS.get(field_name, "Model")


def _field_of(error: InvalidInputError) -> str:
    """Errors about the model's shape belong to the model field."""
    return error.field if error.field in INPUT_FIELDS else "model"


def validate(*values):
    """One gr.validate per input: the message appears beside the field that is wrong."""
    fields = Fields(**dict(zip(INPUT_FIELDS, values, strict=True)))
    bad_field, message = None, ""
    try:
        estimate_fields(fields)
    except InvalidInputError as error:
        bad_field, message = _field_of(error), str(error)
    return [gr.validate(name != bad_field, message) for name in INPUT_FIELDS]


def render(*values):
    """All the views of the estimate for the page (the API returns the JSON instead)."""
    result = estimate_fields(Fields(**dict(zip(INPUT_FIELDS, values, strict=True))))
    verdicts = pd.DataFrame(verdict_rows(result), columns=VERDICT_COLUMNS)
    plans = pd.DataFrame(plan_rows(result), columns=PLAN_COLUMNS)
    hours = pd.DataFrame(
        hours_rows(result), columns=["platform", "hours", "cost ($, upper)", "kind"]
    )
    cost = hours[hours["cost ($, upper)"] > 0]
    memory = pd.DataFrame(memory_rows(result), columns=["bar", "part", "GiB"])
    return (
        summary_markdown(result),
        verdicts,
        plans,
        hours,
        cost,
        gr.update(value=memory, visible=not memory.empty),
    )


def read_model_size(model: str):
    """Fill the parameter count from a built-in model, a local folder or the Hub; say what happened."""
    try:
        size = resolve(model)
    except ModelSizeError as error:
        return gr.update(), f"⚠️ {error}"
    shape = ""
    if size.architecture is not None:
        a = size.architecture
        shape = f", {a.layers} layers of width {a.hidden}"
    return (
        f"{size.parameters / 1e9:.4g}B",
        f"✅ {size.name}: {size.parameters:,} parameters{shape} ({size.source}).",
    )


def model_picked(model: str):
    """A built-in model fills the parameter count at once (no network)."""
    if model in tables.models():
        return read_model_size(model)
    return gr.update(), ""


def gpu_picked(gpu: str):
    if gpu in tables.gpus():
        spec = tables.gpus()[gpu]
        return gr.update(
            info=f"Empty = this GPU's default, {spec.default_mfu:.2f} (lower for narrow models)."
        )
    return gr.update()


def mode_picked(mode: str):
    from_model = mode != "measured"
    return gr.update(visible=from_model), gr.update(visible=not from_model)


def friend_values():
    return [getattr(FRIEND_SCENARIO, name) for name in INPUT_FIELDS] + [
        gr.update(visible=True),
        gr.update(visible=False),
    ]


def build(expose_api: bool = True) -> None:
    """Create the calculator's components in the current Blocks context."""
    gpu_choices = [(spec.name, key) for key, spec in tables.gpus().items()]
    model_choices = [(spec.name, key) for key, spec in tables.models().items()]
    default_gpu = tables.gpus()["T4"]

    gr.Markdown(
        "## 🧮 Will it fit Colab, Kaggle, or does it need a paid GPU?\n"
        "Estimate before you spend: time from the model's FLOPs (or from a batch you timed), "
        "memory per part, a verdict per GPU and a plan per platform."
    )
    with gr.Row():
        with gr.Column(scale=2, min_width=340):
            friend = gr.Button("The friend's scenario (lesson 3)", variant="secondary")
            mode = gr.Radio(
                [("From the model", "model"), ("Measured (seconds per batch)", "measured")],
                value="model",
                label="Way in",
            )
            with gr.Group(visible=True) as model_group:
                model = gr.Dropdown(
                    model_choices,
                    value=None,
                    allow_custom_value=True,
                    label="Model: built-in, Hub ID (owner/name) or local folder",
                )
                with gr.Row():
                    parameters = gr.Textbox(
                        label="Parameters", placeholder="e.g. 3B, 125M, 3e9", scale=3
                    )
                    read_size = gr.Button("Read size", scale=1, size="sm")
                model_message = gr.Markdown()
                method = gr.Radio(
                    [
                        ("Inference", "inference"),
                        ("Full fine-tune", "full"),
                        ("LoRA", "lora"),
                        ("QLoRA", "qlora"),
                    ],
                    value="lora",
                    label="Method",
                )
                precision = gr.Radio(
                    [
                        ("fp32", "fp32"),
                        ("mixed fp16/bf16", "mixed"),
                        ("int8", "int8"),
                        ("4-bit", "4bit"),
                    ],
                    value="mixed",
                    label="Precision",
                )
                with gr.Row():
                    optimizer = gr.Dropdown(
                        [
                            ("AdamW", "adamw"),
                            ("8-bit AdamW", "adamw_8bit"),
                            ("SGD (momentum)", "sgd"),
                        ],
                        value="adamw",
                        label="Optimizer",
                    )
                    lora_rank = gr.Number(value=16, label="LoRA rank", precision=0)
                checkpointing = gr.Checkbox(value=False, label="Gradient checkpointing")
                with gr.Row():
                    tokens_per_example = gr.Number(value=None, label="Tokens per example (avg)")
                    dataset_tokens = gr.Number(value=None, label="or dataset tokens")
                sequence_length = gr.Number(value=512, label="Sequence length", precision=0)
                mfu = gr.Number(
                    value=None,
                    label="MFU (utilisation, 0-1)",
                    info=f"Empty = this GPU's default, {default_gpu.default_mfu:.2f} (lower for narrow models).",
                )
            with gr.Group(visible=False) as measured_group:
                with gr.Row():
                    seconds_per_batch = gr.Number(value=None, label="Seconds per batch (timed)")
                    steps = gr.Number(value=None, label="Steps (or leave empty)")
            with gr.Row():
                examples = gr.Number(value=None, label="Examples")
                epochs = gr.Number(value=1, label="Epochs")
                batch_size = gr.Number(value=8, label="Batch size", precision=0)
            with gr.Row():
                gpu = gr.Dropdown(gpu_choices, value="T4", label="GPU", allow_custom_value=True)
                deadline_days = gr.Number(value=None, label="Deadline (days, optional)")
            go = gr.Button("Estimate", variant="primary")
        with gr.Column(scale=3, min_width=420):
            summary = gr.Markdown(
                "Fill in the job, or try the friend's scenario, then press **Estimate**."
            )
            hours_plot = gr.BarPlot(
                x="platform",
                y="hours",
                color="kind",
                title="Hours per platform",
                height=280,
                x_label_angle=-30,
            )
            cost_plot = gr.BarPlot(
                x="platform",
                y="cost ($, upper)",
                title="Cost per paid platform (upper end of the range)",
                sort="y",
                height=260,
                x_label_angle=-30,
            )
            memory_plot = gr.BarPlot(
                x="bar",
                y="GiB",
                color="part",
                title="Memory: your job against each GPU",
                height=300,
            )
            verdicts = gr.Dataframe(
                headers=VERDICT_COLUMNS, label="Verdict per GPU", wrap=True, interactive=False
            )
            plans = gr.Dataframe(
                headers=PLAN_COLUMNS, label="Plan per platform", wrap=True, interactive=False
            )
            with gr.Accordion("The estimate as JSON (what the API returns)", open=False):
                raw = gr.JSON()
            gr.Markdown(
                "Sources and dates of every figure: `demos/calculator/data/*.yaml`. Prices and quotas "
                "change: check them before you rely on them."
            )

    inputs = [
        mode,
        model,
        parameters,
        examples,
        tokens_per_example,
        dataset_tokens,
        epochs,
        sequence_length,
        batch_size,
        method,
        precision,
        optimizer,
        checkpointing,
        lora_rank,
        gpu,
        mfu,
        deadline_days,
        seconds_per_batch,
        steps,
    ]
    assert len(inputs) == len(INPUT_FIELDS)
    views = [summary, verdicts, plans, hours_plot, cost_plot, memory_plot]

    mode.change(
        mode_picked,
        mode,
        [model_group, measured_group],
        **event_api("calculator_mode", expose_api, internal=True),
    )
    model.change(
        model_picked,
        model,
        [parameters, model_message],
        **event_api("calculator_model", expose_api, internal=True),
    )
    read_size.click(
        read_model_size,
        model,
        [parameters, model_message],
        **event_api("calculator_model_size", expose_api, internal=True),
    )
    gpu.change(gpu_picked, gpu, mfu, **event_api("calculator_gpu", expose_api, internal=True))

    go.click(
        estimate, inputs, raw, validator=validate, **event_api("estimate", expose_api)
    ).success(render, inputs, views, **event_api("calculator_render", expose_api, internal=True))
    friend.click(
        friend_values,
        None,
        inputs + [model_group, measured_group],
        **event_api("calculator_friend", expose_api, internal=True),
    ).then(
        estimate, inputs, raw, **event_api("calculator_friend_estimate", expose_api, internal=True)
    ).success(
        render, inputs, views, **event_api("calculator_friend_render", expose_api, internal=True)
    )


__all__ = ["build", "estimate", "format_hours"]
