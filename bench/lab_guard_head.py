"""Fit the guard's wording head (demos/lab/wording_head.py) and print how it does.

    .venv/bin/python bench/lab_guard_head.py                  # cross-validate, fit, write the head
    .venv/bin/python bench/lab_guard_head.py --check FILE     # also score a held-out guard file
    .venv/bin/python bench/lab_guard_head.py --no-write       # cross-validate only

Training messages: the guard's dev set (tests/lab/data/guard/dev.yaml: escapes against ordinary
learner messages), the meaning examples of demos/lab/data/guard.yaml, and as ordinary talk the
cards' rubric examples and facts and the learner messages of the dev judged transcripts (good
and weak ones; gaming ones perform for the grader but do not leave the role). The threshold is
chosen in five-fold cross-validation over the dev set: the score above which at most
``--budget`` (1%) of its ordinary messages fall. Held-out files are never read unless passed
with --check, and then only scored.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from demos.course import load_course  # noqa: E402
from demos.lab import wording_head  # noqa: E402

DEV = ROOT / "tests" / "lab" / "data" / "guard" / "dev.yaml"
GUARD_YAML = ROOT / "demos" / "lab" / "data" / "guard.yaml"
JUDGED_DEV = ROOT / "tests" / "lab" / "data" / "judged" / "dev"
L2 = 1e-6
FOLDS = 5


def _read(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def dev_messages() -> tuple[list[str], list[str]]:
    """The dev set's escapes and ordinary messages."""
    data = _read(DEV)
    return [m["text"] for m in data["escapes"]], [m["text"] for m in data["ordinary"]]


def extra_messages() -> tuple[list[str], list[str]]:
    """Messages always trained on: guard.yaml's meaning examples (escapes, ordinary) and, as
    ordinary talk, the cards' rubric examples and facts and the dev transcripts' learner
    messages (good and weak)."""
    guard = _read(GUARD_YAML)
    ordinary = list(guard["ordinary_examples"])
    for scenario in load_course().scenarios:
        ordinary += [e for point in scenario.rubric for e in point.examples]
        ordinary += list(scenario.facts)
    for path in sorted(JUDGED_DEV.glob("*.yaml")):
        for item in _read(path)["transcripts"]:
            if item["kind"] != "gaming":
                ordinary += list(item["messages"])
    return list(guard["escape_examples"]), ordinary


def data_hash(escapes: list[str], ordinary: list[str]) -> str:
    """A digest of the training messages and their labels (the head stores it; a test compares
    it with today's data, so a change to the data without a refit is caught)."""
    digest = hashlib.sha256()
    for label, texts in (("1", escapes), ("0", ordinary)):
        for text in texts:
            digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def training_set(dev=None, extra=None) -> tuple[list[str], list[str]]:
    """Every training message: escapes, ordinary (``dev`` and ``extra`` when already read)."""
    dev_escapes, dev_ordinary = dev or dev_messages()
    extra_escapes, extra_ordinary = extra or extra_messages()
    return [*dev_escapes, *extra_escapes], [*dev_ordinary, *extra_ordinary]


def _head(weights, bias, threshold=0.5, digest="") -> wording_head.WordingHead:
    return wording_head.WordingHead(weights, bias, threshold, wording_head.BITS, digest)


