"""How the debrief's thin-conversation rule was fitted, on verdicts the judge gave blind.

Every sealed judge round was measured once by the judge of its day, before anyone read it. Those
verdicts are the only ones this project has from a judge that had never seen the transcripts:
after a round is read, the rules are tuned on it, and the current judge's agreement with it says
nothing about new transcripts. This script rebuilds them and fits the one setting of the
debrief's verdict on top of the sentence-level judge (:data:`demos.lab.coverage.THIN_COVERED`:
in a conversation where at most that many points are covered, touched topics earn nothing).

    # rebuild the blind verdicts (checks out each round's judge from git history; minutes)
    HF_HUB_OFFLINE=1 .venv/bin/python bench/lab_judge_calibration.py --collect
    # the tables: each setting, per round, and leave-one-round-out; then the advice head
    HF_HUB_OFFLINE=1 .venv/bin/python bench/lab_judge_calibration.py
    # retrain both heads on every labelled dev transcript (demos/lab/data/*_head.json)
    HF_HUB_OFFLINE=1 .venv/bin/python bench/lab_judge_calibration.py --fit-head

The advice head (:mod:`demos.lab.advice_head`) is measured the same way: for each sealed round,
a head trained on every other labelled transcript (never that round's) flags that round's
gaming-like conversations, and the debrief's verdict is compared with the labels.

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
sys.path.insert(0, str(ROOT))
# Each sealed round, and the commit whose judge measured it (git log: "measured once").
SEALED = (
    ("round2", "dev/round2-reviewed.yaml", "447411d"),
    ("round4", "dev/round4-reviewed.yaml", "447411d"),
    ("round5", "dev/round5-reviewed.yaml", "05c04b5"),
    ("round6", "dev/round6-reviewed.yaml", "0107a35"),
    ("round7", "dev/round7-reviewed.yaml", "8a967c3"),
    ("round8", "dev/round8-reviewed.yaml", "3894dc9"),
    ("round9", "dev/round9-reviewed.yaml", "b68030a"),
    ("round10", "dev/round10-reviewed.yaml", "14f5d09"),
    ("round11", "dev/round11-reviewed.yaml", "efff47c"),
    ("round12", "dev/round12-reviewed.yaml", "f81bc06"),
    ("round13", "dev/round13-reviewed.yaml", "5bdc4a6"),
    ("round14", "dev/round14-reviewed.yaml", "5bdc4a6"),
    ("round15", "dev/round15-reviewed.yaml", "86d143d"),
    ("round16", "dev/round16-reviewed.yaml", "86d143d"),
    ("round17", "dev/round17-reviewed.yaml", "71a3a6a"),
    ("round18", "dev/round18-reviewed.yaml", "71a3a6a"),
    ("round19", "dev/round19-reviewed.yaml", "d648b3d"),
    ("round20", "dev/round20-reviewed.yaml", "0a744d7"),
    ("round21", "dev/round21-reviewed.yaml", "c85139e"),
    ("round22", "dev/round22-reviewed.yaml", "c85139e"),
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


def _round_number(name: str) -> int:
    return int(name.removeprefix("round"))


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
    rounds = sorted({row["round"] for row in rows}, key=_round_number)
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
    rounds = sorted({row["round"] for row in rows}, key=_round_number)
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


# The head's penalty and threshold, chosen on the leave-one-round-out table below (a grid of
# four penalties and three thresholds: mildly optimistic for that table, not for a fresh round).
HEAD_L2 = 1e-3
HEAD_THRESHOLD = 0.5
# Below this probability a conversation plainly advises, and a thin one keeps its partial credit
# (picked from 0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3 on the nine rounds' table: 74.5% -> 76.3%).
HEAD_ADVISES_BELOW = 0.2
# The vagueness head (weak against good; 2026-12-02, evening): penalty and threshold picked from
# (0.001, 0.01, 0.1) x (0.3 to 0.9) on the same table, leave one round out: 75.4% -> 77.9%
# (rounds 13 to 20, 74.3% -> 78.8%); 0.4 gave 78.3% but the round threshold of 0.5 was kept.
VAGUE_L2 = 1e-3
VAGUE_THRESHOLD = 0.5


def _dev_vectors(embedder) -> tuple[list[dict], object]:
    """Every labelled dev transcript (with its file) and its conversation vector."""
    import torch

    sys.path.insert(0, str(ROOT / "bench"))
    from lab_quality import judged_transcripts

    from demos.lab.advice_head import conversation_vector
    from demos.lab.coverage import conversation_sentences

    items = judged_transcripts("dev")
    vectors = []
    for item in items:
        sentences = conversation_sentences(item["messages"]) or ["(nothing)"]
        vectors.append(conversation_vector(embedder, sentences))
    return items, torch.stack(vectors)


def _embedder():
    from demos.lab.config import load_config, minilm_reference
    from demos.lab.coverage import get_embedder

    return get_embedder(minilm_reference(load_config()))


def _heads(items, vectors, train: list[int]) -> tuple[tuple[list[float], float], ...]:
    """The advice head (gaming against the rest) and the vagueness head (weak against good),
    trained on the items at ``train``."""
    from demos.lab.advice_head import fit

    advice = fit(vectors[train], [items[i]["kind"] == "gaming" for i in train], HEAD_L2)
    plain = [i for i in train if items[i]["kind"] != "gaming"]
    vague = fit(vectors[plain], [items[i]["kind"] == "weak" for i in plain], VAGUE_L2)
    return advice, vague


def fit_head() -> list[dict]:
    """Train both heads on every labelled dev transcript and write data/advice_head.json and
    data/vague_head.json."""
    from demos.lab.advice_head import HEAD_FILE, PROBE, VAGUE_FILE, fingerprint

    embedder = _embedder()
    items, vectors = _dev_vectors(embedder)
    (weights, bias), (vague_weights, vague_bias) = _heads(items, vectors, list(range(len(items))))
    gaming = sum(item["kind"] == "gaming" for item in items)
    weak = sum(item["kind"] == "weak" for item in items)
    common = {"probe": PROBE, "fingerprint": list(fingerprint(embedder))}
    heads = [
        {
            "about": "Logistic head on the mean MiniLM embedding of a conversation's learner "
            "sentences: the probability that it performs for the grader (gaming) instead of "
            "advising. Trained by bench/lab_judge_calibration.py --fit-head.",
            "trained_on": f"{len(items)} labelled dev transcripts, {gaming} of them gaming",
            "l2": HEAD_L2,
            "threshold": HEAD_THRESHOLD,
            "advises_below": HEAD_ADVISES_BELOW,
            **common,
            "bias": bias,
            "weights": weights,
        },
        {
            "about": "Logistic head on the mean MiniLM embedding of a conversation's learner "
            "sentences: the probability that its advice stays tentative or general (weak) "
            "instead of committing to specifics (good). Trained by "
            "bench/lab_judge_calibration.py --fit-head.",
            "trained_on": f"{len(items) - gaming} labelled dev transcripts that advise (good "
            f"or weak), {weak} of them weak",
            "l2": VAGUE_L2,
            "threshold": VAGUE_THRESHOLD,
            **common,
            "bias": vague_bias,
            "weights": vague_weights,
        },
    ]
    for path, head in zip((HEAD_FILE, VAGUE_FILE), heads, strict=True):
        path.write_text(json.dumps(head) + "\n", encoding="utf-8")
    return heads


def head_report(rows: list[dict]) -> list[str]:
    """Leave one round out for the heads: each sealed round's conversations read by heads
    trained without that round, on top of the thin-conversation rule; first the advice head
    alone, then with the vagueness head."""
    import torch

    embedder = _embedder()
    items, vectors = _dev_vectors(embedder)
    thin = (1, True)
    same = base = total = false_flags = caught = gaming = 0
    vague_same = 0
    flagged_vague: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    cells, vague_cells = [], []
    for name in sorted({row["round"] for row in rows}, key=_round_number):
        train = [i for i, item in enumerate(items) if item["file"] != f"{name}-reviewed"]
        test = {
            item["name"]: i for i, item in enumerate(items) if item["file"] == f"{name}-reviewed"
        }
        (weights, bias), (vague_weights, vague_bias) = _heads(items, vectors, train)
        w, v = torch.tensor(weights), torch.tensor(vague_weights)
        flagged, advises, vague = set(), set(), set()
        for transcript, i in test.items():
            p = float(torch.sigmoid(vectors[i] @ w + bias))
            is_gaming = items[i]["kind"] == "gaming"
            gaming += is_gaming
            if p >= HEAD_THRESHOLD:
                flagged.add(transcript)
                caught += is_gaming
                false_flags += not is_gaming
                continue
            if p < HEAD_ADVISES_BELOW:
                advises.add(transcript)
            is_vague = float(torch.sigmoid(vectors[i] @ v + vague_bias)) >= VAGUE_THRESHOLD
            flagged_vague[items[i]["kind"]][0] += is_vague
            if is_vague:
                vague.add(transcript)
        for i in test.values():
            flagged_vague[items[i]["kind"]][1] += 1
        part = [row for row in rows if row["round"] == name]
        ruled = apply_rule(part, thin)
        s = sv = 0
        for row, verdict in zip(part, ruled, strict=True):
            if row["name"] in flagged:
                got = "missing"
            elif row["name"] in advises and row["status"] == "partial":
                got = "partial"  # a thin conversation that plainly advises keeps it
            else:
                got = verdict
            # in a vague conversation nothing earns more than partial
            capped = "partial" if row["name"] in vague and got == "covered" else got
            s += got == row["expected"]
            sv += capped == row["expected"]
            base += verdict == row["expected"]
            counts = by_kind[row["kind"]]
            counts[0] += got == row["expected"]
            counts[1] += verdict == row["expected"]
            counts[2] += capped == row["expected"]
            counts[3] += 1
        same += s
        vague_same += sv
        total += len(part)
        cells.append(f"{name} {s}/{len(part)}")
        vague_cells.append(f"{name} {sv}/{len(part)}")
    kinds = ", ".join(
        f"{kind} {a / n:.1%} (rule alone {b / n:.1%})"
        for kind, (a, b, _, n) in sorted(by_kind.items())
    )
    vague_kinds = ", ".join(f"{kind} {c / n:.1%}" for kind, (_, _, c, n) in sorted(by_kind.items()))
    vague_flags = ", ".join(f"{kind} {a} of {n}" for kind, (a, n) in sorted(flagged_vague.items()))
    return [
        "",
        f"The advice head on top of the rule, leave one round out (trained on every labelled "
        f"dev transcript but the round's own; penalty {HEAD_L2}, threshold {HEAD_THRESHOLD}; "
        f"a thin conversation below {HEAD_ADVISES_BELOW} keeps its partial credit): "
        + ", ".join(cells)
        + f"; in all **{same}/{total} = {same / total:.1%}** (the rule alone {base}/{total} = "
        f"{base / total:.1%}). By kind: {kinds}. Gaming conversations flagged: {caught} of "
        f"{gaming}; others flagged: {false_flags}.",
        "",
        f"With the vagueness head too (weak against good, trained the same way; penalty "
        f"{VAGUE_L2}, threshold {VAGUE_THRESHOLD}; in a conversation it flags that the rule "
        f"left thick, no point earns more than partial): "
        + ", ".join(vague_cells)
        + f"; in all **{vague_same}/{total} = {vague_same / total:.1%}**. By kind: "
        f"{vague_kinds}. Conversations flagged vague (of those the advice head let through): "
        f"{vague_flags}.",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--collect", action="store_true", help="rebuild the blind verdicts from git history"
    )
    parser.add_argument(
        "--fit-head",
        action="store_true",
        help="retrain the advice and vagueness heads on the dev transcripts",
    )
    args = parser.parse_args()
    if args.fit_head:
        for head in fit_head():
            print(f"head written: {head['trained_on']}")
        return 0
    if args.collect:
        rows = collect()
        lines = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
        VERDICTS.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    rows = json.loads(VERDICTS.read_text(encoding="utf-8"))
    print("\n".join(report(rows) + head_report(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
