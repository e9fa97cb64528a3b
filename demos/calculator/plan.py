"""Plans per platform (sessions, quota, dollars) and the one recommendation. Pure, no Gradio.

The rules are lesson 3's: one clean Colab session if the job fits in it; Kaggle when it outlasts a
session but fits the weekly quota before the deadline; otherwise the cheapest paid GPU that fits.
Every figure about a platform comes from platforms.yaml (sourced and dated there).
"""

from __future__ import annotations

import math

from demos.calculator import tables
from demos.calculator.jobs import PlatformPlan, Recommendation

# Restarting a session (load the checkpoint, warm up) costs time too: half an hour per restart.
RESTART_HOURS = 0.5


def format_hours(hours: float) -> str:
    """Hours for people: seconds, minutes, hours or days."""
    if hours < 1 / 60:
        return f"{hours * 3600:.0f} s"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 100:
        return f"{hours:.1f} h"
    return f"{hours:,.0f} h"


_h = format_hours


def quota_hours_within(platform: tables.Platform, deadline_days: float | None) -> float | None:
    """GPU hours a weekly quota gives before the deadline (quotas reset weekly: 10 days = 2 quotas)."""
    if platform.weekly_quota_hours is None:
        return None
    weeks = 1 if deadline_days is None else max(1, math.ceil(deadline_days / 7))
    return weeks * platform.weekly_quota_hours


def gpu_warning(gpu_key: str) -> str:
    """A card's known problem on its platforms (gpus.yaml `status`), or ""."""
    spec = tables.gpus().get(gpu_key)
    return spec.status if spec is not None else ""


def plan_platform(
    platform: tables.Platform,
    hours: float,
    fit: str,
    deadline_days: float | None,
    uses_fix: str | None = None,
    gpus: int = 1,
) -> PlatformPlan:
    """One platform's plan: one session, N sessions with checkpoints, quota, or dollars."""
    low, high = platform.price_per_hour
    cost_low, cost_high = hours * low * gpus, hours * high * gpus
    sessions = None
    checkpoint = None
    weeks = None
    days = None
    within = None if deadline_days is None else True
    parts: list[str] = []

    def plan(verdict: str, text: str) -> PlatformPlan:
        return PlatformPlan(
            platform.key,
            platform.name,
            platform.gpu,
            verdict,
            hours,
            None,
            None,
            None,
            cost_low,
            cost_high,
            False if deadline_days is not None else None,
            text,
            uses_fix,
        )

    if gpus > platform.max_gpus:
        return plan(
            "does not fit",
            f"Offers at most {platform.max_gpus} GPU{'s' if platform.max_gpus > 1 else ''} "
            f"at once; the job uses {gpus}.",
        )
    if fit == "does not fit":
        return plan(fit, "Does not fit in this GPU's memory.")
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
        available = quota_hours_within(platform, deadline_days)
        if deadline_days is not None and available is not None and hours > available:
            within = False
    if platform.daily_quota_minutes:
        free = platform.daily_quota_minutes.get("free")
        pro = platform.daily_quota_minutes.get("pro")
        days = hours * 60 / free if free else None
        call = f"calls of up to {platform.call_seconds:g} s" if platform.call_seconds else "calls"
        quota = f"{free:g} min a day on a free account" + (f", {pro:g} on PRO" if pro else "")
        if days is not None and days <= 1:
            parts.append(f"{_h(hours)} fits one day's quota ({quota}), in {call}")
        else:
            pro_days = f" ({hours * 60 / pro:,.0f} on PRO)" if pro else ""
            parts.append(
                f"needs {days:,.0f} days of quota{pro_days}: {quota}, in {call}; "
                "made for demos, not training runs"
            )
        if deadline_days is not None and days is not None and days > deadline_days:
            within = False
    if platform.kind == "paid_hourly":
        per = f"{gpus} x " if gpus > 1 else ""
        if high == 0:
            parts.append(f"{_h(hours)}, free")
        elif low == high:
            parts.append(f"{_h(hours)} at {per}${low:.2f}/h = ${cost_low:,.2f}")
        else:
            parts.append(
                f"{_h(hours)} at {per}${low:.2f}-{high:.2f}/h = ${cost_low:,.2f}-{cost_high:,.2f}"
            )
        if hours > 24:
            checkpoint = platform.checkpoint_every_minutes
    if deadline_days is not None:
        wall_hours = hours
        if platform.session_hours and sessions and sessions > 1:
            wall_hours = hours + (sessions - 1) * RESTART_HOURS
        if wall_hours > deadline_days * 24:
            within = False
    if fit == "tight":
        parts.append("memory is tight: expect to lower the batch size")
    if uses_fix:
        parts.insert(0, f"with {uses_fix}")
    warning = gpu_warning(platform.gpu)
    if warning:
        parts.insert(0, warning.rstrip("."))
    text = "; ".join(parts) + "."
    text = text[0].upper() + text[1:]
    result = PlatformPlan(
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
        text,
        uses_fix,
        days,
    )
    return result


