"""Check the calculator against a real GPU: time fine-tuning jobs, compare with the prediction.

On a CUDA machine (torch, transformers, peft; no downloads needed: models are built from a config
with random weights, which cost the same FLOPs and memory as trained ones):

    PYTHONUNBUFFERED=1 python3 bench/calculator_gpu_check.py --out results_dir

measures each job (warm-up steps, then timed steps), writes ``calculator_gpu.json`` with the
measurements and ``calculator_gpu.md`` with the measured-vs-predicted table.

Anywhere (no GPU), re-make the table from saved measurements with the calculator as it is now:

    python -m bench.calculator_gpu_check --from-json bench/results/calculator_h100.json \
        > bench/results/calculator_h100.md

Compared: seconds per optimizer step (the calculator's time), and peak memory. Measured memory is
``torch.cuda.max_memory_reserved()`` plus the CUDA context (device memory in use minus PyTorch's
reserved memory, read once the job is set up); predicted is the calculator's total.
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

from demos.calculator.estimate import (  # noqa: E402
    Architecture,
    ModelJob,
    estimate,
    flops_per_parameter_token,
)

GIB = 2**30

# Llama-style decoders (the shape of Llama 3.2 1B with a 32k vocabulary, and a ~0.5B sibling), and a
# GPT-2 medium (GeLU MLP, dropout 0.1: the layer Korthikanti et al. 2022 count).
MODELS = {
    "llama-1.1B": dict(
        hidden_size=2048,
        intermediate_size=8192,
        num_hidden_layers=16,
        num_attention_heads=32,
        num_key_value_heads=8,
        vocab_size=32000,
        tie_word_embeddings=False,
    ),
    "llama-0.5B": dict(
        hidden_size=1024,
        intermediate_size=4096,
        num_hidden_layers=24,
        num_attention_heads=16,
        num_key_value_heads=16,
        vocab_size=32000,
        tie_word_embeddings=False,
    ),
    "gpt2-medium": dict(
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        num_key_value_heads=16,
        vocab_size=50257,
        tie_word_embeddings=True,
    ),
}

JOBS = [
    # name, model, method, seq, batch, gradient checkpointing
    ("1.1B full", "llama-1.1B", "full", 1024, 8, False),
    ("1.1B LoRA r16", "llama-1.1B", "lora", 1024, 8, False),
    ("1.1B full + checkpointing", "llama-1.1B", "full", 1024, 8, True),
    ("0.5B full", "llama-0.5B", "full", 512, 16, False),
    ("0.5B LoRA r16", "llama-0.5B", "lora", 512, 16, False),
    ("1.1B inference", "llama-1.1B", "inference", 1024, 16, False),
    ("GPT-2 medium full", "gpt2-medium", "full", 1024, 8, False),
]
WARMUP_STEPS = 5
TIMED_STEPS = 25
LORA_RANK = 16


def run_job(name, model_key, method, seq, batch, checkpointing):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    shape = MODELS[model_key]
    if model_key.startswith("gpt2"):
        config = GPT2Config(
            n_embd=shape["hidden_size"],
            n_layer=shape["num_hidden_layers"],
            n_head=shape["num_attention_heads"],
            vocab_size=shape["vocab_size"],
            n_positions=1024,
        )
        config._attn_implementation = "sdpa"
        model_class = GPT2LMHeadModel
    else:
        config = LlamaConfig(**shape, max_position_embeddings=4096)
        config._attn_implementation = "sdpa"
        model_class = LlamaForCausalLM
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    with torch.device("cuda"):
        model = model_class(config)
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
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        )
        model = get_peft_model(model, lora)
    if checkpointing:
        model.config.use_cache = False
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = None
    if method != "inference":
        model.train()
        optimizer = torch.optim.AdamW(trainable, lr=1e-5, fused=True)
    data = torch.randint(0, config.vocab_size, (batch, seq), device="cuda")

    def step():
        if method == "inference":
            with torch.no_grad():
                model(input_ids=data)
            return
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(input_ids=data, labels=data).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(WARMUP_STEPS):
        step()
    torch.cuda.synchronize()
    free, total = torch.cuda.mem_get_info()
    context_gib = ((total - free) - torch.cuda.memory_reserved()) / GIB
    start = time.perf_counter()
    for _ in range(TIMED_STEPS):
        step()
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / TIMED_STEPS
    result = dict(
        name=name,
        model=model_key,
        method=method,
        sequence_length=seq,
        batch_size=batch,
        gradient_checkpointing=checkpointing,
        parameters=parameters,
        seconds_per_step=seconds,
        tokens_per_second=batch * seq / seconds,
        peak_allocated_gib=torch.cuda.max_memory_allocated() / GIB,
        peak_reserved_gib=torch.cuda.max_memory_reserved() / GIB,
        cuda_context_gib=context_gib,
    )
    model = optimizer = data = None  # free the GPU memory before the next job
    torch.cuda.empty_cache()
    return result


def predict(measured: dict) -> dict:
    """The calculator's estimate for the measured job (same shape, tokens and GPU)."""
    shape = MODELS[measured["model"]]
    arch = Architecture(
        layers=shape["num_hidden_layers"],
        hidden=shape["hidden_size"],
        heads=shape["num_attention_heads"],
        kv_heads=shape["num_key_value_heads"],
        vocab=shape["vocab_size"],
        tied_embeddings=shape["tie_word_embeddings"],
        gated_mlp=not measured["model"].startswith("gpt2"),
    )
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
        gpu="H100",
        architecture=arch,
    )
    result = estimate(job)
    k = flops_per_parameter_token(job)
    achieved = k * measured["parameters"] * measured["tokens_per_second"] / 989.4e12
    return dict(
        seconds_per_step=result.hours * 3600 / steps,
        total_gib=result.memory.total,
        implied_mfu=achieved,
        k=k,
    )


