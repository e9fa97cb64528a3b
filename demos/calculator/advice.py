"""Advice: the cheapest change that makes a job fit, and the cuts that make it finish in time.

Pure, no Gradio. Each change is applied to the job and the job is estimated again with the same
formulas (memory.py, compute.py), so every number the advice quotes is the calculator's own.
"""

from __future__ import annotations

import dataclasses
import math

from demos.calculator import tables
from demos.calculator.compute import hours_on
from demos.calculator.jobs import PRECISIONS, Architecture, Cut, Fix, ModelJob, architecture_of
from demos.calculator.memory import FITS_BELOW, memory_breakdown
from demos.calculator.plan import format_hours, quota_hours_within

# --- The cheapest change that makes a job fit ----------------------------------------------------
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


def _on(job: ModelJob, gpu: tables.GpuSpec) -> ModelJob:
    """The job as it would run on ``gpu`` (the per-card constants, e.g. its CUDA context, follow)."""
    return job if job.gpu == gpu.key else dataclasses.replace(job, gpu=gpu.key, mfu=None)


def cheapest_fix(
    job: ModelJob, gpu: tables.GpuSpec, arch: Architecture | None = None
) -> Fix | None:
    """The first change, in order of cost to the learner, after which ``job`` fits on ``gpu``.

    For each lever set (see TRAINING_LEVER_SETS) the largest micro-batch that fits is tried, halving
    down to 1 with gradient accumulation keeping the effective batch. None when nothing fits.
    """
    arch = arch or architecture_of(job)
    lever_sets = INFERENCE_LEVER_SETS if job.method == "inference" else TRAINING_LEVER_SETS
    for levers in lever_sets:
        candidate = _apply_levers(job, levers)
        if candidate is None:
            continue
        micro_batch = job.batch_size
        while micro_batch >= 1:
            trial = dataclasses.replace(candidate, batch_size=micro_batch)
            total = memory_breakdown(_on(trial, gpu), arch).total
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
                # Accumulation keeps the optimizer's steps: time them at the original batch.
                timed = dataclasses.replace(trial, batch_size=job.batch_size)
                hours, _, _ = hours_on(timed, gpu)
                return Fix(
                    changes=changes,
                    description=" + ".join(changes),
                    total_gib=total,
                    hours=hours,
                )
            micro_batch //= 2
    return None


# --- Cuts: less work, so it finishes in time -------------------------------------------------------
# A week of Kaggle's free quota is the goal when there is no deadline (lesson 3: more than that and the
# job is better paid for, or cut). Cuts are tried in order of how little they cost the result:
# padding (free), epochs (fine-tuning rarely needs many), a subset (start there anyway), a smaller
# model to iterate on, then LoRA for a full fine-tune.
SMALLER_MODEL_SHARE = 1 / 3


def goal_hours(job: ModelJob) -> tuple[float | None, str]:
    """(hours the job should fit in, and why) for the selected GPU; None when there is no goal."""
    kaggle = tables.platforms().get("kaggle_t4")
    on_free_t4 = job.gpu == "T4" and job.gpus == 1 and kaggle is not None
    if job.deadline_days is not None:
        wall = job.deadline_days * 24
        if on_free_t4:
            quota = quota_hours_within(kaggle, job.deadline_days) or wall
            return min(wall, quota), (
                f"Kaggle's free T4 quota before your {job.deadline_days:g}-day deadline "
                f"({min(wall, quota):g} h)"
            )
        return wall, f"your {job.deadline_days:g}-day deadline"
    if on_free_t4 and kaggle.weekly_quota_hours:
        return kaggle.weekly_quota_hours, (
            f"one week of Kaggle's free T4 quota ({kaggle.weekly_quota_hours:g} h)"
        )
    return None, ""


def _smaller_model(job: ModelJob) -> tuple[ModelJob, str] | None:
    """The closest built-in model of at most a third of the size, else the same shape at a third."""
    target = job.parameters * SMALLER_MODEL_SHARE
    from demos.calculator.model_size import from_table

    candidates = [
        spec
        for spec in tables.models().values()
        if spec.parameters <= target * 1.2 and spec.parameters >= target / 10
    ]
    if candidates:
        spec = max(candidates, key=lambda s: s.parameters)
        size = from_table(spec.key)
        same_kind = job.architecture is None or (size.architecture.kind == job.architecture.kind)
        if same_kind:
            return (
                dataclasses.replace(
                    job, parameters=size.parameters, architecture=size.architecture, mfu=None
                ),
                spec.name,
            )
    if job.parameters * SMALLER_MODEL_SHARE < 1e6:
        return None
    return (
        dataclasses.replace(job, parameters=target, architecture=None, mfu=None),
        f"a {target / 1e9:.2g}B model" if target >= 1e9 else f"a {target / 1e6:.0f}M model",
    )


