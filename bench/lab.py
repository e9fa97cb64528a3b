"""Benchmark of the lab's local backend: first-token latency and tokens per second, measured
through the code path a learner's message takes (``LocalBackend.stream``: chat template, prefix
cache, the batched decoder on the compute thread).

``--concurrent N [N ...]``: N conversations at once (see :func:`run_concurrent`), one table row
per N: first-token time (p50, p95), tokens per second per conversation and in aggregate.

    .venv/bin/python bench/lab.py --concurrent 1 4 8 --out bench/results/lab_concurrent_cpu.md
    python3 bench/lab.py --concurrent 1 8 32 --random qwen2.5-1.5b \
        --tokenizer bench/assets/smollm2-tokenizer --max-new-tokens 128 --out $OUT/lab_gpu.md

Without ``--concurrent``, the single-conversation cases below.

Three cases, each the median of ``--runs`` replies through ``LabEngine.reply`` with the model
wording the director's moves (``LAB_VOICE=model``): the prompt is the persona (facts, no rubric),
the conversation, and the director's note last:

* cold: nothing cached (the first reply of a process, model already loaded);
* warm: after the scenario was opened (the lab reads persona and opening into the prefix cache
  when a scenario starts), so only the learner's message and the note are new;
* turn 3: a third message in the same conversation (after each reply the lab reads the
  conversation so far into the cache while the learner types).

    .venv/bin/python bench/lab.py                      # SmolLM2-135M-Instruct on this CPU
    python3 bench/lab.py --random smollm2-1.7b --tokenizer DIR --out bench/results/lab_gpu.md

``--random`` builds a model of that shape from its config with random weights (no download),
with the tokenizer saved in DIR (e.g. ``AutoTokenizer.from_pretrained(<the converted SmolLM2
folder>).save_pretrained(DIR)``; a few MB, small enough to carry to a GPU machine):
generation speed does not depend on the weights' values, but random weights never stop early,
so every reply runs to ``--max-new-tokens``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# The model must word the replies (offline the small model otherwise leaves them to the director).
os.environ.setdefault("LAB_VOICE", "model")

from demos.course import load_course  # noqa: E402
from demos.lab import backends  # noqa: E402
from demos.lab.config import load_config  # noqa: E402
from demos.lab.director import script_for  # noqa: E402
from demos.lab.prompts import persona_prompt, prompt_texts  # noqa: E402

ASSETS = Path(__file__).resolve().parent / "assets"
# Shapes of public instruct models (from their config.json), for --random; "tiny" for --smoke.
SHAPES = {
    "tiny": dict(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
    ),
    "smollm2-1.7b": dict(
        hidden_size=2048,
        intermediate_size=8192,
        num_hidden_layers=24,
        num_attention_heads=32,
        num_key_value_heads=32,
        max_position_embeddings=8192,
        rope_theta=130000.0,
        tie_word_embeddings=True,
    ),
    "llama-3.2-1b": dict(
        hidden_size=2048,
        intermediate_size=8192,
        num_hidden_layers=16,
        num_attention_heads=32,
        num_key_value_heads=8,
        max_position_embeddings=8192,
        rope_theta=500000.0,
        tie_word_embeddings=True,
    ),
    # The lab's default GPU model (LAB_GPU_MODEL), Qwen/Qwen2.5-1.5B-Instruct: a Qwen2 model
    # (bias on q, k, v); its own vocabulary is 151,936 tokens, kept here so the output layer costs
    # what it does there (the carried tokenizer uses the first 49,152 of them).
    "qwen2.5-1.5b": dict(
        architecture="qwen2",
        vocab_size=151936,
        hidden_size=1536,
        intermediate_size=8960,
        num_hidden_layers=28,
        num_attention_heads=12,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_theta=1000000.0,
        tie_word_embeddings=True,
    ),
}
LEARNER = [
    "I'd wait until after the release: porting 1,500 lines and the custom sampler now is risky.",
    "After the release we pilot Lightning on one new experiment and compare metrics.",
    "The real gain is the 4-GPU machine next quarter, where multi-GPU is a Trainer flag.",
]


def build_random_model(shape: str, tokenizer_dir: Path) -> Path:
    """A model of ``shape`` (Llama architecture unless the shape names another) with random
    weights, saved with the tokenizer."""
    import torch
    from transformers import (
        AutoTokenizer,
        LlamaConfig,
        LlamaForCausalLM,
        Qwen2Config,
        Qwen2ForCausalLM,
    )

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    shape_config = dict(SHAPES[shape])
    architecture = shape_config.pop("architecture", "llama")
    config_class, model_class = {
        "llama": (LlamaConfig, LlamaForCausalLM),
        "qwen2": (Qwen2Config, Qwen2ForCausalLM),
    }[architecture]
    shape_config.setdefault("vocab_size", len(tokenizer))
    config = config_class(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **shape_config,
    )
    # bf16 on a GPU (as the lab's GPU model loads); fp32 on a CPU, where bf16 is several times slower.
    gpu = torch.cuda.is_available()
    with torch.device("cuda" if gpu else "cpu"):
        model = model_class(config).to(torch.bfloat16 if gpu else torch.float32)
    folder = Path(tempfile.mkdtemp(prefix=f"lab-{shape}-"))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    return folder


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation, as numpy's default."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def conversation_opening(scenario) -> list[dict[str, str]]:
    """What the local model reads when a scenario opens (``LabEngine.warm``): the persona and
    the character's opening."""
    return [
        {"role": "system", "content": persona_prompt(scenario)},
        {"role": "assistant", "content": scenario.opening},
    ]