def table(measurements: list[dict], device: str) -> str:
    lines = [
        f"Measured on: {device}. Predicted by demos.calculator with its current defaults "
        "(H100 MFU and LoRA efficiency from gpus.yaml / estimate.py).",
        "",
        "| job | params | seq x batch | measured s/step | predicted s/step | time error | tokens/s | implied MFU (k·N·tokens/s / 989 TFLOP/s) | measured peak GiB | predicted GiB | memory error |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in measurements:
        p = predict(m)
        measured_mem = m["peak_reserved_gib"] + m["cuda_context_gib"]
        time_error = p["seconds_per_step"] / m["seconds_per_step"] - 1
        mem_error = p["total_gib"] / measured_mem - 1
        lines.append(
            f"| {m['name']} | {m['parameters'] / 1e9:.2f}B | {m['sequence_length']} x {m['batch_size']} "
            f"| {m['seconds_per_step']:.3f} | {p['seconds_per_step']:.3f} | {time_error:+.0%} "
            f"| {m['tokens_per_second']:,.0f} | {p['implied_mfu']:.2f} (k={p['k']:g}) "
            f"| {measured_mem:.1f} | {p['total_gib']:.1f} | {mem_error:+.0%} |"
        )
    lines += [
        "",
        "Time error = predicted / measured - 1 (positive: the calculator is pessimistic). "
        "Measured peak = max_memory_reserved + CUDA context.",
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
    args = parser.parse_args(argv)
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        print(table(saved["measurements"], saved["device"]))
        return 0
    import torch

    device = f"{torch.cuda.get_device_name()} (torch {torch.__version__}, Python {platform.python_version()})"
    print(device, flush=True)
    measurements = []
    for job in JOBS:
        try:
            result = run_job(*job)
        except Exception as error:  # one failed job must not lose the others' numbers
            print(f"{job[0]}: FAILED {type(error).__name__}: {error}", flush=True)
            continue
        measurements.append(result)
        print(json.dumps(result), flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "calculator_gpu.json").write_text(
            json.dumps({"device": device, "measurements": measurements}, indent=2)
        )
    text = table(measurements, device)
    (args.out / "calculator_gpu.md").write_text(text + "\n")
    print(text)
    return (
        0
        if measurements and not any(math.isnan(m["seconds_per_step"]) for m in measurements)
        else 1
    )


if __name__ == "__main__":
    raise SystemExit(main())
