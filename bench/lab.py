"""Benchmark of the lab's local backend: first-token latency and tokens per second, measured
through the code path a learner's message takes (``LocalBackend.stream``: chat template, prefix
cache, ``generate`` in a thread, text streamer).

Three cases, each the median of ``--runs`` replies to a real scenario's prompt (persona, facts,
the character's opening, a learner message, the hidden steering line):

* cold: nothing cached (the first reply of a process, model already loaded);
* warm: after the scenario was opened (the lab reads persona, opening and the first steering
  line into the prefix cache when a scenario starts), so only the learner's message is new;
* turn 3: a third message in the same conversation (after each reply the lab reads the
  conversation and the next steering line into the cache while the learner types).

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
from demos.lab.prompts import persona_prompt  # noqa: E402
from demos.lab.session import LabEngine  # noqa: E402

# Shapes of public instruct models (from their config.json), for --random.
SHAPES = {
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
}
LEARNER = [
    "I'd wait until after the release: porting 1,500 lines and the custom sampler now is risky.",
    "After the release we pilot Lightning on one new experiment and compare metrics.",
    "The real gain is the 4-GPU machine next quarter, where multi-GPU is a Trainer flag.",
]


def build_random_model(shape: str, tokenizer_dir: Path) -> Path:
    """A Llama-architecture model of ``shape`` with random weights, saved with the tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **SHAPES[shape],
    )
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = LlamaForCausalLM(config).to(torch.bfloat16)
    folder = Path(tempfile.mkdtemp(prefix=f"lab-{shape}-"))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    return folder


def timed_reply(engine, session, text: str) -> tuple[float, float, int]:
    """(seconds from Send to the first piece on screen, tokens per second after it, tokens).

    Goes through ``LabEngine.reply`` exactly as the UI does: score the message (MiniLM), build
    the prompt, stream; the warm-up of the next prompt that follows each reply is not timed.
    """
    start = time.perf_counter()
    first = end = None
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
    tokens = backend.count_tokens(reply)
    first = first or end
    rate = (tokens - 1) / (end - first) if tokens > 1 and end > first else float("nan")
    return first - start, rate, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model folder or Hub ID (default: the lab's CPU model)")
    parser.add_argument(
        "--random", choices=sorted(SHAPES), help="build a random model of this shape"
    )
    parser.add_argument("--tokenizer", type=Path, help="tokenizer folder for --random")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args()

    import torch

    from demos.lab.compute import compute

    compute.call(torch.set_num_threads, args.threads)  # the thread that does the lab's arithmetic
    ref = args.model
    if args.random:
        ref = str(build_random_model(args.random, args.tokenizer))
    os.environ.update({"LAB_BACKEND": "local", "LAB_MAX_NEW_TOKENS": str(args.max_new_tokens)})
    os.environ.update({"LAB_TEMPERATURE": "0.7", "LAB_TIME_LIMIT_S": "120"})
    if ref:
        os.environ.update({"LAB_CPU_MODEL": ref, "LAB_GPU_MODEL": ref})
    config = load_config()
    setup_start = time.perf_counter()
    backend = backends.LocalBackend(config)
    load_s = time.perf_counter() - setup_start
    device = str(backend._model.device)
    cache = backends.prefix_cache(backend.ref, config.prefix_cache_tokens)
    scenario = load_course().scenarios[0]
    engine = LabEngine([scenario], config)

    # One untimed conversation: kernels, allocator, thread pools and MiniLM warmed up (the app
    # loads both models when a scenario opens, before the learner writes).
    timed_reply(engine, engine.start(scenario.lesson_id), "Hello.")
    cases: dict[str, list[tuple[float, float, int]]] = {
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
    rows = []
    for name, results in cases.items():
        firsts = [r[0] for r in results]
        rates = [r[1] for r in results if r[1] == r[1]]
        tokens = [r[2] for r in results]
        rows.append(
            f"| {name} | {statistics.median(firsts):.3f} | {max(firsts):.3f} | "
            f"{statistics.median(rates) if rates else float('nan'):.1f} | {statistics.median(tokens):.0f} |"
        )
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else ""
    where = gpu or f"{platform.processor() or platform.machine()}, {args.threads} threads"
    dtype = str(backend._model.dtype).replace("torch.", "")
    name = f"random-weight {args.random}" if args.random else Path(backend.ref).name
    system_tokens = backend.count_tokens(persona_prompt(scenario))
    lines = [
        f"Lab local backend: {name} ({dtype}) on {device} ({where}); torch {torch.__version__}; "
        f"load {load_s:.1f} s; {args.runs} runs per case, median; replies up to "
        f"{args.max_new_tokens} new tokens, sampling at 0.7; persona prompt {system_tokens} tokens; "
        "timed from the learner's Send (coverage scoring included) to the first text on screen.",
        "",
        "| case | first token, median (s) | first token, worst (s) | tokens/s after the first | tokens per reply |",
        "|---|---|---|---|---|",
        *rows,
    ]
    if not gpu:
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


if __name__ == "__main__":
    main()