def director_note(scenario, index: int) -> dict[str, str]:
    """The director's note that ends each prompt when a model words a move
    (``LabEngine.model_messages``): here the card's pushback lines in turn (the lab picks the
    move from the conversation, with MiniLM, which this script does without)."""
    lines = script_for(scenario).pushback
    instruction = f"Push back on their plan, then ask: {lines[index % len(lines)]}"
    text = prompt_texts().move.format(name=scenario.character.name, instruction=instruction)
    return {"role": "system", "content": text}


def run_concurrent(backend, scenarios, count: int, turns: int, max_new_tokens: int, temperature):
    """``count`` learners in ``count`` threads, each in its own conversation (scenarios in
    turn), each opening its scenario (the lab reads the opening into the prefix cache) and
    then sending ``turns`` messages, the next as soon as the reply and the read-ahead of the
    next prompt are done. All first messages are sent at the same moment.

    Returns one dict per reply (first-token time, tokens, seconds after the first token) and
    the wall time from the first Send to the last reply's end.
    """
    import threading

    barrier = threading.Barrier(count + 1)
    results: list[dict] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def learner(index: int) -> None:
        scenario = scenarios[index % len(scenarios)]
        history = conversation_opening(scenario)
        try:
            backend.warm(history)
        finally:
            barrier.wait()
        try:
            for turn in range(turns):
                text = LEARNER[(index + turn) % len(LEARNER)] + f" (learner {index}, turn {turn})"
                history.append({"role": "user", "content": text})
                sent = time.perf_counter()
                first = None
                reply = ""
                stream = backend.stream(
                    [*history, director_note(scenario, index + turn)],
                    max_new_tokens=max_new_tokens,
                    time_limit_s=300.0,
                    temperature=temperature,
                )
                try:
                    for piece in stream:
                        if isinstance(piece, backends.Waiting):
                            continue
                        if first is None:
                            first = time.perf_counter()
                        reply += piece
                finally:
                    stream.close()
                end = time.perf_counter()
                with lock:
                    results.append(
                        {
                            "first_s": (first or end) - sent,
                            "tokens": stream.tokens,
                            "after_first_s": end - (first or end),
                            "end": end,
                        }
                    )
                history.append({"role": "assistant", "content": reply})
                backend.warm(history)  # the lab reads the conversation ahead, as after a reply
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=learner, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    wall = max(r["end"] for r in results) - start
    return results, wall


