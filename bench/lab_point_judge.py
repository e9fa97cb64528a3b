"""A learned point judge, tried and not adopted: its data and its scores.

The experiment: read MiniLM as a cross-encoder (a rubric point, then the learner's sentences
nearest to it) and train it, with a LoRA adapter (peft) or in full, to give covered / partial /
missing, on the labelled dev transcripts; score it leave one round out (each outside author's
round held out in turn). ``bench/lab_point_judge_train.py`` trains it (on the device's GPU:
about 1 to 8 minutes a setting); this script writes its data (``--prepare``) and scores what it
predicted (``--score``).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/lab_point_judge.py --prepare /tmp/pj
    python bench/lab_point_judge_train.py --data /tmp/pj/points.jsonl --model MINILM
    .venv/bin/python bench/lab_point_judge.py --score /tmp/pj/points.jsonl loro-*.json

Each row's ``hint`` is what the sentence-level judge made of the point (its verdict, the
evidence it found, the advice head's reading): the "hint" settings read it before the point, the
"plain" settings read only the point and the learner's words.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LABELS = ["missing", "partial", "covered"]
WORDS = 160  # the learner's nearest sentences, up to about this many words, per point


def nearest(units: list[str], scores: list[float], budget: int = WORDS) -> list[str]:
    """The units closest to a point, without one that another already holds."""
    chosen: list[str] = []
    for i in sorted(range(len(units)), key=lambda i: -scores[i]):
        if any(units[i] in c for c in chosen):
            continue
        chosen = [c for c in chosen if c not in units[i]] + [units[i]]
        if sum(len(c.split()) for c in chosen) >= budget:
            break
    return chosen


def prepare(out: Path) -> None:
    import yaml

    from demos.course import load_course
    from demos.lab import coverage as C
    from demos.lab.config import load_config, minilm_reference

    embedder = C.get_embedder(minilm_reference(load_config()))
    by_id = {s.lesson_id: s for s in load_course().scenarios}
    rows = []
    for path in sorted((ROOT / "tests/lab/data/judged/dev").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        group = path.stem.split("-")[0] if path.stem.startswith("round") else "own"
        for item in data["transcripts"]:
            scenario = by_id[item.get("scenario") or data["scenario"]]
            messages = item["messages"]
            coverage = C.score_by_embeddings(scenario, messages, embedder)
            reading, vague = C.conversation_reading(messages, embedder)
            debrief = C.debrief_verdict(coverage, reading, vague)
            units, _, originals = C._scored_units(scenario, messages)
            units = C._without_agendas(scenario, units, embedder)
            by_point = C.point_scores(scenario, units, embedder) if units else []
            said = " ".join(messages)
            for index, point in enumerate(scenario.rubric):
                chosen = nearest(units, [row[index] for row in by_point]) if units else []
                chosen.sort(key=lambda u: said.find(originals.get(u, u)[:30]))
                p = next(p for p in coverage.points if p.id == point.id)
                hint = f"meter: {p.status}" + (f"; evidence: {p.evidence}" if p.evidence else "")
                hint += f"; reading: {reading or 'unclear'}; covered points: {coverage.covered}"
                rows.append(
                    {
                        "group": group,
                        "name": item["name"],
                        "kind": item["kind"],
                        "point": point.point,
                        "label": item["expected"][point.id],
                        "text": " | ".join(chosen) or "(nothing)",
                        "hint": hint,
                        "debrief": debrief.status(point.id),
                    }
                )
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "points.jsonl", "w") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    print(f"{len(rows)} points -> {out / 'points.jsonl'}")


def score(data: Path, predictions: list[Path]) -> None:
    rows = [json.loads(line) for line in open(data)]
    print("| setting | leave one round out | the debrief on the same points (in-sample) |")
    print("|---|---|---|")
    for path in predictions:
        preds = {int(k): v for k, v in json.loads(path.read_text()).items()}
        right = sum(
            LABELS[max(range(3), key=p.__getitem__)] == rows[i]["label"] for i, p in preds.items()
        )
        debrief = sum(rows[i]["debrief"] == rows[i]["label"] for i in preds)
        n = len(preds)
        print(
            f"| {path.stem} | {right}/{n} = {right / n:.1%} | {debrief}/{n} = {debrief / n:.1%} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", type=Path)
    parser.add_argument("--score", nargs="+", type=Path)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare)
    if args.score:
        score(args.score[0], args.score[1:])


if __name__ == "__main__":
    main()
