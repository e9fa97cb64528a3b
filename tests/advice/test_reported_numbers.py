"""Lesson 4's worked example quotes the numbers the first-start benchmark measured.

The tab and the model card read theirs from the served model's metrics.json (tested in
test_api.py and test_train.py); the lesson and CONTRIBUTING are written by hand, so they are
checked against ``bench/results/advice_first_start.md``, the latest measured run.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "advice_first_start.md"
LESSON = next((ROOT / "lessons").glob("04-*.md"))

ROWS = {
    "template": r"\| template test split \([^|]*\) \| (\d+\.\d)% \|",
    "free-written": r"\| free-written posts \([^|]*\) \| (\d+\.\d)% \|",
    "zero-shot": r"\| the same[^|]*zero-shot[^|]* \| (\d+\.\d)% \|",
}
ECE = r"free-written[^.]*?(\d+\.\d)% before,? (?:→ )?(\d+\.\d)% after"


def numbers(text: str) -> dict[str, str | tuple[str, ...]]:
    found: dict[str, str | tuple[str, ...]] = {}
    for name, pattern in ROWS.items():
        match = re.search(pattern, text)
        assert match, f"no {name} row"
        found[name] = match.group(1)
    match = re.search(ECE, text)
    assert match, "no calibration error before/after on the free-written posts"
    found["ECE"] = match.groups()
    return found


def test_lesson_4_quotes_the_measured_accuracies_and_calibration():
    measured = numbers(RESULTS.read_text(encoding="utf-8"))
    assert float(measured["free-written"]) >= 85.0  # the bar for the CPU fine-tune
    assert float(measured["free-written"]) < float(measured["template"])
    assert numbers(LESSON.read_text(encoding="utf-8")) == measured