def concurrent_table(args, backend, scenarios) -> list[str]:
    """One row per N. With ``--rounds R`` the sequence of N is run R times in turn (1, 4, 8, 1,
    4, 8, ...), so each N=8 run has an N=1 run minutes away: on a shared machine whose speed
    drifts by a third within minutes, the ratio of neighbouring runs is steadier than the ratio
    of two runs far apart. Replies are pooled over the rounds; the aggregate is the median of
    the rounds' aggregates (with their range) and the ratio the median of the rounds' ratios."""
    import torch

    batcher = backend._batcher
    runs: dict[int, list[dict]] = {count: [] for count in args.concurrent}
    for round_index in range(args.rounds):
        for count in args.concurrent:
            run_concurrent(backend, scenarios, min(count, 2), 1, 8, args.temperature)  # warm-up
            before = dict(batcher.stats)
            results, wall = run_concurrent(
                backend, scenarios, count, args.turns, args.max_new_tokens, args.temperature
            )
            steps = batcher.stats["decode_steps"] - before["decode_steps"]
            total = sum(r["tokens"] for r in results)
            runs[count].append(
                {
                    "results": results,
                    "wall": wall,
                    "aggregate": total / wall,
                    "rows_decoded": batcher.stats["rows_decoded"] - before["rows_decoded"],
                    "steps": steps,
                }
            )
            print(
                f"round {round_index + 1}: {count} conversations, {total / wall:.1f} tokens/s "
                f"aggregate, wall {wall:.1f} s",
                flush=True,
            )
    rows = []
    for count, done in runs.items():
        results = [r for run in done for r in run["results"]]
        firsts = [r["first_s"] for r in results]
        rates = [
            (r["tokens"] - 1) / r["after_first_s"]
            for r in results
            if r["tokens"] > 1 and r["after_first_s"] > 0
        ]
        aggregates = [run["aggregate"] for run in done]
        spread = f" ({min(aggregates):.1f}-{max(aggregates):.1f})" if len(aggregates) > 1 else ""
        rows_per_step = sum(run["rows_decoded"] for run in done) / max(
            sum(run["steps"] for run in done), 1
        )
        total = sum(r["tokens"] for r in results)
        rows.append(
            f"| {count} | {len(results)} | {percentile(firsts, 50):.2f} | "
            f"{percentile(firsts, 95):.2f} | {statistics.median(rates) if rates else float('nan'):.1f} | "
            f"{statistics.median(aggregates):.1f}{spread} | {total / len(results):.0f} | "
            f"{rows_per_step:.1f} | {statistics.median(run['wall'] for run in done):.1f} |"
        )
        print(rows[-1], flush=True)
    model = backend._model
    device = str(model.device)
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else ""
    where = gpu or f"{platform.processor() or platform.machine()}, {args.threads} threads"
    dtype = str(model.dtype).replace("torch.", "")
    if any(type(m).__name__ == "BatchedBF16Linear" for m in model.modules()):
        dtype += "; linear layers in bf16 (LAB_CPU_BF16)"
    name = f"random-weight {args.random}" if args.random else Path(backend.ref).name
    lines = [
        f"Lab local backend, conversations at once: {name} ({dtype}) on {device} ({where}); "
        f"torch {torch.__version__}, transformers {__import__('transformers').__version__}; "
        f"load {args.load_s:.1f} s; batch size {batcher.max_batch}, queue limit "
        f"{batcher.max_waiting}; {args.rounds} round{'s' if args.rounds > 1 else ''} of "
        f"{', '.join(map(str, args.concurrent))} conversations; each learner opens a scenario (read ahead into the prefix "
        f"cache) and sends {args.turns} messages, all first messages at the same moment, each "
        f"next one as soon as its reply is done; replies up to {args.max_new_tokens} new "
        f"tokens, sampling at {args.temperature}.",
        "",
        "| conversations | replies | first token p50 (s) | first token p95 (s) | tokens/s per "
        "conversation (median) | aggregate tokens/s | tokens per reply | rows per decoding step "
        "| wall (s) |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    if 1 in runs and len(runs) > 1:
        lines.append("")
        for count, done in runs.items():
            if count == 1:
                continue
            ratios = [run["aggregate"] / alone["aggregate"] for run, alone in zip(done, runs[1])]
            each = ", ".join(f"{r:.2f}x" for r in ratios)
            firsts = [r["first_s"] for run in done for r in run["results"]]
            lines.append(
                f"- {count} conversations: aggregate {statistics.median(ratios):.2f}x the "
                f"single conversation's (median of {len(ratios)} round"
                f"{'s' if len(ratios) > 1 else ''}: {each}), first token p50 "
                f"{percentile(firsts, 50):.2f} s."
            )
    return lines


class StepProbe:
    """Times each decoding step of the batcher (``Batcher._decode``) and the model's forward
    pass inside it, synchronising the GPU before each reading, and runs cProfile on the compute
    thread during ``Batcher.step`` (a profile of the main thread only sees imports and loading;
    the steps run on the lab's compute thread)."""

    def __init__(self, backend):
        import cProfile

        import torch

        batcher = backend._batcher
        self.model = backend._model
        self.profile = cProfile.Profile()
        self.steps: list[float] = []
        self.forwards: list[float] = []
        self.lengths: list[int] = []
        cuda = str(self.model.device).startswith("cuda")
        sync = torch.cuda.synchronize if cuda else (lambda: None)
        self.sync = sync
        step, decode, forward = batcher.step, batcher._decode, self.model.forward
        inside = {"decode": False}

        def timed_forward(*a, **k):
            if not inside["decode"]:
                return forward(*a, **k)
            sync()
            start = time.perf_counter()
            out = forward(*a, **k)
            sync()
            self.forwards.append(time.perf_counter() - start)
            return out

        def timed_decode():
            sync()
            self.lengths.append(int(batcher._mask.shape[1]) + 1)
            inside["decode"] = True
            start = time.perf_counter()
            try:
                decode()
                sync()
            finally:
                inside["decode"] = False
            self.steps.append(time.perf_counter() - start)

        def profiled_step():
            self.profile.enable()
            try:
                step()
            finally:
                self.profile.disable()

        self.model.forward = timed_forward
        batcher._decode = timed_decode
        batcher.step = profiled_step

    def pure_forward_ms(self, length: int, runs: int = 20) -> float:
        """Median time of one token through the model alone, after a ``length``-token prompt
        in a plain ``DynamicCache`` (no mask, no positions, no sampling)."""
        import torch
        from transformers import DynamicCache

        from demos.lab.compute import compute

        def measure() -> float:
            with torch.inference_mode():
                ids = torch.randint(100, 1000, (1, length), device=self.model.device)
                cache = DynamicCache(config=self.model.config)
                self.model(
                    input_ids=ids,
                    use_cache=True,
                    logits_to_keep=1,
                    **{backends._cache_argument_name(): cache},
                )
                times = []
                for _ in range(runs):
                    self.sync()
                    start = time.perf_counter()
                    self.model(
                        input_ids=ids[:, -1:],
                        use_cache=True,
                        logits_to_keep=1,
                        **{backends._cache_argument_name(): cache},
                    )
                    self.sync()
                    times.append(time.perf_counter() - start)
                    cache.crop(-1)
                return statistics.median(times) * 1000

        return compute.call(measure)

    def report(self) -> list[str]:
        import io
        import pstats

        if not self.steps:
            return ["", "No decoding step was timed."]
        length = int(statistics.median(self.lengths))
        step = statistics.median(self.steps) * 1000
        forward = statistics.median(self.forwards) * 1000
        pure = self.pure_forward_ms(length)
        text = io.StringIO()
        pstats.Stats(self.profile, stream=text).sort_stats("tottime").print_stats(25)
        table = [line for line in text.getvalue().splitlines() if line.strip()][-27:]
        return [
            "",
            f"Decoding steps (all rows of the runs above): {len(self.steps)}, median {step:.1f} ms "
            f"a step, of which the model's forward pass {forward:.1f} ms; one token through the "
            f"model alone after {length} tokens (plain DynamicCache): {pure:.1f} ms.",
            "",
            "Compute thread, cProfile of Batcher.step, by own time (top 25):",
            "",
            "```",
            *table,
            "```",
        ]


class ModelClock:
    """Times the model's own stream inside ``LabEngine.reply``: wraps ``LocalBackend.stream`` so
    each piece the model yields is stamped before the reply check (``vet_reply``) sees it. The
    check shows a reply sentence by sentence and holds back what fails it (the director's line
    is shown instead), so "first text on screen" and "the model's first token" differ."""

    def __init__(self):
        self.first: float | None = None
        self.last: float | None = None
        self.tokens = 0
        self._original = backends.LocalBackend.stream

    def __enter__(self) -> ModelClock:
        clock, original = self, self._original

        class Clocked:
            def __init__(self, stream):
                self._stream = stream

            def __iter__(self):
                return self

            def __next__(self):
                piece = next(self._stream)
                if not isinstance(piece, backends.Waiting):
                    now = time.perf_counter()
                    clock.first = clock.first or now
                    clock.last = now
                    clock.tokens = self._stream.tokens
                return piece

            def close(self):
                self._stream.close()

        def stream(backend, *args, **kwargs):
            return Clocked(original(backend, *args, **kwargs))

        backends.LocalBackend.stream = stream
        return self

    def __exit__(self, *exc) -> None:
        backends.LocalBackend.stream = self._original


def rate(tokens: int, first: float | None, end: float | None) -> float:
    """Tokens per second after the first (NaN when there is nothing to divide)."""
    if first is None or end is None or tokens < 2 or end <= first:
        return float("nan")
    return (tokens - 1) / (end - first)


def timed_reply(engine, session, text: str) -> dict[str, float]:
    """One reply through ``LabEngine.reply`` exactly as the UI does it (score the message with
    MiniLM, build the prompt, stream, check the reply); the warm-up of the next prompt that
    follows each reply is not timed. Returns, in seconds from Send:

    * ``model_first``, ``model_rate``, ``model_tokens``: the model's own first token, its tokens
      per second after that, and how many it generated before the lab stopped reading;
    * ``screen_first``, ``shown_tokens``: the first text on screen (after the reply check) and
      the tokens of the reply as finally shown (the model's sentences, or the director's line).
    """
    start = time.perf_counter()
    first = end = None
    with ModelClock() as clock:
        updates = engine.reply(session, text)
        for update in updates:
            if first is None and session.messages[-1]["role"] == "assistant":
                if session.messages[-1]["content"]:
                    first = time.perf_counter()
            if update.done:
                end = time.perf_counter()
                break
    for _ in updates:  # the warm-up of the next prompt, after the reply is complete
        pass
    reply = session.messages[-1]["content"]
    backend = backends.LocalBackend(engine.config)
    model_first = clock.first - start if clock.first is not None else float("nan")
    return {
        "model_first": model_first,
        "model_rate": rate(clock.tokens, clock.first, clock.last),
        "model_tokens": clock.tokens,
        "screen_first": (first or end) - start,
        "shown_tokens": backend.count_tokens(reply),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model folder or Hub ID (default: the lab's CPU model)")
    parser.add_argument(
        "--random", choices=sorted(SHAPES), help="build a random model of this shape"
    )
    parser.add_argument(
        "--tokenizer",
        type=Path,
        default=ASSETS / "smollm2-tokenizer",
        help="tokenizer folder for --random (default: SmolLM2's, in bench/assets)",
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    parser.add_argument(
        "--concurrent", type=int, nargs="+", metavar="N", help="conversations at once, e.g. 1 4 8"
    )
    parser.add_argument("--turns", type=int, default=3, help="messages per learner (--concurrent)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="(--concurrent) run the whole sequence of N this many times in turn; the table "
        "pools the rounds and the ratio to N=1 is the median of neighbouring runs' ratios",
    )
    parser.add_argument("--batch-size", type=int, help="LAB_BATCH_SIZE (default: the lab's)")
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="(--concurrent) time every decoding step against the model's forward pass alone "
        "and profile the compute thread (cProfile), where the per-step work happens",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a tiny random model and short runs (checks the script)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.random = args.random or "tiny"
        args.runs, args.turns, args.max_new_tokens = 1, 1, 8
        args.concurrent = args.concurrent and [min(n, 4) for n in args.concurrent]

    import torch

    from demos.lab.compute import compute

    compute.call(torch.set_num_threads, args.threads)  # the thread that does the lab's arithmetic
    ref = args.model
    if args.random:
        ref = str(build_random_model(args.random, args.tokenizer))
    os.environ.update({"LAB_BACKEND": "local", "LAB_MAX_NEW_TOKENS": str(args.max_new_tokens)})
    os.environ.update({"LAB_TEMPERATURE": str(args.temperature), "LAB_TIME_LIMIT_S": "120"})
    if args.batch_size or args.concurrent:
        wanted = args.batch_size or (max(args.concurrent) if args.concurrent else 0)
        os.environ["LAB_BATCH_SIZE"] = str(wanted)
    if ref:
        os.environ.update({"LAB_CPU_MODEL": ref, "LAB_GPU_MODEL": ref})
    config = load_config()
    setup_start = time.perf_counter()
    backend = backends.LocalBackend(config)
    args.load_s = time.perf_counter() - setup_start
    device = str(backend._model.device)
    if args.concurrent:
        probe = StepProbe(backend) if args.profile else None
        lines = concurrent_table(args, backend, load_course().scenarios)
        if probe is not None:
            lines += probe.report()
    else:
        lines = single_table(args, backend, config)
    if not device.startswith("cuda"):
        try:
            load_average = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            lines += [
                "",
                f"Load average at the end: {load_average} (1, 5, 15 min; 2 cores, other work on the machine).",
            ]
        except OSError:
            pass
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n")


def single_table(args, backend, config) -> list[str]:
    """The three single-conversation cases, through ``LabEngine.reply`` as the UI calls it."""
    import torch

    from demos.lab.session import LabEngine

    device = str(backend._model.device)
    cache = backends.prefix_cache(backend.ref, config.prefix_cache_tokens)
    scenario = load_course().scenarios[0]
    engine = LabEngine([scenario], config)

    # One untimed conversation: kernels, allocator, thread pools and MiniLM warmed up (the app
    # loads both models when a scenario opens, before the learner writes).
    timed_reply(engine, engine.start(scenario.lesson_id), "Hello.")
    cases: dict[str, list[dict[str, float]]] = {
        "cold (nothing cached)": [],
        "warm (scenario opened)": [],
        "turn 3 (conversation cached)": [],
    }
    for run in range(args.runs):
        text = LEARNER[run % len(LEARNER)] + f" (run {run})"
        cache.clear()
        cases["cold (nothing cached)"].append(
            timed_reply(engine, engine.start(scenario.lesson_id), text)
        )
        cache.clear()
        session = engine.start(scenario.lesson_id)
        engine.warm(session)
        cases["warm (scenario opened)"].append(timed_reply(engine, session, text))
        timed_reply(engine, session, LEARNER[(run + 1) % len(LEARNER)])
        cases["turn 3 (conversation cached)"].append(timed_reply(engine, session, text))

    def column(results: list[dict[str, float]], key: str) -> list[float]:
        return [r[key] for r in results if r[key] == r[key]] or [float("nan")]  # NaN: none

    rows = []
    for name, results in cases.items():

        def median(key: str, results=results) -> float:
            return statistics.median(column(results, key))

        def worst(key: str, results=results) -> float:
            return max(column(results, key))

        rows.append(
            f"| {name} | {median('model_first'):.3f} | {worst('model_first'):.3f} | "
            f"{median('model_rate'):.1f} | {median('model_tokens'):.0f} | "
            f"{median('screen_first'):.3f} | {worst('screen_first'):.3f} | "
            f"{median('shown_tokens'):.0f} |"
        )
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else ""
    where = gpu or f"{platform.processor() or platform.machine()}, {args.threads} threads"
    dtype = str(backend._model.dtype).replace("torch.", "")
    name = f"random-weight {args.random}" if args.random else Path(backend.ref).name
    system_tokens = backend.count_tokens(persona_prompt(scenario))
    return [
        f"Lab local backend: {name} ({dtype}) on {device} ({where}); torch {torch.__version__}; "
        f"load {args.load_s:.1f} s; {args.runs} runs per case, median; replies up to "
        f"{args.max_new_tokens} new tokens, sampling at {args.temperature}; persona prompt "
        f"{system_tokens} tokens. Times from the learner's Send (coverage scoring included): "
        "the model's own first token and tokens/s (its raw stream, before the reply check), "
        "then the first text on screen (after the check, which shows whole sentences and "
        "replaces a reply that fails it with the director's line).",
        "",
        "| case | model's first token, median (s) | worst (s) | model tokens/s after the first "
        "| model tokens | first text on screen, median (s) | worst (s) | tokens shown |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ]


if __name__ == "__main__":
    main()
