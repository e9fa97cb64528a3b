"""Benchmark of the training-loop lab's default run, measured through the generator the page uses.

Prints a Markdown table: wall time, steps, plot updates, updates per second and the longest
gap between two updates, for the first run in a fresh process (which pays for importing
torch), for warm runs, and (with --client) end to end through gradio_client against a local
server running the lab's builder.

    .venv/bin/python bench/training_loop.py [--runs 5] [--client]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from demos.training_loop.loop_config import LoopConfig  # noqa: E402
from demos.training_loop.ui import setting_values  # noqa: E402

DEFAULT = LoopConfig()
DEFAULT_ARGS = setting_values(DEFAULT)  # the Run button's arguments for the default settings


def _measure(updates_iter) -> dict:
    """Consume an iterator of page updates, timing each arrival."""
    start = time.perf_counter()
    arrivals = [time.perf_counter() for _ in updates_iter]
    wall = time.perf_counter() - start
    gaps = [b - a for a, b in zip([start, *arrivals], arrivals, strict=False)]
    return {"wall": wall, "updates": len(arrivals), "max_gap": max(gaps)}


def _row(label: str, m: dict, steps: int) -> str:
    rate = m["updates"] / m["wall"]
    return f"| {label} | {m['wall']:.2f} | {steps} | {m['updates']} | {rate:.1f} | {m['max_gap']:.2f} |"


def bench_generator(runs: int) -> list[str]:
    from demos.training_loop.ui import run_lab

    rows = [
        _row(
            "generator, first run (imports torch)", _measure(run_lab(*DEFAULT_ARGS)), DEFAULT.steps
        )
    ]
    warm = [_measure(run_lab(*DEFAULT_ARGS)) for _ in range(runs)]
    median = sorted(warm, key=lambda m: m["wall"])[len(warm) // 2]
    rows.append(_row(f"generator, warm (median of {runs})", median, DEFAULT.steps))
    rows.append(
        f"| generator, warm (slowest of {runs}) | {max(m['wall'] for m in warm):.2f} | {DEFAULT.steps} | "
        f"{min(m['updates'] for m in warm)} | "
        f"{statistics.mean(m['updates'] / m['wall'] for m in warm):.1f} (mean) | "
        f"{max(m['max_gap'] for m in warm):.2f} |"
    )
    return rows


def bench_client(runs: int) -> list[str]:
    import gradio as gr
    from gradio_client import Client

    from demos.training_loop.ui import build

    with gr.Blocks() as demo:
        build()
    demo.launch(prevent_thread_lock=True, quiet=True)  # Gradio picks a free port
    try:
        client = Client(demo.local_url, verbose=False)
        results = [
            _measure(client.submit(*DEFAULT_ARGS, api_name="/training_loop_run"))
            for _ in range(runs + 1)
        ]
    finally:
        demo.close()
    median = sorted(results[1:], key=lambda m: m["wall"])[len(results[1:]) // 2]
    return [
        _row("gradio_client, first run", results[0], DEFAULT.steps),
        _row(f"gradio_client, warm (median of {runs})", median, DEFAULT.steps),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm runs per row")
    parser.add_argument("--client", action="store_true", help="also measure through gradio_client")
    args = parser.parse_args()
    print(
        f"Default run: {DEFAULT.task}, {DEFAULT.optimizer} lr={DEFAULT.learning_rate}, "
        f"{DEFAULT.steps} steps, batch {DEFAULT.batch_size}, hidden {DEFAULT.hidden_size}; "
        f"{os.cpu_count()} CPU cores\n"
    )
    print("| path | wall s | steps | plot updates | updates/s | longest gap s |")
    print("|---|---|---|---|---|---|")
    for row in bench_generator(args.runs):
        print(row, flush=True)
    if args.client:
        for row in bench_client(args.runs):
            print(row, flush=True)


if __name__ == "__main__":
    main()
