"""GPU-hour and memory estimates for a training or inference job: the one entry point, no Gradio.

Two ways in:

* :class:`ModelJob` describes a job from the model: parameters, data, task, method, precision,
  GPU(s). Compute and time: compute.py; memory: memory.py; plans: plan.py; advice: advice.py.
* :class:`MeasuredJob` is lesson 3's arithmetic: steps x the seconds per batch the learner timed.

:func:`estimate` takes either and returns an :class:`Estimate`: hours and memory per GPU, a verdict
per GPU with the cheapest change that makes the job fit, a plan per platform, the cuts that shrink
the work when it is too long, and one recommendation.
"""

from __future__ import annotations

import dataclasses

from demos.calculator import tables
from demos.calculator.advice import (
    LEVER_LABELS,
    TRAINING_LEVER_SETS,
    cheapest_fix,
    cut_plan,
    cuts,
    goal_hours,
)
from demos.calculator.compute import (
    compute_parameters,
    compute_precision,
    dataset_tokens,
    default_mfu,
    flops_per_parameter_token,
    hours_on,
    method_efficiency,
    step_time,
    target_tokens,
    training_flops,
)
from demos.calculator.jobs import (
    GIB,
    Architecture,
    Estimate,
    Fix,
    GpuVerdict,
    InvalidInputError,
    MeasuredJob,
    MemoryBreakdown,
    ModelJob,
    PlatformPlan,
    Recommendation,
    architecture_of,
    infer_architecture,
    validate_measured_job,
    validate_model_job,
)
from demos.calculator.memory import (
    lora_adapter_parameters,
    matmul_parameters,
    memory_breakdown,
    verdict,
)
from demos.calculator.plan import format_hours, plan_platform, recommend

__all__ = [
    "GIB",
    "LEVER_LABELS",
    "TRAINING_LEVER_SETS",
    "Architecture",
    "Estimate",
    "Fix",
    "GpuVerdict",
    "InvalidInputError",
    "MeasuredJob",
    "MemoryBreakdown",
    "ModelJob",
    "PlatformPlan",
    "Recommendation",
    "cheapest_fix",
    "dataset_tokens",
    "default_mfu",
    "estimate",
    "flops_per_parameter_token",
    "format_hours",
    "infer_architecture",
    "lora_adapter_parameters",
    "memory_breakdown",
    "method_efficiency",
    "plan_platform",
    "recommend",
    "training_flops",
    "validate_model_job",
    "verdict",
]

TASK_LABELS = {
    "causal-lm": "causal language modelling (logits over the vocabulary at every position)",
    "masked-lm": "masked language modelling (logits over the vocabulary at every position)",
    "classification": "sequence classification (one small head, no vocabulary logits)",
    "seq2seq": "sequence to sequence (encoder over the input, decoder logits over the target)",
}


def _on(job: ModelJob, gpu: tables.GpuSpec) -> ModelJob:
    return job if job.gpu == gpu.key else dataclasses.replace(job, gpu=gpu.key)


