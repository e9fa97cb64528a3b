"""Check the calculator against a real GPU: time training jobs, compare with the prediction.

On a CUDA machine (torch, transformers, peft; no downloads: models are built from a config with
random weights, which cost the same FLOPs and memory as trained ones):

    PYTHONUNBUFFERED=1 python3 bench/calculator_gpu_check.py --out $OUT

measures each job (warm-up steps, then timed steps) and writes ``calculator_gpu.json`` (the
measurements, written after every job) and ``calculator_gpu.md`` (measured vs predicted) into
``--out``. A time budget (``--budget-s``, default 390 s) skips the jobs that would not fit in it.

Anywhere (no GPU), re-make the table from saved measurements with the calculator as it is now:

    python -m bench.calculator_gpu_check --from-json bench/results/calculator_h200_round2.json

and check the script's plumbing on CPU with tiny shapes: ``python bench/calculator_gpu_check.py --smoke``.

Compared: seconds per optimizer step (the calculator's time), and peak memory. Measured memory is
``torch.cuda.max_memory_reserved()`` plus the CUDA context (device memory in use minus PyTorch's
reserved memory, read once the job is set up); predicted is the calculator's total. The calculator's
``allocated`` (its total less the context and allocator slack) is compared with
``max_memory_allocated()`` too: that isolates the formula from the allocator.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from demos.calculator.compute import flops_per_parameter_token  # noqa: E402
from demos.calculator.estimate import ModelJob, estimate  # noqa: E402
from demos.calculator.model_size import architecture_from_config  # noqa: E402

GIB = 2**30
WARMUP_STEPS = 5
TIMED_STEPS = 25
LORA_RANK = 16

# Shapes of real models, as their config.json gives them (transformers config keyword arguments).
SHAPES = {
    # Llama 3.2 1B with a 32k vocabulary, and a ~0.5B sibling (the first round's jobs).
    "llama-1.1B": (
        "llama",
        dict(
            hidden_size=2048,
            intermediate_size=8192,
            num_hidden_layers=16,
            num_attention_heads=32,
            num_key_value_heads=8,
            vocab_size=32000,
            tie_word_embeddings=False,
        ),
    ),
    "llama-0.5B": (
        "llama",
        dict(
            hidden_size=1024,
            intermediate_size=4096,
            num_hidden_layers=24,
            num_attention_heads=16,
            num_key_value_heads=16,
            vocab_size=32000,
            tie_word_embeddings=False,
        ),
    ),
    # SmolLM2-135M (under 200M parameters: item 4).
    "smollm2-135M": (
        "llama",
        dict(
            hidden_size=576,
            intermediate_size=1536,
            num_hidden_layers=30,
            num_attention_heads=9,
            num_key_value_heads=3,
            vocab_size=49152,
            tie_word_embeddings=True,
        ),
    ),
    "gpt2-medium": (
        "gpt2",
        dict(n_embd=1024, n_layer=24, n_head=16, vocab_size=50257, n_positions=1024),
    ),
    # all-MiniLM-L6-v2 (sentence-transformers), as a sequence classifier: the course's own model.
    "minilm-L6": (
        "bert",
        dict(
            hidden_size=384,
            intermediate_size=1536,
            num_hidden_layers=6,
            num_attention_heads=12,
            vocab_size=30522,
            num_labels=2,
        ),
    ),
    "bert-base": (
        "bert",
        dict(
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            vocab_size=28996,
            num_labels=2,
        ),
    ),
    # T5 base (relu) and Flan-T5 base (gated-gelu): encoder-decoders (items 1 and 3).
    "t5-base": (
        "t5",
        dict(
            d_model=768,
            d_ff=3072,
            d_kv=64,
            num_heads=12,
            num_layers=12,
            num_decoder_layers=12,
            vocab_size=32128,
            feed_forward_proj="relu",
        ),
    ),
    "flan-t5-base": (
        "t5",
        dict(
            d_model=768,
            d_ff=2048,
            d_kv=64,
            num_heads=12,
            num_layers=12,
            num_decoder_layers=12,
            vocab_size=32128,
            feed_forward_proj="gated-gelu",
            tie_word_embeddings=False,
        ),
    ),
}

# name, shape, task, method, sequence length, batch, gradient checkpointing, target length (seq2seq)
JOBS = [
    ("1.1B full", "llama-1.1B", "causal-lm", "full", 1024, 8, False, None),
    ("1.1B LoRA r16", "llama-1.1B", "causal-lm", "lora", 1024, 8, False, None),
    ("1.1B full + checkpointing", "llama-1.1B", "causal-lm", "full", 1024, 8, True, None),
    ("1.1B LoRA + checkpointing", "llama-1.1B", "causal-lm", "lora", 1024, 16, True, None),
    ("1.1B LoRA classifier", "llama-1.1B", "classification", "lora", 1024, 8, False, None),
    ("0.5B full", "llama-0.5B", "causal-lm", "full", 512, 16, False, None),
    ("0.5B full + checkpointing", "llama-0.5B", "causal-lm", "full", 512, 32, True, None),
    ("0.5B LoRA r16", "llama-0.5B", "causal-lm", "lora", 512, 16, False, None),
    ("1.1B inference", "llama-1.1B", "causal-lm", "inference", 1024, 16, False, None),
    ("GPT-2 medium full", "gpt2-medium", "causal-lm", "full", 1024, 8, False, None),
    ("SmolLM2-135M full", "smollm2-135M", "causal-lm", "full", 512, 16, False, None),
    ("SmolLM2-135M full, batch 2", "smollm2-135M", "causal-lm", "full", 256, 2, False, None),
    ("MiniLM-L6 classifier, 64 x 128", "minilm-L6", "classification", "full", 128, 64, False, None),
    ("MiniLM-L6 classifier, 8 x 128", "minilm-L6", "classification", "full", 128, 8, False, None),
    ("BERT base classifier, 16 x 512", "bert-base", "classification", "full", 512, 16, False, None),
    ("BERT base masked LM, 16 x 512", "bert-base", "masked-lm", "full", 512, 16, False, None),
    ("T5 base full, 512 -> 128", "t5-base", "seq2seq", "full", 512, 16, False, 128),
    ("Flan-T5 base full, 512 -> 128", "flan-t5-base", "seq2seq", "full", 512, 16, False, 128),
    ("Flan-T5 base LoRA, 512 -> 128", "flan-t5-base", "seq2seq", "lora", 512, 16, False, 128),
]
SMOKE_SHAPES = {
    "llama": dict(
        hidden_size=64,
        intermediate_size=176,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=500,
    ),
    "gpt2": dict(n_embd=64, n_layer=2, n_head=4, vocab_size=500, n_positions=128),
    "bert": dict(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        vocab_size=500,
        num_labels=2,
    ),
    "t5": dict(
        d_model=64,
        d_ff=128,
        d_kv=16,
        num_heads=4,
        num_layers=2,
        num_decoder_layers=2,
        vocab_size=500,
    ),
}
LORA_TARGETS = {
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gpt2": ["c_attn"],
    "bert": ["query", "key", "value"],
    "t5": ["q", "k", "v", "o"],
}


def make_config(family: str, shape: dict):
    import transformers

    if family == "llama":
        return transformers.LlamaConfig(**shape, max_position_embeddings=4096, pad_token_id=0)
    if family == "gpt2":
        return transformers.GPT2Config(**shape, pad_token_id=0)
    if family == "bert":
        return transformers.BertConfig(**shape)
    return transformers.T5Config(**shape, decoder_start_token_id=0, pad_token_id=0)


def model_class(family: str, task: str):
    import transformers

    if task == "classification":
        return transformers.AutoModelForSequenceClassification
    if task == "masked-lm":
        return transformers.AutoModelForMaskedLM
    if task == "seq2seq":
        return transformers.AutoModelForSeq2SeqLM
    return transformers.AutoModelForCausalLM


def run_job(name, shape_key, task, method, seq, batch, checkpointing, target, smoke=False):
    import torch

    family, shape = SHAPES[shape_key]
    if smoke:
        shape = SMOKE_SHAPES[family]
        seq, batch, target = min(seq, 32), min(batch, 2), min(target or 0, 16) or None
    device = "cpu" if smoke else "cuda"
    torch.manual_seed(0)
    config = make_config(family, shape)
    config._attn_implementation = "sdpa"
    if not smoke:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    with torch.device(device):
        model = model_class(family, task).from_config(config)
    parameters = sum(p.numel() for p in model.parameters())
    if method == "inference":
        model = model.to(torch.bfloat16).eval()
    elif method == "lora":
        from peft import LoraConfig, get_peft_model

        # The usual LoRA recipe: base weights stored in bf16, adapters in fp32 (PEFT's default), autocast.
        model = model.to(torch.bfloat16)
        lora = LoraConfig(
            r=LORA_RANK,
            lora_alpha=2 * LORA_RANK,
            lora_dropout=0.0,
            target_modules=LORA_TARGETS[family],
            fan_in_fan_out=family == "gpt2",
            task_type={"classification": "SEQ_CLS", "seq2seq": "SEQ_2_SEQ_LM"}.get(task),
        )
        model = get_peft_model(model, lora)
    if checkpointing:
        model.config.use_cache = False
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = None
    if method != "inference":
        model.train()
        optimizer = torch.optim.AdamW(trainable, lr=1e-5, fused=not smoke)
    data = torch.randint(1, config.vocab_size, (batch, seq), device=device)
    kwargs = {"input_ids": data}
    if task == "classification":
        kwargs["labels"] = torch.zeros(batch, dtype=torch.long, device=device)
    elif task == "seq2seq":
        kwargs["labels"] = torch.randint(1, config.vocab_size, (batch, target), device=device)
    else:
        kwargs["labels"] = data

    def step():
        if method == "inference":
            with torch.no_grad():
                model(input_ids=data)
            return
        with torch.autocast(device, dtype=torch.bfloat16, enabled=not smoke):
            loss = model(**kwargs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    warmup, timed = (1, 2) if smoke else (WARMUP_STEPS, TIMED_STEPS)
    for _ in range(warmup):
        step()
    context_gib = 0.0
    if not smoke:
        torch.cuda.synchronize()
        free, total = torch.cuda.mem_get_info()
        context_gib = ((total - free) - torch.cuda.memory_reserved()) / GIB
    start = time.perf_counter()
    for _ in range(timed):
        step()
    if not smoke:
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / timed
    result = dict(
        name=name,
        model=shape_key,
        family=family,
        task=task,
        method=method,
        sequence_length=seq,
        target_length=target,
        batch_size=batch,
        gradient_checkpointing=checkpointing,
        parameters=parameters,
        config=config.to_dict(),
        seconds_per_step=seconds,
        tokens_per_second=batch * seq / seconds,
        peak_allocated_gib=0.0 if smoke else torch.cuda.max_memory_allocated() / GIB,
        peak_reserved_gib=0.0 if smoke else torch.cuda.max_memory_reserved() / GIB,
        cuda_context_gib=context_gib,
    )
    model = optimizer = data = kwargs = None  # free the GPU memory before the next job
    if not smoke:
        torch.cuda.empty_cache()
    return result


def _config_of(measured: dict) -> dict:
    """The measured model's config dict (first-round files kept only the shape key)."""
    if "config" in measured:
        return measured["config"]
    family, shape = SHAPES[measured["model"]]
    config = dict(shape)
    config["model_type"] = family
    if family == "llama":
        config["hidden_act"] = "silu"
    if family == "gpt2":
        config.update(activation_function="gelu_new", resid_pdrop=0.1)
    return config