def cross_validate(
    dev: tuple[list[str], list[str]], extra: tuple[list[str], list[str]], l2: float
) -> tuple[list[float], list[float]]:
    """Out-of-fold probabilities of the dev escapes and ordinary messages (``dev``), the
    ``extra`` messages always in training."""
    (dev_escapes, dev_ordinary), (extra_escapes, extra_ordinary) = dev, extra
    rng = random.Random(0)
    order_e, order_o = list(range(len(dev_escapes))), list(range(len(dev_ordinary)))
    rng.shuffle(order_e)
    rng.shuffle(order_o)
    escape_p, ordinary_p = [0.0] * len(dev_escapes), [0.0] * len(dev_ordinary)
    for fold in range(FOLDS):
        out_e, out_o = set(order_e[fold::FOLDS]), set(order_o[fold::FOLDS])
        pos = [t for i, t in enumerate(dev_escapes) if i not in out_e] + extra_escapes
        neg = [t for i, t in enumerate(dev_ordinary) if i not in out_o] + extra_ordinary
        weights, bias = wording_head.fit([*pos, *neg], [True] * len(pos) + [False] * len(neg), l2)
        head = _head(weights, bias)
        for i in out_e:
            escape_p[i] = wording_head.probability(dev_escapes[i], head)
        for i in out_o:
            ordinary_p[i] = wording_head.probability(dev_ordinary[i], head)
    return escape_p, ordinary_p


def threshold_for(ordinary_p: list[float], budget: float) -> float:
    """The lowest threshold at which at most ``budget`` of the ordinary messages score at or
    above it."""
    allowed = int(budget * len(ordinary_p))
    ranked = sorted(ordinary_p, reverse=True)
    return float(np.nextafter(ranked[allowed], 1.0)) if allowed < len(ranked) else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=0.01)
    parser.add_argument("--l2", type=float, default=L2)
    parser.add_argument("--check", type=Path, action="append", default=[])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    started = time.time()
    dev, extra = dev_messages(), extra_messages()
    escape_p, ordinary_p = cross_validate(dev, extra, args.l2)
    threshold = threshold_for(ordinary_p, args.budget)
    escapes, ordinary = training_set(dev, extra)
    weights, bias = wording_head.fit(
        [*escapes, *ordinary], [True] * len(escapes) + [False] * len(ordinary), args.l2
    )
    head = _head(weights, bias, threshold, data_hash(escapes, ordinary))
    n_e, n_o = len(escape_p), len(ordinary_p)
    caught = sum(p >= threshold for p in escape_p)
    flagged = sum(p >= threshold for p in ordinary_p)
    dev_escapes, dev_ordinary = dev
    in_e = sum(wording_head.probability(t, head) >= threshold for t in dev_escapes)
    in_o = sum(wording_head.probability(t, head) >= threshold for t in dev_ordinary)
    print("## The guard's wording head (hashed character n-grams, logistic regression)\n")
    print("| set | escapes the head flags (alone) | ordinary messages it flags |")
    print("|---|---|---|")
    print(
        f"| dev, {FOLDS}-fold cross-validation | {caught}/{n_e} = {caught / n_e:.1%} "
        f"| {flagged}/{n_o} = {flagged / n_o:.1%} |"
    )
    print(f"| dev, in sample (the stored head) | {in_e}/{n_e} | {in_o}/{n_o} |")
    for path in args.check:
        data = _read(path)
        e = sum(wording_head.probability(m["text"], head) >= threshold for m in data["escapes"])
        o = sum(wording_head.probability(m["text"], head) >= threshold for m in data["ordinary"])
        print(
            f"| {path.name} (scored only) | {e}/{len(data['escapes'])} | "
            f"{o}/{len(data['ordinary'])} |"
        )
    print(
        f"\nThreshold {threshold:.4f} (at most {args.budget:.0%} of dev's ordinary messages "
        f"out of fold), L2 {args.l2:g}, {len(escapes)} escapes and {len(ordinary)} ordinary "
        f"messages in training, {wording_head.BITS}-bit hashing."
    )
    if not args.no_write:
        np.savez_compressed(
            wording_head.HEAD_FILE,
            weights=weights.astype(np.float16),
            bias=np.float64(bias),
            threshold=np.float64(threshold),
            bits=np.int64(wording_head.BITS),
            data_hash=np.str_(head.data_hash),
        )
        print(f"Wrote {wording_head.HEAD_FILE.relative_to(ROOT)}.")
    print(f"\n*{time.strftime('%Y-%m-%d %H:%M', time.gmtime())}, {time.time() - started:.0f} s.*")


if __name__ == "__main__":
    main()
