"""transformers' own continuous batching against the lab's batcher, on the lab's local model.

Why the lab has its own scheduler (demos/lab/batching.py) instead of transformers'
``ContinuousBatchingManager`` (``model.init_continuous_batching()``): this script runs the same
replies through both on this machine and prints one table. N learners send one message each
at the same moment (the lab's prompt when a model words a move: persona, opening, the message,
the director's note last); replies
are greedy, up to ``--max-new-tokens``.

    .venv/bin/python bench/lab_transformers_cb.py --concurrent 1 8

The transformers manager runs in its own thread (as it is built to); the lab's batcher runs on
the lab's compute thread. Both use the same loaded model and 2 torch threads.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lab import LEARNER, conversation_opening, director_note, percentile  # noqa: E402
from demos.course import load_course  # noqa: E402

WARM_UP = "Hello! Before my plan, a quick question about the setting."


def prompts(tokenizer, count: int, learner: str | None = None) -> list[list[int]]:
    """``count`` prompts, the scenarios in turn; ``learner``: one message for all of them."""
    scenarios = load_course().scenarios
    out = []
    for index in range(count):
        scenario = scenarios[index % len(scenarios)]
        messages = conversation_opening(scenario)
        text = learner or LEARNER[index % len(LEARNER)]
        messages.append({"role": "user", "content": text})
        messages.append(director_note(scenario, index))
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True)
        out.append(list(ids["input_ids"] if hasattr(ids, "keys") else ids))
    return out


def run_transformers(model, tokenizer, inputs, new_tokens: int, manager) -> tuple[list, float]:
    start = time.perf_counter()
    ids = [manager.add_request(p, max_new_tokens=new_tokens, streaming=True) for p in inputs]
    first: dict[str, float] = {}
    counts: dict[str, int] = {}
    done: set[str] = set()
    while len(done) < len(ids):
        result = manager.get_result(timeout=1)
        if result is None:
            continue
        first.setdefault(result.request_id, time.perf_counter() - start)
        counts[result.request_id] = len(result.generated_tokens)
        if result.is_finished():
            done.add(result.request_id)
    wall = time.perf_counter() - start
    return [(first[i], counts[i]) for i in ids], wall


def run_lab(batcher, inputs, new_tokens: int) -> tuple[list, float]:
    results: list = [None] * len(inputs)
    start = time.perf_counter()

    def read(index: int, ticket) -> None:
        first = None
        tokens = 0
        for _, so_far in ticket:
            first = first or time.perf_counter() - start
            tokens = so_far
        results[index] = (first, tokens)

    tickets = [
        batcher.submit(p, max_new_tokens=new_tokens, temperature=0.0, time_limit_s=600)
        for p in inputs
    ]
    threads = [threading.Thread(target=read, args=(i, t)) for i, t in enumerate(tickets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - start


def row(name: str, count: int, results: list, wall: float) -> str:
    firsts = [r[0] for r in results]
    total = sum(r[1] for r in results)
    return (
        f"| {name} | {count} | {percentile(firsts, 50):.2f} | {percentile(firsts, 95):.2f} | "
        f"{total / wall:.1f} | {statistics.mean(r[1] for r in results):.0f} | {wall:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model folder (default: the lab's CPU model)")
    parser.add_argument("--concurrent", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import torch
    import transformers
    from transformers import GenerationConfig
    from transformers.generation.configuration_utils import ContinuousBatchingConfig

    from demos import hub
    from demos.lab.backends import PrefixCache, default_prefill_chunk, local_model_reference
    from demos.lab.batching import Batcher
    from demos.lab.compute import compute
    from demos.lab.config import load_config

    torch.set_num_threads(args.threads)
    compute.call(torch.set_num_threads, args.threads)
    ref = args.model or local_model_reference(load_config())
    model, tokenizer = compute.call(hub.load_model, ref, "causal-lm", dtype="auto")
    rows = []

    # Both engines start warm in the same way: every scenario's persona and opening already
    # read once (a warm-up message no measured prompt contains), as on a Space that has been
    # up a while. Both then reuse that shared beginning: the lab through its prefix cache
    # (as the app configures it), transformers through its paged cache's block reuse.
    warm_up = prompts(tokenizer, len(load_course().scenarios), learner=WARM_UP)
    config = load_config()
    batcher = Batcher(
        model,
        tokenizer,
        max_batch=max(args.concurrent),
        prefill_chunk=default_prefill_chunk(model.device),
        prefix_store=PrefixCache(config.prefix_cache_tokens),
        wake=compute.wake,
    )
    compute.attach(batcher)
    run_lab(batcher, warm_up, 4)
    for count in args.concurrent:
        results, wall = run_lab(batcher, prompts(tokenizer, count), args.max_new_tokens)
        rows.append(row("lab batcher (demos/lab/batching.py)", count, results, wall))
        print(rows[-1], flush=True)
    compute.detach(batcher)

    generation = GenerationConfig(
        max_new_tokens=args.max_new_tokens,
        do_sample=False,
        repetition_penalty=1.1,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
    )
    longest = max(len(p) for p in [*warm_up, *prompts(tokenizer, max(args.concurrent))])
    cb_config = ContinuousBatchingConfig(
        page_size=64,
        num_blocks=(max(args.concurrent) + len(warm_up))
        * ((longest + args.max_new_tokens) // 64 + 2),
        max_batch_tokens=512,
        max_requests_per_batch=max(args.concurrent),
    )
    with torch.inference_mode():
        manager = model.init_continuous_batching(
            generation_config=generation, continuous_batching_config=cb_config
        )
        manager.start()
        try:
            run_transformers(model, tokenizer, warm_up, 4, manager)
            for count in args.concurrent:
                results, wall = run_transformers(
                    model, tokenizer, prompts(tokenizer, count), args.max_new_tokens, manager
                )
                rows.append(row("transformers ContinuousBatchingManager", count, results, wall))
                print(rows[-1], flush=True)
        finally:
            manager.stop(block=True, timeout=30)
    attention = model.config._attn_implementation
    lines = [
        f"{Path(ref).name} ({str(model.dtype).replace('torch.', '')}) on {model.device} "
        f"({platform.processor() or platform.machine()}, {args.threads} threads); torch "
        f"{torch.__version__}, transformers {transformers.__version__}; greedy replies up to "
        f"{args.max_new_tokens} tokens, all messages sent at once; transformers' manager with "
        f"attention '{attention}' (paged), page size 64.",
        "",
        "| engine | conversations | first token p50 (s) | first token p95 (s) | aggregate tokens/s "
        "| tokens per reply | wall (s) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
        "(1, 5, 15 min; 2 cores).",
    ]
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
