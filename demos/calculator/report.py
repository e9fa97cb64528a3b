"""An Estimate as rows, Markdown and plain text, for the UI, the API and the command line (no Gradio)."""

from __future__ import annotations

from demos.calculator import tables
from demos.calculator.estimate import Estimate, format_hours
from demos.calculator.jobs import PlatformPlan

VERDICT_MARK = {
    "fits": "✅ fits",
    "tight": "⚠️ tight",
    "does not fit": "❌ does not fit",
    "unknown": "❔ unknown",
}
# The verdict comes first: on a phone the first columns are the ones in view.
VERDICT_COLUMNS = [
    "verdict",
    "GPU",
    "time",
    "needs (GiB)",
    "has (GiB)",
    "cheapest change that makes it fit",
]
PLAN_COLUMNS = ["platform", "verdict", "time", "cost ($)", "plan", "GPU", "source, as of"]
CUT_COLUMNS = ["cut", "change", "time", "x time", "why or when"]


def verdict_rows(result: Estimate) -> list[list]:
    rows = []
    for v in result.verdicts:
        if v.verdict == "fits":
            change = "—"
        elif v.fix is not None:
            change = f"{v.fix.description} → {v.fix.total_gib:.1f} GiB, {format_hours(v.fix.hours)}"
        elif v.verdict == "unknown":
            change = "check it fits"
        else:
            change = "nothing in reach: a smaller model or several GPUs"
        if v.note:
            change = f"{change} ⚠️ {v.note}" if change != "—" else f"⚠️ {v.note}"
        rows.append(
            [
                VERDICT_MARK[v.verdict],
                v.gpu_name,
                format_hours(v.hours),
                "—" if v.total_gib is None else round(v.total_gib, 1),
                round(v.usable_gib, 1),
                change,
            ]
        )
    return rows


def _plan_mark(p: PlatformPlan) -> str:
    if p.verdict == "does not fit":
        return VERDICT_MARK["does not fit"]
    if p.within_deadline is False:
        return "❌ too late"
    if p.verdict == "unknown":
        return VERDICT_MARK["unknown"]
    if tables.gpus().get(p.gpu) is not None and tables.gpus()[p.gpu].status:
        return "⚠️ see plan"
    if p.uses_fix:
        return "✅ with a change"
    return VERDICT_MARK.get(p.verdict, p.verdict)


def _cost(low: float, high: float) -> str:
    if high == 0:
        return "free"
    if round(low, 2) == round(high, 2):
        return f"{low:,.2f}"
    return f"{low:,.2f}-{high:,.2f}"


def plan_rows(result: Estimate) -> list[list]:
    platforms = tables.platforms()
    rows = []
    for p in result.plans:
        platform = platforms[p.platform]
        rows.append(
            [
                p.name,
                _plan_mark(p),
                "—" if p.verdict == "does not fit" else format_hours(p.hours),
                "—" if p.verdict == "does not fit" else _cost(p.cost_low, p.cost_high),
                p.plan,
                p.gpu,
                f"{platform.source.split(' ')[0]} ({platform.as_of})",
            ]
        )
    return rows


def cut_rows(result: Estimate) -> list[list]:
    """Each cut that shrinks the work, alone, with its time on the chosen GPU."""
    return [
        [c.name, c.change, format_hours(c.hours), f"x{c.factor:.2f}", c.note] for c in result.cuts
    ]


def hours_rows(result: Estimate) -> list[dict]:
    """Hours and cost per platform (long format for a bar chart); platforms the job cannot run on are left out.

    The CPU-only Space is left out of training jobs: its thousands of hours would flatten every other bar.
    """
    inference = result.assumptions.get("flops_per_parameter_token") == 2.0
    rows = []
    for p in result.plans:
        if p.verdict == "does not fit" or (p.gpu == "CPU-2" and not inference):
            continue
        if p.days_of_quota is not None and not inference:
            continue  # quota by the minute: not a training platform
        rows.append(
            {
                "platform": p.name,
                "hours": round(p.hours, 3),
                "cost ($, upper)": round(p.cost_high, 2),
                "kind": "free" if p.cost_high == 0 else "paid",
            }
        )
    return rows