def predict(measured: dict, gpu: str = "H100") -> dict:
    """The calculator's estimate for the measured job (same shape, read from its config; same GPU)."""
    arch = architecture_from_config(_config_of(measured))
    steps = 1000
    job = ModelJob(
        parameters=measured["parameters"],
        examples=steps * measured["batch_size"],
        tokens_per_example=measured["sequence_length"],
        epochs=1,
        sequence_length=measured["sequence_length"],
        batch_size=measured["batch_size"],
        method=measured["method"],
        precision="mixed",
        optimizer="adamw",
        gradient_checkpointing=measured["gradient_checkpointing"],
        lora_rank=LORA_RANK,
        gpu=gpu,
        architecture=arch,
        task=measured.get("task", ""),
        target_length=measured.get("target_length"),
    )
    result = estimate(job)
    k = flops_per_parameter_token(job)
    achieved = k * measured["parameters"] * measured["tokens_per_second"] / 989.4e12
    return dict(
        seconds_per_step=result.hours * 3600 / steps,
        total_gib=result.memory.total,
        allocated_gib=result.memory.allocated,
        implied_mfu=achieved,
        k=k,
        bound=result.assumptions["bound_by"],
    )


def gpu_key(device: str) -> str:
    return "H200" if "H200" in device else "H100"  # the smoke test predicts for the H100


