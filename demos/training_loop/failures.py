"""What each failure looks like and how to fix it: texts from ``failures.yaml``, numbers from the run."""

from __future__ import annotations

import functools
from pathlib import Path

from demos import yaml_io
from demos.training_loop.loop_config import ALL_FAILURES, LR_FIXED, LoopConfig
from demos.training_loop.runner import Outcome

FAILURES_FILE = Path(__file__).with_name("failures.yaml")


@functools.cache
def failure_texts() -> dict:
    """The parsed ``failures.yaml`` (read once)."""
    return yaml_io.safe_load(FAILURES_FILE.read_text(encoding="utf-8"))


def failure_choices() -> list[tuple[str, str]]:
    """(label, id) pairs for the "Break it" switches, in the lab's order."""
    texts = failure_texts()
    return [(texts[f]["label"], f) for f in ALL_FAILURES]


def problems_of(cfg: LoopConfig, outcome: Outcome) -> tuple[str, ...]:
    """The failures a run showed: the injected ones, plus ``lr_too_high`` when the loss went to
    inf/NaN, or ended above where it started (unless missing zero_grad() explains that)."""
    found = list(cfg.failures)
    rose = outcome.loss_rose and "forget_zero_grad" not in cfg.failures
    if outcome.status == "diverged" or rose:
        found.append("lr_too_high")
    return tuple(f for f in ALL_FAILURES if f in found)


def fixed_settings(problems: tuple[str, ...], learning_rate: float) -> dict:
    """The settings the "Fix it" button applies: failures off and, if the loss blew up, clipping
    on and a rate at least ten times lower (at most the rate known to work with SGD here)."""
    settings: dict = {"failures": []}
    if "lr_too_high" in problems:
        safe_rate = min(float(learning_rate) / 10, LR_FIXED["learning_rate"])
        settings.update(LR_FIXED, learning_rate=float(f"{safe_rate:.3g}"))
    return settings


def _quote(text: str) -> str:
    """An error message as a quoted block that wraps on narrow screens."""
    return "> `" + " ".join(text.split()).replace("`", "'") + "`"


def summary_line(cfg: LoopConfig, outcome: Outcome) -> str:
    """One line: what ran, where, how long, and the loss from first to last step."""
    where = f"on `{outcome.device}` in {outcome.seconds:.1f} s"
    if outcome.status == "crashed":
        return f"**Crashed** at the first steps {where}."
    losses = ""
    if outcome.first_loss is not None and outcome.final_loss is not None:
        losses = f"; loss {outcome.first_loss:.4g} → {outcome.final_loss:.4g}"
    accuracy = f"; accuracy {outcome.accuracy:.0%}" if outcome.accuracy is not None else ""
    verb = {
        "finished": "Finished",
        "diverged": "**Diverged**: stopped after",
        "time_limit": "**Time limit**: stopped after",
        "stopped": "**Stopped by you** after",
    }.get(outcome.status, outcome.status)
    return f"{verb} {outcome.steps_done} of {cfg.steps} steps {where}{losses}{accuracy}."


def _numbers(cfg: LoopConfig, outcome: Outcome, max_seconds: float) -> dict:
    first_norm = outcome.first_grad_norm or 0.0
    last_norm = outcome.last_grad_norm or 0.0
    frozen = [outcome.weight_change.get(name, 0.0) for name in outcome.frozen_parameters]
    others = [
        v for name, v in outcome.weight_change.items() if name not in outcome.frozen_parameters
    ]
    return {
        "first_grad_norm": first_norm,
        "last_grad_norm": last_norm,
        "grad_growth": last_norm / first_norm if first_norm else float("nan"),
        "first_loss": outcome.first_loss if outcome.first_loss is not None else float("nan"),
        "final_loss": outcome.final_loss if outcome.final_loss is not None else float("nan"),
        "diverged_at": outcome.diverged_at,
        "fixed_lr": LR_FIXED["learning_rate"],
        "frozen_change": max(frozen, default=0.0),
        "other_change": max(others, default=0.0),
        "steps_done": outcome.steps_done,
        "max_seconds": max_seconds,
    }


def explain_outcome(cfg: LoopConfig, outcome: Outcome, *, max_seconds: float) -> str:
    """Markdown for the status panel: the summary, then for each problem its symptom, why, fix."""
    texts = failure_texts()
    numbers = _numbers(cfg, outcome, max_seconds)
    blocks = [summary_line(cfg, outcome)]
    if outcome.status == "time_limit":
        blocks.append(texts["time_limit"].format(**numbers))
    for problem in problems_of(cfg, outcome):
        text = texts[problem]
        if problem == "lr_too_high":
            if outcome.status != "diverged":
                text = {**text, "symptom": text["symptom_rose"]}
            if cfg.learning_rate <= LR_FIXED["learning_rate"]:
                # A rate this low is rarely the cause: give the other usual suspects.
                text = {**text, **texts["unstable_other"]}
        lines = [f"**{text['label']}**"]
        if problem == "device_mismatch":
            if outcome.status == "crashed" and outcome.error:
                lines += [text["symptom_crashed"], _quote(outcome.error)]
            else:
                lines += [
                    text["symptom_no_gpu"],
                    _quote(outcome.device_error_demo or ""),
                ]
                lines += [text["gpu_message_note"], _quote(text["gpu_message"])]
        elif problem == "forget_zero_grad" and cfg.clip_grad:
            lines.append("Symptom: " + text["symptom_clipped"].format(**numbers))
        else:
            lines.append("Symptom: " + text["symptom"].format(**numbers))
        lines.append("Why: " + text["why"])
        lines.append("Fix: " + text["fix"].format(**numbers))
        blocks.append("\n\n".join(lines))
    if outcome.status == "crashed" and "device_mismatch" not in cfg.failures and outcome.error:
        blocks.append(_quote(outcome.error))
    return "\n\n".join(blocks)


def describe_switches(selected: list[str] | tuple[str, ...]) -> str:
    """Markdown shown beside the switches before a run: what each ticked failure will do."""
    texts = failure_texts()
    if not selected:
        return ""
    return "\n\n".join(
        f"**{texts[f]['label']}**: {texts[f]['why']}" for f in ALL_FAILURES if f in selected
    )