def recommend(
    plans: list[PlatformPlan],
    deadline_days: float | None,
    method: str,
    cut_plan: str = "",
    gpus: int = 1,
) -> Recommendation:
    """Lesson 3's rule: one clean Colab session if the job fits in it; Kaggle when it outlasts a
    session but fits the weekly quota (before the deadline); otherwise the cheapest paid GPU that fits.
    A card with a known problem (gpus.yaml `status`) and quota-by-the-minute platforms are never
    recommended for training.
    """
    by_key = {p.platform: p for p in plans}
    usable = [
        p
        for p in plans
        if p.verdict in ("fits", "tight")
        and p.within_deadline is not False
        and not gpu_warning(p.gpu)
        and p.days_of_quota is None
    ]
    colab = by_key.get("colab_free")
    kaggle = by_key.get("kaggle_t4")

    def fix_note(plan: PlatformPlan) -> list[str]:
        return [f"First make it fit on the {plan.gpu}: {plan.uses_fix}."] if plan.uses_fix else []

    cut_reason = [cut_plan] if cut_plan else []
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
        budget = quota_hours_within(kaggle_platform, deadline_days) or 0
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
            if weeks > 1:
                reasons += cut_reason
            headline = (
                f"Kaggle (free T4): {kaggle.sessions} session(s), about {_h(kaggle.hours)} of GPU time"
                + (f" over {weeks} weeks of quota." if weeks > 1 else ".")
            )
            return Recommendation("kaggle_t4", headline, reasons)
    paid = [p for p in usable if p.cost_high > 0]
    if paid:
        best = min(paid, key=lambda p: ((p.cost_low + p.cost_high) / 2, p.hours))
        name = f"{gpus} x {best.name}" if gpus > 1 else best.name
        free_reason = "It does not fit the free tiers" + (
            " before your deadline."
            if deadline_days
            else " (memory, one session or the weekly quota)."
        )
        reasons = [
            free_reason,
            f"Cheapest GPU that fits: {name}, {_h(best.hours)} for about "
            f"${best.cost_low:,.0f}-{best.cost_high:,.0f} (prices move: check the provider).",
            "Test the script on a free tier first for a few minutes, so the paid hours are spent on the run, not on debugging.",
        ]
        reasons += fix_note(best) + cut_reason
        return Recommendation(
            best.platform,
            f"Pay for {name}: about ${best.cost_low:,.0f}-{best.cost_high:,.0f}.",
            reasons,
        )
    reasons = [
        "No GPU in the tables fits this job, even after the changes the calculator knows, "
        "or none finishes before the deadline.",
    ] + (
        cut_reason
        or [
            "Shrink the job (a smaller model, QLoRA, fewer tokens or epochs) or split it over several GPUs."
        ]
    )
    return Recommendation(None, "Does not fit any GPU as described.", reasons)