def _formula(job: ModelJob, arch: Architecture, gpu: tables.GpuSpec, timing: dict) -> list[str]:
    k = flops_per_parameter_token(job)
    d = dataset_tokens(job)
    eta = method_efficiency(job)
    peak = gpu.peak_tflops[timing["precision"]]
    n_source, n_target = compute_parameters(job, arch)
    lines = []
    if job.dataset_tokens is not None:
        lines.append(f"D = {d:,.0f} tokens per epoch")
    else:
        per = min(job.tokens_per_example or job.sequence_length, job.sequence_length)
        lines.append(
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
    lines.append(f"k = {why_k}")
    n_note = ""
    if abs(n_source + n_target - job.parameters) > 0.005 * job.parameters:
        n_note = f" (of {job.parameters:.3g}: the input embedding is a lookup, not a multiply)"
    flops = training_flops(job, arch)
    if n_target:
        t = target_tokens(job)
        lines.append(
            f"C = k x (N_enc x D + N_dec x D_target) x epochs + attention = {k:g} x ({n_source:.3g} x {d:.3g} "
            f"+ {n_target:.3g} x {t:.3g}) x {job.epochs:g} + attention = {flops:.3g} FLOPs"
        )
    else:
        lines.append(
            f"C = k x N x D x epochs + attention = {k:g} x {n_source:.3g}{n_note} x {d:.3g} x {job.epochs:g} "
            f"+ attention = {flops:.3g} FLOPs"
        )
    per_gpu = f" per GPU, {job.gpus} GPUs" if job.gpus > 1 else ""
    lines.append(
        f"compute per step = C / steps / (peak x MFU x eta) = {timing['compute']:.3g} s{per_gpu} "
        f"({peak:g}e12 x {timing['mfu']:.2f} x {eta:.2f}, {timing['precision']})"
    )
    if timing["bound"] == "host":
        lines.append(
            f"host floor per step = {timing['host']:.3g} s: the GPU waits for Python to launch "
            "the kernels (small model): the step takes the host's time"
        )
    if job.gpus > 1:
        lines.append(
            f"communication per step = {timing['communication']:.3g} s ({job.parallelism}), "
            f"{timing['exposed_communication']:.3g} s of it not hidden behind compute"
        )
    hours = timing["steps"] * timing["seconds"] / 3600
    lines.append(
        f"time = {timing['steps']:,.0f} steps x {timing['seconds']:.3g} s = {hours * 3600:,.0f} s "
        f"= {format_hours(hours)} on {job.gpus} x {gpu.key}"
        if job.gpus > 1
        else f"time = {timing['steps']:,.0f} steps x {timing['seconds']:.3g} s = {hours * 3600:,.0f} s "
        f"= {format_hours(hours)} on the {gpu.key}"
    )
    return lines


def estimate(job: ModelJob | MeasuredJob) -> Estimate:
    """Estimate time, memory, per-GPU verdicts, per-platform plans, cuts and a recommendation for ``job``.

    Raises InvalidInputError (a ValueError naming the input) for zero, negative, NaN, absurd,
    non-numeric or unknown inputs; never returns a number computed from them.
    """
    if isinstance(job, MeasuredJob):
        return _estimate_measured(validate_measured_job(job))
    if not isinstance(job, ModelJob):
        raise TypeError("estimate() takes a ModelJob or a MeasuredJob")
    job = validate_model_job(job)
    arch = architecture_of(job)
    notes: list[str] = []
    selected = tables.gpu(job.gpu)
    if job.precision == "mixed" and not selected.has_bf16 and selected.peak_tflops.get("fp16"):
        notes.append(
            f"The {selected.key} has no bfloat16: mixed precision means fp16 there (with loss scaling)."
        )
    if selected.status:
        notes.append(f"{selected.key}: {selected.status}")
    if arch.inferred:
        notes.append(
            f"Shape inferred from the parameter count (about {arch.layers} layers of width {arch.hidden}); "
            "pick a built-in model or a Hub ID for its real shape."
        )
    notes.append(f"Task: {TASK_LABELS[job.task]}.")
    if job.method == "inference":
        notes.append(
            "Inference time assumes batched forward passes (scoring, classification, prompt processing); "
            "token-by-token generation at small batch is limited by memory bandwidth and is slower."
        )
    if arch.recipe == "t5" and job.method != "inference":
        notes.append(
            "Encoder-decoder activations are counted from T5's code, not yet checked on a GPU."
        )

    verdicts: list[GpuVerdict] = []
    for gpu in tables.gpus().values():
        on_gpu = _on(job, gpu)
        memory = memory_breakdown(on_gpu, arch)
        hours, mfu, _ = hours_on(job, gpu)
        fit = verdict(memory.total, gpu.usable_gib)
        fix = cheapest_fix(on_gpu, gpu, arch) if fit != "fits" else None
        verdicts.append(
            GpuVerdict(
                gpu.key, gpu.name, gpu.usable_gib, memory.total, fit, hours, mfu, fix, gpu.status
            )
        )
    by_gpu = {v.gpu: v for v in verdicts}

    timing = step_time(job, selected)
    hours = timing["steps"] * timing["seconds"] / 3600
    goal, why = goal_hours(job)
    the_cuts = cuts(job, selected, hours, goal) if goal is not None and hours > goal else []
    plan_text = cut_plan(job, selected, hours, goal, why)

    plans = []
    for platform in tables.platforms().values():
        v = by_gpu[platform.gpu]
        if v.verdict == "does not fit" and v.fix is not None:
            plans.append(
                plan_platform(
                    platform,
                    v.fix.hours,
                    "fits",
                    job.deadline_days,
                    uses_fix=v.fix.description,
                    gpus=job.gpus,
                )
            )
        else:
            plans.append(
                plan_platform(platform, v.hours, v.verdict, job.deadline_days, gpus=job.gpus)
            )
        if platform.gpu.startswith("CPU") and job.method != "inference":
            plans[-1].plan = (
                "No GPU: for demos and small inference, not training. " + plans[-1].plan
            )
    memory = memory_breakdown(job, arch)
    if timing["bound"] == "host":
        notes.append(
            "Small model: the GPU finishes each step's kernels faster than Python launches them, "
            "so the time is the host's, not the FLOPs' (a bigger batch costs almost nothing more)."
        )
    if memory.cuda_context / max(memory.total, 1e-9) > 0.3:
        notes.append(
            f"Most of the memory is fixed overhead: the CUDA context takes {memory.cuda_context:.2f} GiB "
            "before the first tensor."
        )
    return Estimate(
        mode="model",
        gpu=selected.key,
        hours=hours,
        tokens=(dataset_tokens(job) + target_tokens(job)) * job.epochs,
        flops=training_flops(job, arch),
        formula=_formula(job, arch, selected, timing),
        memory=memory,
        verdicts=verdicts,
        plans=plans,
        recommendation=recommend(plans, job.deadline_days, job.method, plan_text, job.gpus),
        notes=notes,
        assumptions={
            "architecture": dataclasses.asdict(arch),
            "task": job.task,
            "mfu": timing["mfu"],
            "method_efficiency": method_efficiency(job),
            "flops_per_parameter_token": flops_per_parameter_token(job),
            "multiplying_parameters": matmul_parameters(job, arch),
            "compute_precision": timing["precision"],
            "seconds_per_step": timing["seconds"],
            "steps": timing["steps"],
            "bound_by": timing["bound"],
            "communication_seconds_per_step": timing["communication"],
            "lora_adapter_parameters": lora_adapter_parameters(arch, job.lora_rank)
            if job.method in ("lora", "qlora")
            else 0,
            "model_name": job.model_name,
            "peak_at": memory.peak_at,
        },
        gpus=job.gpus,
        cuts=the_cuts,
        cut_plan=plan_text,
    )


def measured_steps(job: MeasuredJob) -> float:
    """Steps of a measured job: as given, or ceil(examples / batch) x epochs."""
    import math

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
        if gpu.key == timed_on.key or gpu.usable_gib >= timed_on.usable_gib:
            fit = "fits"
        else:
            fit = "unknown"
        verdicts.append(
            GpuVerdict(
                gpu.key,
                gpu.name,
                gpu.usable_gib,
                None,
                fit,
                gpu_hours,
                gpu.default_mfu,
                None,
                gpu.status,
            )
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
        f"{steps * job.seconds_per_batch:,.0f} s = {format_hours(hours)} on the {timed_on.key}",
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