def memory_rows(result: Estimate) -> list[dict]:
    """The job's memory by part, then each GPU's usable memory, as stacked-bar rows."""
    if result.memory is None:
        return []
    rows = [
        {"bar": "your job", "part": part, "GiB": round(gib, 3)}
        for part, gib in result.memory.parts().items()
        if gib > 0
    ]
    for gpu in tables.gpus().values():
        rows.append({"bar": gpu.key, "part": "GPU memory available", "GiB": gpu.usable_gib})
    return rows


def verdict_markdown(result: Estimate) -> str:
    """The answer in a few lines: the recommendation, the time and the memory verdict on the chosen GPU."""
    lines = [f"### {result.recommendation.headline}", ""]
    where = f"{result.gpus} x {result.gpu}" if result.gpus > 1 else f"the {result.gpu}"
    line = f"**On {where}: {format_hours(result.hours)}**"
    if result.gpus > 1:
        line += f" ({format_hours(result.gpu_hours)} of GPU time)"
    if result.memory is not None:
        verdict = result.verdict_for(result.gpu)
        per = " per GPU" if result.gpus > 1 else ""
        line += (
            f" · **memory {result.memory.total:.1f} GiB{per} of {verdict.usable_gib:.1f} GiB: "
            f"{VERDICT_MARK[verdict.verdict]}**"
        )
        if verdict.fix is not None:
            line += (
                f"  \nCheapest change that makes it fit: **{verdict.fix.description}** "
                f"({verdict.fix.total_gib:.1f} GiB, {format_hours(verdict.fix.hours)})."
            )
    lines.append(line)
    return "\n".join(lines)


def details_markdown(result: Estimate) -> str:
    """Why: the recommendation's reasons, the cuts, the formula with the numbers, memory and notes."""
    lines = [f"- {reason}" for reason in result.recommendation.reasons]
    if result.cuts:
        lines += ["", f"**Cuts that shrink the work** (each alone, on the {result.gpu}):", ""]
        lines += [
            f"- {c.name}: {c.change} → {format_hours(c.hours)} (x{c.factor:.2f})"
            + (f"; {c.note}" if c.note else "")
            for c in result.cuts
        ]
    lines += ["", "**How it is computed**", "", "```text", *result.formula, "```"]
    if result.memory is not None:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in result.memory.parts().items() if v > 0.005)
        lines += [
            "",
            f"Memory (GiB, at its peak {result.memory.peak_at}): {parts}; "
            f"total {result.memory.total:.2f}.",
        ]
    if result.notes:
        lines += [""] + [f"> {note}" for note in result.notes]
    return "\n".join(lines)


def summary_markdown(result: Estimate) -> str:
    """The verdict, then the details (one Markdown block)."""
    return verdict_markdown(result) + "\n\n" + details_markdown(result)


def text_report(result: Estimate) -> str:
    """Plain-text tables for a terminal."""

    def table(columns: list[str], rows: list[list]) -> list[str]:
        cells = [[str(c) for c in columns]] + [[str(c) for c in row] for row in rows]
        widths = [min(60, max(len(r[i]) for r in cells)) for i in range(len(columns))]
        out = []
        for n, row in enumerate(cells):
            out.append(
                "  ".join(c[: widths[i]].ljust(widths[i]) for i, c in enumerate(row)).rstrip()
            )
            if n == 0:
                out.append("  ".join("-" * w for w in widths))
        return out

    lines = [result.recommendation.headline, ""]
    lines += [f"- {r}" for r in result.recommendation.reasons]
    lines += ["", "Formula:"] + [f"  {f}" for f in result.formula]
    if result.memory is not None:
        lines += ["", "Memory (GiB):"]
        lines += [f"  {k:32s} {v:8.2f}" for k, v in result.memory.parts().items()]
        lines += [f"  {'total':32s} {result.memory.total:8.2f}  (peak {result.memory.peak_at})"]
    lines += ["", "Per GPU:"] + table(VERDICT_COLUMNS, verdict_rows(result))
    plan_columns = PLAN_COLUMNS[:5]
    lines += ["", "Per platform:"] + table(plan_columns, [row[:5] for row in plan_rows(result)])
    if result.cuts:
        lines += ["", "Cuts that shrink the work:"] + table(CUT_COLUMNS, cut_rows(result))
        if result.cut_plan:
            lines += ["", result.cut_plan]
    if result.notes:
        lines += [""] + [f"Note: {n}" for n in result.notes]
    return "\n".join(lines)
