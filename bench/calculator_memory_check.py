"""The calculator's memory formula against PyTorch's own memory tracker, on CPU, without a GPU.

PyTorch's ``MemTracker`` (torch.distributed._tools.mem_tracker) records every tensor a training step
allocates and frees, by category (parameters, gradients, optimizer states, activations, temporaries);
under ``FakeTensorMode`` no memory is actually allocated, so a 1B-parameter step "runs" on a laptop.
The models are built from transformers configs (random shapes, no weights, no Hub), with their own
dropout, and run inside ``bench/calculator_cuda_emulation.cuda_kernels``: dropout masks, autocast's
fp32 ops and the attention kernel are the ones a CUDA GPU would use (the CPU's differ; see that
module). LoRA runs too (the frozen parameters get no gradient hooks).

What this checks: the bytes PyTorch asks the CUDA caching allocator for (weights, 16-bit copies,
gradients, optimizer states, activations, the loss). Not the CUDA context or the allocator's rounding
and fragmentation: ``bench/calculator_gpu_check.py`` measures those on a real GPU. Validated against
the H200 (``max_memory_allocated``, bench/results/calculator_h200_round2.json): the GPU-shape cases
below print the GPU's number beside the tracker's.

    .venv/bin/python bench/calculator_memory_check.py            # every case (about an hour on 2 busy cores)
    .venv/bin/python bench/calculator_memory_check.py --quick    # small shapes only (a minute)
    .venv/bin/python bench/calculator_memory_check.py --only T5  # cases whose name contains "T5"
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.calculator_cuda_emulation import cuda_kernels  # noqa: E402
from demos.calculator.jobs import GIB, ModelJob, validate_model_job  # noqa: E402
from demos.calculator.memory import memory_breakdown  # noqa: E402
from demos.calculator.model_size import architecture_from_config  # noqa: E402

GPU_RESULTS = ROOT / "bench" / "results" / "calculator_h200_round2.json"


@dataclass(frozen=True)
class Case:
    name: str
    family: str  # llama | gpt2 | bert | t5
    shape: dict  # config keyword arguments (or a whole saved config dict)
    task: str
    method: str = "full"  # full | lora (base in bf16, adapters r=16 on q, k, v, o in fp32)
    precision: str = "mixed"
    checkpointing: bool = False
    seq: int = 256
    batch: int = 4
    target: int | None = None  # seq2seq: the labels' length
    transformers_version: str | None = (
        None  # None: the installed one; "5.17": T5's bias as before 5.20
    )
    gpu_allocated_gib: float | None = None  # the same job's max_memory_allocated on the H200
    extra: dict = field(default_factory=dict)


def make_config(family: str, shape: dict):
    """A transformers config of the family, with its usual dropout (masks are CUDA's: see above)."""
    import transformers

    if family == "llama":
        return transformers.LlamaConfig(
            **{"max_position_embeddings": 4096, "pad_token_id": 0, **shape}
        )
    if family == "gpt2":
        return transformers.GPT2Config(
            **{"bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0, **shape}
        )
    if family == "bert":
        return transformers.BertConfig(**shape)
    if family == "t5":
        return transformers.T5Config(**{"decoder_start_token_id": 0, "pad_token_id": 0, **shape})
    if family == "bart":
        return transformers.BartConfig(**{"decoder_start_token_id": 2, "pad_token_id": 1, **shape})
    raise ValueError(family)


def _model_class(case: Case):
    import transformers

    if case.task == "classification":
        return transformers.AutoModelForSequenceClassification
    if case.task == "masked-lm":
        return transformers.AutoModelForMaskedLM
    if case.task == "seq2seq":
        return transformers.AutoModelForSeq2SeqLM
    return transformers.AutoModelForCausalLM


LORA_TARGETS = {
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gpt2": ["c_attn"],
    "bert": ["query", "key", "value"],
    "t5": ["q", "k", "v", "o"],
    "bart": ["q_proj", "k_proj", "v_proj", "out_proj"],
}


def build_model(case: Case, config):
    """The model on the meta device (PEFT's LoRA too), then every parameter and buffer replaced by a
    fake tensor of the same shape, dtype and requires_grad (shared ones stay shared). Built this way
    because a module's ``.to()`` cannot swap fake parameters (PEFT moves its adapters with it)."""
    import torch

    dtype = torch.bfloat16 if case.method == "lora" else None
    with torch.device("meta"):
        model = _model_class(case).from_config(config, dtype=dtype)
        if case.method == "lora":
            from peft import LoraConfig, get_peft_model

            lora = LoraConfig(
                r=16,
                lora_alpha=32,
                lora_dropout=0.0,
                target_modules=LORA_TARGETS[case.family],
                fan_in_fan_out=case.family == "gpt2",
                task_type={"classification": "SEQ_CLS", "seq2seq": "SEQ_2_SEQ_LM"}.get(case.task),
            )
            model = get_peft_model(model, lora)
    fakes: dict[int, torch.Tensor] = {}
    for module in model.modules():
        for name, param in list(module._parameters.items()):
            if param is not None:
                if id(param) not in fakes:
                    fakes[id(param)] = torch.nn.Parameter(
                        torch.empty(param.shape, dtype=param.dtype),
                        requires_grad=param.requires_grad,
                    )
                module._parameters[name] = fakes[id(param)]
        for name, buffer in list(module._buffers.items()):
            if buffer is not None:
                module._buffers[name] = torch.zeros(buffer.shape, dtype=buffer.dtype)
    return model


class _NoHook:
    def remove(self) -> None:
        pass


def tracked_peak(case: Case) -> dict:
    """Peak bytes of one training step (the second: the optimizer's states exist) under MemTracker."""
    import torch
    import transformers
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.distributed._tools.mem_tracker import MemTracker

    transformers.logging.set_verbosity_error()
    if "model_type" in case.shape:  # a saved config (a GPU run's): rebuild it exactly
        config = transformers.AutoConfig.for_model(**case.shape)
    else:
        config = make_config(case.family, case.shape)
    config._attn_implementation = "sdpa"
    before_5_20 = bool(case.transformers_version) and _older_than(case.transformers_version, "5.20")
    with FakeTensorMode(), cuda_kernels(transformers_before_5_20=before_5_20):
        torch.manual_seed(0)
        model = build_model(case, config)
        if case.checkpointing:
            model.config.use_cache = False
            model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": False}
            )
        model.train()
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=1e-5, foreach=False)
        ids = torch.randint(1, config.vocab_size, (case.batch, case.seq))
        if case.task == "classification":
            labels = torch.zeros(case.batch, dtype=torch.long)
        elif case.task == "seq2seq":
            labels = torch.randint(1, config.vocab_size, (case.batch, case.target or case.seq))
        else:
            labels = ids
        tracker = MemTracker()
        tracker.track_external(model, optimizer)
        # MemTracker hooks every parameter's gradient; a frozen one has none (LoRA's base): skip it.
        for param in model.parameters():
            if not param.requires_grad:
                tracker._param_to_grad_hook_handles[param] = (_NoHook(), _NoHook())
        with tracker:
            for step in range(2):
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=case.precision == "mixed"):
                    loss = model(input_ids=ids, labels=labels).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                if step == 0:
                    tracker.reset_mod_stats()
        peak = tracker.get_tracker_snapshot("peak")
        parameters = sum(p.numel() for p in model.parameters())
    total = sum(values.get("Total", 0) for values in peak.values())
    return {"peak_bytes": total, "parameters": parameters, "config": config.to_dict()}