def table(measurements: list[dict], device: str) -> str:
    gpu = gpu_key(device)
    lines = [
        f"Measured on: {device}. Predicted by demos.calculator for the {gpu} with its current "
        "defaults; the shape of each model is read from its config by model_size.architecture_from_config.",
        "",
        "| job | params | seq x batch | measured s/step | predicted s/step | time error | bound | "
        "implied MFU | measured peak GiB | predicted GiB | memory error | allocated GiB | predicted | error |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in measurements:
        p = predict(m, gpu)
        measured_mem = m["peak_reserved_gib"] + m["cuda_context_gib"]
        time_error = p["seconds_per_step"] / m["seconds_per_step"] - 1
        mem_error = p["total_gib"] / measured_mem - 1 if measured_mem else math.nan
        alloc_error = (
            p["allocated_gib"] / m["peak_allocated_gib"] - 1
            if m["peak_allocated_gib"]
            else math.nan
        )
        target = f" -> {m['target_length']}" if m.get("target_length") else ""
        lines.append(
            f"| {m['name']} | {m['parameters'] / 1e9:.3f}B | {m['sequence_length']}{target} x {m['batch_size']} "
            f"| {m['seconds_per_step']:.4f} | {p['seconds_per_step']:.4f} | {time_error:+.0%} | {p['bound']} "
            f"| {p['implied_mfu']:.2f} (k={p['k']:g}) "
            f"| {measured_mem:.2f} | {p['total_gib']:.2f} | {mem_error:+.0%} "
            f"| {m['peak_allocated_gib']:.2f} | {p['allocated_gib']:.2f} | {alloc_error:+.0%} |"
        )
    lines += [
        "",
        "Time error = predicted / measured - 1 (positive: the calculator is pessimistic). "
        "Measured peak = max_memory_reserved + CUDA context. Targets (issue 14): time within 35%, "
        "memory within 25%.",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("."), help="folder for the JSON and the table"
    )
    parser.add_argument(
        "--from-json", type=Path, help="re-make the table from saved measurements (no GPU)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny shapes on CPU: checks the script, not the GPU"
    )
    parser.add_argument(
        "--budget-s", type=float, default=390.0, help="skip jobs once this many seconds are spent"
    )
    parser.add_argument("--only", help="run only jobs whose name contains this text")
    args = parser.parse_args(argv)
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        print(table(saved["measurements"], saved["device"]))
        return 0
    import torch

    if args.smoke:
        device = f"CPU smoke test (torch {torch.__version__})"
    else:
        device = f"{torch.cuda.get_device_name()} (torch {torch.__version__}, Python {platform.python_version()})"
    print(device, flush=True)
    started = time.perf_counter()
    measurements = []
    jobs = [j for j in JOBS if not args.only or args.only in j[0]]
    for job in jobs:
        if time.perf_counter() - started > args.budget_s:
            print(f"{job[0]}: skipped (time budget of {args.budget_s:g} s spent)", flush=True)
            continue
        try:
            result = run_job(*job, smoke=args.smoke)
        except Exception as error:  # one failed job must not lose the others' numbers
            print(f"{job[0]}: FAILED {type(error).__name__}: {error}", flush=True)
            if not args.smoke:
                torch.cuda.empty_cache()
            continue
        measurements.append(result)
        summary = {k: v for k, v in result.items() if k != "config"}
        print(json.dumps(summary), flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "calculator_gpu.json").write_text(
            json.dumps({"device": device, "measurements": measurements}, indent=2)
        )
    # The smoke table's numbers mean nothing (CPU, tiny shapes); it checks that every job predicts.
    text = table(measurements, device)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "calculator_gpu.md").write_text(text + "\n")
    print(text)
    print(f"total {time.perf_counter() - started:.0f} s", flush=True)
    ok = measurements and not any(math.isnan(m["seconds_per_step"]) for m in measurements)
    return 0 if ok and len(measurements) == len(jobs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
