"""First sight of the advice classifier: time from `python app.py` to both sides answering.

A fresh Space (offline, no ADVICE_MODEL, an empty model folder) is started as `python app.py`.
The benchmark then asks the classifier tab, as a visitor's API client would, until the
zero-shot side answers (the offline MiniLM fallback) and until the fine-tuned side answers
(the Space trains its own model in the background with the CPU recipe). While the training
runs, it times the first page every few seconds to check that the page stays responsive. A
second start with the same folder shows the model being reused (no training).

    .venv/bin/python bench/advice_first_start.py [--out bench/results/advice_first_start.md]

It prints a Markdown table (and writes it to --out). Run it on a quiet machine: it reports the
load average before and after, and every number measured under load says so.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, serving  # noqa: E402

POST = (
    "My landlord kept my whole deposit for a stain that was there when I moved in. What can I do?"
)


def _classify(client) -> tuple[bool, bool]:
    """(zero-shot answered, fine-tuned answered) for one post."""
    result = client.predict(POST, api_name="/advice_classify")
    zero_shot, fine_tuned = result[1], result[2]
    return bool((zero_shot or {}).get("confidences")), bool((fine_tuned or {}).get("confidences"))


def _page_seconds(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url + "/", timeout=60) as response:
        response.read()
    return time.perf_counter() - start


def first_start(output: Path, extra_env: dict[str, str], timeout_s: float) -> dict:
    """Start the Space and time each side's first answer."""
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "ADVICE_MODEL": "",
        "ADVICE_OUTPUT_DIR": str(output),
        "ADVICE_BACKGROUND_TRAINING": "auto",
        **extra_env,
    }
    log = output.parent / f"app-{port}.log"
    started = time.perf_counter()
    row: dict = {"load before": os.getloadavg()[0]}
    with serving([sys.executable, "app.py"], ready_url=url + "/", log_path=log, env=env, cwd=ROOT):
        row["first page (s)"] = time.perf_counter() - started
        client = Client(url, verbose=False)
        pages: list[float] = []
        zero_shot_at = fine_tuned_at = None
        while time.perf_counter() - started < timeout_s:
            zero_shot, fine_tuned = _classify(client)
            now = time.perf_counter() - started
            if zero_shot and zero_shot_at is None:
                zero_shot_at = now
            if fine_tuned:
                fine_tuned_at = now
                break
            # Wait for the model folder rather than asking the model again and again.
            deadline = time.perf_counter() + 5
            while time.perf_counter() < deadline and not (output / "config.json").exists():
                pages.append(_page_seconds(url))
                time.sleep(1.0)
        row["zero-shot answers (s)"] = zero_shot_at
        row["fine-tuned answers (s)"] = fine_tuned_at
        row["page while training, median (s)"] = statistics.median(pages) if pages else None
        row["page while training, max (s)"] = max(pages) if pages else None
    metrics = output / "metrics.json"
    if metrics.exists():
        found = json.loads(metrics.read_text())
        row["template test acc"] = found.get("test_accuracy")
        row["free-written acc"] = found.get("free_written_accuracy")
        row["zero-shot fallback acc (free-written)"] = found.get("free_written_zero_shot_accuracy")
        calibration = found.get("calibration") or {}
        row["ECE free-written before"] = calibration.get("ece_free_before")
        row["ECE free-written after"] = calibration.get("ece_free_after")
        row["training wall (s)"] = found.get("wall_time_s")
        row["training CPU (s)"] = found.get("cpu_time_s")
    row["load after"] = os.getloadavg()[0]
    return row


def _cell(key: str, value) -> str:
    if value is None:
        return "—"
    if "acc" in key or "ECE" in key:
        return f"{value:.1%}"
    if "(s)" in key:
        return f"{value:.2f}" if value < 10 else f"{value:.0f}"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="also write the table to this Markdown file")
    parser.add_argument("--timeout", type=float, default=900, help="give up after seconds")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a tiny training run (checks the harness, not the Space's speed)",
    )
    args = parser.parse_args()
    extra = {}
    if args.smoke:
        extra["ADVICE_TRAIN_ARGS"] = "--max-train-samples 24 --epochs 1 --no-baseline"
    rows = []
    with tempfile.TemporaryDirectory(prefix="advice-first-start-") as folder:
        output = Path(folder) / "advice-minilm"
        rows.append(("first start", first_start(output, extra, args.timeout)))
        rows.append(("restart, model kept", first_start(output, extra, args.timeout)))
    keys = list(rows[0][1])
    lines = [
        "| run | " + " | ".join(keys) + " |",
        "|---|" + "---|" * len(keys),
        *(f"| {name} | " + " | ".join(_cell(k, r.get(k)) for k in keys) + " |" for name, r in rows),
    ]
    table = "\n".join(lines)
    machine = f"{os.cpu_count()} CPU cores, offline (HF_HUB_OFFLINE=1)"
    text = f"{table}\n\nMachine: {machine}; {time.strftime('%Y-%m-%d %H:%M')}."
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
