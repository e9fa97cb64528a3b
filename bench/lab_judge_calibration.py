"""How the debrief's thin-conversation rule was fitted, on verdicts the judge gave blind.

Every sealed judge round was measured once by the judge of its day, before anyone read it. Those
verdicts are the only ones this project has from a judge that had never seen the transcripts:
after a round is read, the rules are tuned on it, and the current judge's agreement with it says
nothing about new transcripts. This script rebuilds them and fits the one setting of the
debrief's verdict on top of the sentence-level judge (:data:`demos.lab.coverage.THIN_COVERED`:
in a conversation where at most that many points are covered, touched topics earn nothing).

    # rebuild the blind verdicts (checks out each round's judge from git history; minutes)
    HF_HUB_OFFLINE=1 .venv/bin/python bench/lab_judge_calibration.py --collect
    # the table: each setting, per round, and leave-one-round-out
    .venv/bin/python bench/lab_judge_calibration.py

The verdicts are kept in ``bench/results/judge_blind_verdicts.json`` (labels from the current
files: a few were corrected when their round was read).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JUDGED = ROOT / "tests" / "lab" / "data" / "judged"
VERDICTS = ROOT / "bench" / "results" / "judge_blind_verdicts.json"
# Each sealed round, and the commit whose judge measured it (git log: "measured once").
SEALED = (
    ("round2", "dev/round2-reviewed.yaml", "447411d"),
    ("round4", "dev/round4-reviewed.yaml", "447411d"),
    ("round5", "dev/round5-reviewed.yaml", "05c04b5"),
    ("round6", "dev/round6-reviewed.yaml", "0107a35"),
    ("round7", "dev/round7-reviewed.yaml", "8a967c3"),
    ("round8", "dev/round8-reviewed.yaml", "3894dc9"),
)
# (at most this many points covered: -1 never; whether a covered point there becomes partial)
SETTINGS = tuple(
    (thin, demote) for thin in (-1, 0, 1, 2) for demote in (False, True) if thin >= 0 or not demote
)

# Run inside the old tree: its own judge on the given labelled file, one JSON row per point.
_RUN_OLD = """
import json, sys, yaml
from demos.course import load_course
from demos.lab.config import load_config
from demos.lab.coverage import score_by_embeddings
from demos.lab.session import LabEngine
engine = LabEngine(load_course().scenarios, load_config())
rows = []
for item in yaml.safe_load(open(sys.argv[1], encoding="utf-8"))["transcripts"]:
    got = score_by_embeddings(engine.scenario(item["scenario"]), item["messages"], engine.embedder)
    for p in got.points:
        if p.id in item["expected"]:
            rows.append({"scenario": item["scenario"], "name": item["name"], "kind": item["kind"],
                         "point": p.id, "status": p.status, "expected": item["expected"][p.id]})
print(json.dumps(rows))
"""


def collect() -> list[dict]:
    """Each sealed round scored by the judge of the commit that measured it."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path, commit in SEALED:
            tree = Path(tmp) / commit
            if not tree.exists():
                subprocess.run(
                    [
                        "git",
                        "-C",
                        str(ROOT),
                        "worktree",
                        "add",
                        "-q",
                        "--detach",
                        str(tree),
                        commit,
                    ],
                    check=True,
                )
            out = subprocess.run(
                [sys.executable, "-c", _RUN_OLD, str(JUDGED / path)],
                cwd=tree,
                env={**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rows += [{"round": name, "commit": commit, **row} for row in json.loads(out)]
            print(f"{name}: {len(json.loads(out))} points judged by {commit}", file=sys.stderr)
        for commit in dict.fromkeys(commit for _, _, commit in SEALED):
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(Path(tmp) / commit)],
                check=False,
            )
    return rows


def apply_rule(rows: list[dict], setting: tuple[int, bool]) -> list[str]:
    """The debrief's verdict for each row: where the row's transcript has at most ``thin``
    points covered (-1: never), partial becomes missing, and with ``demote`` covered becomes
    partial."""
    thin, demote = setting
    covered = defaultdict(int)
    for row in rows:
        covered[(row["round"], row["name"])] += row["status"] == "covered"
    down = {"partial": "missing", "covered": "partial" if demote else "covered"}
    return [
        down.get(row["status"], row["status"])
        if covered[(row["round"], row["name"])] <= thin
        else row["status"]
        for row in rows
    ]


def agreement(rows: list[dict], setting: tuple[int, bool]) -> tuple[int, int]:
    got = apply_rule(rows, setting)
    return sum(g == row["expected"] for g, row in zip(got, rows, strict=True)), len(rows)


def leave_one_round_out(rows: list[dict]) -> list[tuple[str, int, int, int]]:
    """For each round: the setting the other rounds pick (best pooled agreement, the smaller
    setting on a tie), and the same-verdict count it gives on the round left out."""
    rounds = sorted({row["round"] for row in rows})
    out = []
    for held in rounds:
        rest = [row for row in rows if row["round"] != held]
        pick = max(SETTINGS, key=lambda t: (agreement(rest, t)[0], -t[0], -t[1]))
        same, total = agreement([row for row in rows if row["round"] == held], pick)
        out.append((held, pick, same, total))
    return out


def _label(setting: tuple[int, bool]) -> str:
    thin, demote = setting
    if thin < 0:
        return "never (the sentence-level judge)"
    return f"{thin}" + (", and a covered point there is partial" if demote else "")


def report(rows: list[dict]) -> list[str]:
    rounds = sorted({row["round"] for row in rows})
    lines = [
        "| touched topics earn nothing where the points covered are at most | "
        + " | ".join(rounds)
        + " | all | good | weak | gaming |",
        "|---" * (len(rounds) + 5) + "|",
    ]
    for setting in SETTINGS:
        cells = []
        for name in rounds:
            same, total = agreement([r for r in rows if r["round"] == name], setting)
            cells.append(f"{same / total:.1%}")
        same, total = agreement(rows, setting)
        cells.append(f"**{same}/{total} = {same / total:.1%}**")
        for kind in ("good", "weak", "gaming"):
            s, t = agreement([r for r in rows if r["kind"] == kind], setting)
            cells.append(f"{s / t:.1%}")
        label = _label(setting)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    loro = leave_one_round_out(rows)
    same = sum(s for _, _, s, _ in loro)
    total = sum(t for _, _, _, t in loro)
    base = agreement(rows, (-1, False))[0]
    lines += [
        "",
        "Leave one round out (the setting chosen on the other rounds, measured on the one left "
        "out): "
        + ", ".join(f"{name} [{_label(pick)}] {s}/{t}" for name, pick, s, t in loro)
        + f"; in all **{same}/{total} = {same / total:.1%}** (the sentence-level judge: "
        f"{base}/{total} = {base / total:.1%}).",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--collect", action="store_true", help="rebuild the blind verdicts from git history"
    )
    args = parser.parse_args()
    if args.collect:
        rows = collect()
        lines = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
        VERDICTS.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    rows = json.loads(VERDICTS.read_text(encoding="utf-8"))
    print("\n".join(report(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