def _older_than(version: str, threshold: str) -> bool:
    def parts(text):
        return tuple(int(p) for p in text.split(".")[:2])

    return parts(version) < parts(threshold)


def predicted(case: Case, measured: dict) -> float:
    """The calculator's bytes for the same job, without the CUDA context and allocator slack."""
    arch = architecture_from_config(measured["config"])
    job = validate_model_job(
        ModelJob(
            parameters=measured["parameters"],
            examples=1,
            sequence_length=case.seq,
            batch_size=case.batch,
            method=case.method,
            precision=case.precision,
            gradient_checkpointing=case.checkpointing,
            gpu="H100",
            architecture=arch,
            task=case.task,
            target_length=case.target,
            lora_rank=16,
            transformers_version=case.transformers_version,
        )
    )
    return memory_breakdown(job, arch).allocated * GIB


SMALL = {
    "llama": dict(
        hidden_size=512,
        intermediate_size=1408,
        num_hidden_layers=3,
        num_attention_heads=8,
        num_key_value_heads=2,
        vocab_size=8000,
        tie_word_embeddings=False,
    ),
    "gpt2": dict(n_embd=512, n_layer=3, n_head=8, vocab_size=8000, n_positions=512),
    "bert": dict(
        hidden_size=512,
        intermediate_size=2048,
        num_hidden_layers=3,
        num_attention_heads=8,
        vocab_size=8000,
    ),
    "t5": dict(
        d_model=512,
        d_ff=2048,
        d_kv=64,
        num_heads=8,
        num_layers=2,
        num_decoder_layers=2,
        vocab_size=8000,
        feed_forward_proj="relu",
    ),
    "flan-t5": dict(
        d_model=512,
        d_ff=2048,
        d_kv=64,
        num_heads=8,
        num_layers=2,
        num_decoder_layers=2,
        vocab_size=8000,
        feed_forward_proj="gated-gelu",
    ),
    # BART: post-norm encoder-decoder, GELU, learned positions, no position bias (held out: the
    # calculator reads it as an encoder-decoder of the t5 recipe).
    "bart": dict(
        d_model=512,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=8,
        decoder_attention_heads=8,
        encoder_ffn_dim=2048,
        decoder_ffn_dim=2048,
        vocab_size=8000,
        max_position_embeddings=1024,
    ),
}
T5_TOKENS = dict(seq=512, batch=16, target=128)
QUICK_CASES = [
    Case("Llama-style, causal LM", "llama", SMALL["llama"], "causal-lm"),
    Case("Llama-style, checkpointing", "llama", SMALL["llama"], "causal-lm", checkpointing=True),
    Case("Llama-style, fp32", "llama", SMALL["llama"], "causal-lm", precision="fp32"),
    Case("Llama-style, classifier", "llama", SMALL["llama"], "classification"),
    Case("Llama-style, LoRA", "llama", SMALL["llama"], "causal-lm", method="lora"),
    Case("GPT-2-style, causal LM", "gpt2", SMALL["gpt2"], "causal-lm"),
    Case("BERT-style, classifier", "bert", SMALL["bert"], "classification", batch=16),
    Case("BERT-style, masked LM", "bert", SMALL["bert"], "masked-lm"),
    # The H200's seq2seq shape (16 x 512 -> 128) on two narrow layers each: activations dominate.
    Case("T5-style seq2seq", "t5", SMALL["t5"], "seq2seq", **T5_TOKENS),
    Case(
        "T5-style seq2seq, transformers 5.17",
        "t5",
        SMALL["t5"],
        "seq2seq",
        transformers_version="5.17",
        **T5_TOKENS,
    ),
    Case("Flan-T5-style seq2seq", "t5", SMALL["flan-t5"], "seq2seq", **T5_TOKENS),
    Case("BART-style seq2seq", "bart", SMALL["bart"], "seq2seq", **T5_TOKENS),
    Case("BART-style LoRA", "bart", SMALL["bart"], "seq2seq", method="lora", **T5_TOKENS),
    Case(
        "Flan-T5-style LoRA, transformers 5.17",
        "t5",
        SMALL["flan-t5"],
        "seq2seq",
        method="lora",
        transformers_version="5.17",
        **T5_TOKENS,
    ),
]
LLAMA_1B = dict(
    hidden_size=2048,
    intermediate_size=8192,
    num_hidden_layers=16,
    num_attention_heads=32,
    num_key_value_heads=8,
    vocab_size=32000,
    tie_word_embeddings=False,
)
MINILM = dict(
    hidden_size=384,
    intermediate_size=1536,
    num_hidden_layers=6,
    num_attention_heads=12,
    vocab_size=30522,
)
# The H200 round-2 jobs whose memory the first formula missed, rebuilt from their saved configs.
GPU_JOBS = [
    "T5 base full, 512 -> 128",
    "Flan-T5 base full, 512 -> 128",
    "Flan-T5 base LoRA, 512 -> 128",
    "GPT-2 medium full",
]


