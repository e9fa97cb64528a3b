"""The calculator's memory formula against PyTorch's own memory tracker, on CPU, without a GPU.

PyTorch's ``MemTracker`` (torch.distributed._tools.mem_tracker) records every tensor a training step
allocates and frees, by category (parameters, gradients, optimizer states, activations, temporaries);
under ``FakeTensorMode`` no memory is actually allocated, so a 1B-parameter step "runs" on a laptop in
a minute. The models are built from transformers configs (random shapes, no weights, no Hub).

What this checks and what it cannot: the bytes PyTorch allocates for weights, 16-bit copies,
gradients, optimizer states, activations and the loss, as the CUDA caching allocator would be asked
for them. Not the CUDA context, the allocator's rounding and fragmentation, or kernels that differ
between CPU and GPU, or LoRA (MemTracker cannot hook frozen parameters; LoRA's counts come from
saved tensors and the GPU runs). Dropout keeps a 1-byte mask on a GPU, a 2-byte one here, so the models run
without dropout; T5's attention with a bias takes PyTorch's math path on CPU): those need
``bench/calculator_gpu_check.py``. Validated once against a GPU: the 1.1B Llama-style full fine-tune
below peaks at 33.13 GiB here and 33.27 GiB allocated on an H200; with checkpointing 17.94 vs 18.00.

    .venv/bin/python bench/calculator_memory_check.py            # the table (about 5 minutes on 2 cores)
    .venv/bin/python bench/calculator_memory_check.py --quick    # small shapes only (seconds)
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from demos.calculator.jobs import GIB, ModelJob, validate_model_job  # noqa: E402
from demos.calculator.memory import memory_breakdown  # noqa: E402
from demos.calculator.model_size import architecture_from_config  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    family: str  # llama | gpt2 | bert | t5
    shape: dict
    task: str
    method: str = "full"  # MemTracker (torch 2.13) cannot track frozen parameters: no LoRA here
    precision: str = "mixed"
    checkpointing: bool = False
    seq: int = 256
    batch: int = 4


def make_config(family: str, shape: dict):
    """A transformers config of the family, without dropout (see the module's docstring)."""
    import transformers

    if family == "llama":
        return transformers.LlamaConfig(**shape, max_position_embeddings=4096, pad_token_id=0)
    if family == "gpt2":
        return transformers.GPT2Config(
            **shape,
            attn_pdrop=0.0,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            bos_token_id=0,
            eos_token_id=0,
            pad_token_id=0,
        )
    if family == "bert":
        return transformers.BertConfig(
            **shape, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0
        )
    if family == "t5":
        return transformers.T5Config(**shape, dropout_rate=0.0, decoder_start_token_id=0)
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


def tracked_peak(case: Case) -> dict:
    """Peak bytes of one training step (the second: the optimizer's states exist) under MemTracker."""
    import torch
    import transformers
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.distributed._tools.mem_tracker import MemTracker

    transformers.logging.set_verbosity_error()
    config = make_config(case.family, case.shape)
    config._attn_implementation = "sdpa"
    with FakeTensorMode():
        torch.manual_seed(0)
        model = _model_class(case).from_config(config)
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
        else:
            labels = ids
        tracker = MemTracker()
        tracker.track_external(model, optimizer)
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
            lora_rank=16,
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
}
QUICK_CASES = [
    Case("Llama-style, causal LM", "llama", SMALL["llama"], "causal-lm"),
    Case("Llama-style, checkpointing", "llama", SMALL["llama"], "causal-lm", checkpointing=True),
    Case("Llama-style, fp32", "llama", SMALL["llama"], "causal-lm", precision="fp32"),
    Case("Llama-style, classifier", "llama", SMALL["llama"], "classification"),
    Case("GPT-2-style, causal LM", "gpt2", SMALL["gpt2"], "causal-lm"),
    Case("BERT-style, classifier", "bert", SMALL["bert"], "classification", batch=16),
    Case("BERT-style, masked LM", "bert", SMALL["bert"], "masked-lm"),
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
FULL_CASES = QUICK_CASES + [
    Case(
        "1.1B Llama-style full (H200: 33.27 GiB)", "llama", LLAMA_1B, "causal-lm", seq=1024, batch=8
    ),
    Case(
        "1.1B full + checkpointing (H200: 18.00 GiB)",
        "llama",
        LLAMA_1B,
        "causal-lm",
        checkpointing=True,
        seq=1024,
        batch=8,
    ),
    Case("MiniLM-L6 classifier, 64 x 128", "bert", MINILM, "classification", batch=64),
]


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
                "seconds": time.perf_counter() - start,
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| job | MemTracker peak (GiB) | calculator (GiB) | error |",
        "|---|---|---|---|",
    ]
    for r in rows:
        error = r["predicted_gib"] / r["tracked_gib"] - 1
        lines.append(
            f"| {r['case']} | {r['tracked_gib']:.3f} | {r['predicted_gib']:.3f} | {error:+.1%} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes only")
    args = parser.parse_args(argv)
    print(table(run(QUICK_CASES if args.quick else FULL_CASES)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
