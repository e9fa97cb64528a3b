"""An Estimate as rows, Markdown and plain text, for the UI, the API and the command line (no Gradio)."""

from __future__ import annotations

from demos.calculator import tables
from demos.calculator.estimate import Estimate, format_hours

VERDICT_MARK = {
    "fits": "✅ fits",
    "tight": "⚠️ tight",
    "does not fit": "❌ does not fit",
    "unknown": "❔ unknown",
}
VERDICT_COLUMNS = [
    "GPU",
    "needs (GiB)",
    "has (GiB)",
    "verdict",
    "time",
    "cheapest change that makes it fit",
]
PLAN_COLUMNS = ["platform", "GPU", "time", "cost ($)", "plan", "source, as of"]


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
        rows.append(
            [
                v.gpu_name,
                "—" if v.total_gib is None else round(v.total_gib, 1),
                round(v.usable_gib, 1),
                VERDICT_MARK[v.verdict],
                format_hours(v.hours),
                change,
            ]
        )
    return rows


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
                p.gpu,
                "—" if p.verdict == "does not fit" else format_hours(p.hours),
                "—" if p.verdict == "does not fit" else _cost(p.cost_low, p.cost_high),
                p.plan,
                f"{platform.source.split(' ')[0]} ({platform.as_of})",
            ]
        )
    return rows


def hours_rows(result: Estimate) -> list[dict]:
    """Hours and cost per platform (long format for a bar chart); platforms the job cannot run on are left out.

    The CPU-only Space is left out of training jobs: its thousands of hours would flatten every other bar.
    """
    inference = result.assumptions.get("flops_per_parameter_token") == 2.0
    rows = []
    for p in result.plans:
        if p.verdict == "does not fit" or (p.gpu == "CPU-2" and not inference):
            continue
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


def summary_markdown(result: Estimate) -> str:
    """Headline, recommendation and why, the formula with the numbers, and notes."""
    lines = [f"### {result.recommendation.headline}", ""]
    lines += [f"- {reason}" for reason in result.recommendation.reasons]
    lines += ["", f"**On the {result.gpu}: {format_hours(result.hours)}**"]
    if result.memory is not None:
        verdict = result.verdict_for(result.gpu)
        lines[-1] += (
            f" · **memory {result.memory.total:.1f} GiB of {verdict.usable_gib:.1f} GiB: {VERDICT_MARK[verdict.verdict]}**"
        )
        if verdict.fix is not None:
            lines += [
                "",
                f"Cheapest change that makes it fit on the {result.gpu}: **{verdict.fix.description}** "
                f"({verdict.fix.total_gib:.1f} GiB, {format_hours(verdict.fix.hours)}).",
            ]
    lines += ["", "**How it is computed**", "", "```text", *result.formula, "```"]
    if result.memory is not None:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in result.memory.parts().items() if v > 0)
        lines += ["", f"Memory (GiB): {parts}; total {result.memory.total:.2f}."]
    if result.notes:
        lines += [""] + [f"> {note}" for note in result.notes]
    return "\n".join(lines)


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
        lines += [f"  {'total':32s} {result.memory.total:8.2f}"]
    lines += ["", "Per GPU:"] + table(VERDICT_COLUMNS, verdict_rows(result))
    plan_columns = PLAN_COLUMNS[:5]
    lines += ["", "Per platform:"] + table(plan_columns, [row[:5] for row in plan_rows(result)])
    if result.notes:
        lines += [""] + [f"Note: {n}" for n in result.notes]
    return "\n".join(lines)