def gpu_cases() -> list[Case]:
    """Cases at the exact shapes of GPU_JOBS, each with the GPU's max_memory_allocated."""
    saved = json.loads(GPU_RESULTS.read_text())
    cases = []
    for measured in saved["measurements"]:
        if measured["name"] not in GPU_JOBS:
            continue
        config = dict(measured["config"])
        version = config.get("transformers_version")
        cases.append(
            Case(
                f"{measured['name']} (H200, transformers {version})",
                measured["family"],
                config,
                measured["task"],
                method=measured["method"],
                checkpointing=measured["gradient_checkpointing"],
                seq=measured["sequence_length"],
                batch=measured["batch_size"],
                target=measured.get("target_length"),
                transformers_version=version,
                gpu_allocated_gib=measured["peak_allocated_gib"],
            )
        )
        if measured["family"] == "t5":  # the same job as transformers >= 5.20 runs it
            cases.append(
                Case(
                    f"{measured['name']} (transformers >= 5.20)",
                    measured["family"],
                    config,
                    measured["task"],
                    method=measured["method"],
                    seq=measured["sequence_length"],
                    batch=measured["batch_size"],
                    target=measured.get("target_length"),
                )
            )
    return cases


def full_cases() -> list[Case]:
    return (
        QUICK_CASES
        + [
            Case(
                "1.1B Llama-style full (H200: 33.27 GiB)",
                "llama",
                LLAMA_1B,
                "causal-lm",
                seq=1024,
                batch=8,
                gpu_allocated_gib=33.27,
            ),
            Case(
                "1.1B full + checkpointing (H200: 18.00 GiB)",
                "llama",
                LLAMA_1B,
                "causal-lm",
                checkpointing=True,
                seq=1024,
                batch=8,
                gpu_allocated_gib=18.00,
            ),
            Case("MiniLM-L6 classifier, 64 x 128", "bert", MINILM, "classification", batch=64),
        ]
        + gpu_cases()
    )


def run(cases: list[Case]) -> list[dict]:
    rows = []
    for case in cases:
        start = time.perf_counter()
        measured = tracked_peak(case)
        rows.append(
            {
                "case": case.name,
                "tracked_gib": measured["peak_bytes"] / GIB,
                "predicted_gib": predicted(case, measured) / GIB,
                "gpu_gib": case.gpu_allocated_gib,
                "seconds": time.perf_counter() - start,
            }
        )
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| job | MemTracker peak (GiB) | calculator (GiB) | error | GPU allocated (GiB) | tracker vs GPU |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        error = r["predicted_gib"] / r["tracked_gib"] - 1
        gpu = r.get("gpu_gib")
        gpu_text = f"{gpu:.2f} | {r['tracked_gib'] / gpu - 1:+.1%}" if gpu else " | "
        lines.append(
            f"| {r['case']} | {r['tracked_gib']:.3f} | {r['predicted_gib']:.3f} | {error:+.1%} | {gpu_text} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes only")
    parser.add_argument("--only", help="only the cases whose name contains this text")
    args = parser.parse_args(argv)
    cases = QUICK_CASES if args.quick else full_cases()
    if args.only:
        cases = [case for case in cases if args.only in case.name]
    rows = run(cases)
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