def cuts(job: ModelJob, gpu: tables.GpuSpec, hours: float, goal: float | None) -> list[Cut]:
    """Each change that shrinks the work, alone, with its hours on ``gpu`` (same formulas)."""
    found: list[Cut] = []

    def add(name: str, change: str, new_job: ModelJob, note: str = "") -> None:
        new_hours, _, _ = hours_on(new_job, gpu)
        found.append(Cut(name, change, new_hours, new_hours / hours if hours else 1.0, note))

    if job.dataset_tokens is None and job.tokens_per_example is None:
        add(
            "no padding",
            "give the real average tokens per example: now every example counts as "
            f"{job.sequence_length} tokens (padding)",
            dataclasses.replace(job, tokens_per_example=job.sequence_length / 2),
            note="shown for examples half the sequence length",
        )
    if job.epochs > 1:
        fewer = max(1.0, math.floor(job.epochs * (goal / hours))) if goal else 1.0
        fewer = min(fewer, job.epochs - 1) if job.epochs >= 2 else 1.0
        add(
            "fewer epochs",
            f"{fewer:g} epoch{'s' if fewer != 1 else ''} instead of {job.epochs:g}",
            dataclasses.replace(job, epochs=fewer),
            note="fine-tuning often peaks after 1-3 epochs: watch the validation loss",
        )
    per = job.tokens_per_example or job.sequence_length
    if job.dataset_tokens is None and per > 64:
        shorter = max(32, int(per // 2))
        add(
            "shorter sequences",
            f"truncate examples to {shorter} tokens (from {per:g})",
            dataclasses.replace(
                job,
                tokens_per_example=shorter,
                sequence_length=max(shorter, min(job.sequence_length, shorter)),
            ),
            note="only if the end of an example is not where the answer is",
        )
    share = min(0.5, goal / hours) if goal and hours > goal else 0.25
    share = max(0.01, share)
    if job.examples is not None:
        smaller = max(1, math.floor(job.examples * share))
        add(
            "a subset",
            f"{smaller:,} of the {job.examples:,.0f} examples ({share:.0%})",
            dataclasses.replace(job, examples=smaller),
            note="validate the recipe on a subset first; add data only if it helps",
        )
    else:
        add(
            "a subset",
            f"{share:.0%} of the tokens",
            dataclasses.replace(job, dataset_tokens=job.dataset_tokens * share),
        )
    smaller_model = _smaller_model(job)
    if smaller_model is not None:
        new_job, name = smaller_model
        add(
            "a smaller model first",
            f"iterate on {name}, then run the full model once",
            new_job,
            note="debug and tune on the small one: its errors are the same",
        )
    if job.method == "full":
        add("LoRA", "LoRA instead of a full fine-tune", dataclasses.replace(job, method="lora"))
    if job.method in ("full", "lora") and job.precision != "fp32":
        add(
            "QLoRA",
            "QLoRA (4-bit base + LoRA)",
            dataclasses.replace(job, method="qlora", precision="mixed"),
            note="saves memory, not time: the 4-bit weights are unpacked at every step",
        )
    return found


def cut_plan(job: ModelJob, gpu: tables.GpuSpec, hours: float, goal: float | None, why: str) -> str:
    """A combination of the gentlest cuts that gets the job within ``goal`` hours, as one sentence."""
    if goal is None or hours <= goal:
        return ""
    current = job
    steps: list[str] = []
    if job.dataset_tokens is None and job.tokens_per_example is None:
        steps.append("first give the real tokens per example (padding counts as work)")
    current_hours = hours
    if current.epochs > 1:
        fewer = max(1.0, math.floor(current.epochs * goal / current_hours))
        fewer = min(fewer, current.epochs)
        if fewer < current.epochs:
            current = dataclasses.replace(current, epochs=fewer)
            current_hours, _, _ = hours_on(current, gpu)
            steps.append(f"{fewer:g} epoch{'s' if fewer != 1 else ''} instead of {job.epochs:g}")
    if current_hours > goal:
        share = goal / current_hours * 0.95
        if current.examples is not None:
            kept = max(1, math.floor(current.examples * share))
            current = dataclasses.replace(current, examples=kept)
            steps.append(f"{kept:,} of the {job.examples:,.0f} examples ({share:.0%})")
        else:
            current = dataclasses.replace(current, dataset_tokens=current.dataset_tokens * share)
            steps.append(f"{share:.0%} of the tokens")
        current_hours, _, _ = hours_on(current, gpu)
    if not steps:
        return ""
    return (
        f"To fit {why}: {' and '.join(steps)} brings it to about {format_hours(current_hours)} "
        f"on the {gpu.key} (from {format_hours(hours)}). Each cut alone is listed under "
        "'Cuts that shrink the work'."
    )
