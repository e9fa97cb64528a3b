"""Start-up benchmark: how long until the Space serves its first page, and how much memory it holds.

Three apps are started the same way (a fresh `python` process on a free port) and timed from
process start to the first successful `GET /` that returns the page, then `/config`:

- `minimal`: a one-textbox Gradio app (bench/minimal_app.py): the floor set by Gradio itself;
- `course`: `python app.py`, the Space as shipped (torch and transformers load on first use);
- `course-eager`: the same app with every heavy import the tools make lazily moved to the top
  (torch, transformers' pipelines, model and generation classes, peft, accelerate, spaces,
  huggingface_hub's clients).

Each is run --runs times (default 3), alternating, and the median is reported. Run it on a quiet
machine: other processes on the 2 cores inflate every number.

    .venv/bin/python bench/startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port  # noqa: E402

# Every heavy import the tools make inside their functions (grep demos/ for indented imports of
# torch, transformers, peft, accelerate, spaces and huggingface_hub), moved to the top of app.py:
# that is after its first statement, which pauses the cyclic GC for start-up, so these imports
# get the same treatment as Gradio's.
EAGER_PRELUDE = """
import gc
gc.disable()
import torch, torch.nn.functional
from torch.utils.data import DataLoader
import transformers, transformers.generation.utils
from transformers import (
    pipeline, AutoModel, AutoModelForCausalLM, AutoModelForSequenceClassification,
    AutoModelForSeq2SeqLM, AutoTokenizer, DynamicCache, StoppingCriteria, StoppingCriteriaList,
    TextIteratorStreamer, LogitsProcessorList, RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper, TopPLogitsWarper,
)
from peft import LoraConfig, TaskType, get_peft_model
from accelerate import Accelerator
from accelerate.utils import set_seed
import spaces
from huggingface_hub import HfApi, InferenceClient
import runpy
runpy.run_path("app.py", run_name="__main__")
"""

VARIANTS = {
    "minimal": [sys.executable, str(ROOT / "bench" / "minimal_app.py")],
    "course": [sys.executable, "app.py"],
    "course-eager": [sys.executable, "-c", EAGER_PRELUDE],
}


def _rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, from /proc (Linux)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def measure(command: list[str], timeout: float = 180) -> dict[str, float]:
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
    }
    base = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        first_page = None
        while time.perf_counter() - start < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"{command} exited with code {proc.returncode}")
            try:
                with urllib.request.urlopen(base + "/", timeout=5) as resp:
                    if resp.status == 200 and b"<html" in resp.read(4096).lower():
                        first_page = time.perf_counter() - start
                        break
            except OSError:
                time.sleep(0.05)
        if first_page is None:
            raise RuntimeError(f"{command} served nothing within {timeout} s")
        with urllib.request.urlopen(base + "/config", timeout=30) as resp:
            resp.read()
        config = time.perf_counter() - start
        time.sleep(0.5)
        return {"first_page_s": first_page, "config_s": config, "rss_mib": _rss_mib(proc.pid)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
    for _ in range(args.runs):
        for name, command in VARIANTS.items():
            results[name].append(measure(command))
    med = {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in results.items()
    }
    print(f"Start-up, median of {args.runs} runs ({os.cpu_count()} CPUs)\n")
    print("| app | first page (s) | /config (s) | resident memory (MiB) |")
    print("|---|---|---|---|")
    for name, m in med.items():
        print(f"| {name} | {m['first_page_s']:.2f} | {m['config_s']:.2f} | {m['rss_mib']:.0f} |")
    course, minimal, eager = med["course"], med["minimal"], med["course-eager"]
    slow = course["first_page_s"] / minimal["first_page_s"]
    fast = eager["first_page_s"] / course["first_page_s"]
    print("\n| ratio | value | target |")
    print("|---|---|---|")
    print(f"| course / minimal (first page) | {slow:.2f}x | at most 1.25x |")
    print(f"| course-eager / course (first page) | {fast:.2f}x | at least 2x |")
    # What the second ratio would be if the course started exactly as fast as the one-textbox app:
    # the heavy imports' own cost over the fastest possible Gradio start. Below 2x, no course
    # built on Gradio can meet that target on this machine.
    imports = eager["first_page_s"] - course["first_page_s"]
    ceiling = (minimal["first_page_s"] + imports) / minimal["first_page_s"]
    print(
        f"| ceiling: (minimal + heavy imports) / minimal | {ceiling:.2f}x | "
        f"the best the second ratio can be (heavy imports: {imports:.2f} s) |"
    )


if __name__ == "__main__":
    main()
