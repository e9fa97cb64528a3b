"""Why small models train slower than their FLOPs say: the host's time per forward operation.

PyTorch runs eagerly: Python walks each module's forward and dispatches one ATen operation at a time;
the GPU runs each kernel as it arrives. A small model's kernels finish faster than Python issues them,
so its step takes the host's time, and that time grows with the number of operations the forward
pass dispatches, not with the FLOPs. The backward pass is issued from C++ by the autograd engine
(no Python per operation) and, measured below, adds nothing visible.

This script (CPU only, seconds) does two things:

1. Counts the ATen operations of one training step of each job of the H200 check
   (bench/calculator_gpu_check.py's JOBS) with the kernels a CUDA GPU would run
   (bench/calculator_cuda_emulation.py: a fused attention kernel is one operation), at tiny widths
   (the count depends on the layers, not their width), and fits the measured seconds per step of
   the jobs that are bound by the host (the ones whose time does not move with the batch: MiniLM,
   SmolLM2, and the encoder-decoders) to ``seconds = a + b x forward operations``: ``b`` is the
   host's time per forward operation, ``a`` the step's fixed cost (optimizer, zero_grad).
2. Counts the forward operations per layer of each family and variant (the difference between two
   layers and one): the table ``demos/calculator/compute.py`` uses (FORWARD_OPS_*).

    .venv/bin/python bench/calculator_host_check.py
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import calculator_cuda_emulation as emulation  # noqa: E402
from bench.calculator_gpu_check import (  # noqa: E402
    JOBS,
    LORA_TARGETS,
    SHAPES,
    make_config,
    model_class,
)

GPU_RESULTS = ROOT / "bench" / "results" / "calculator_h200_round2.json"
# Jobs whose measured time is the host's: same seconds at batch 2 and 16 (SmolLM2), at 8 and 64
# (MiniLM), or far above their FLOPs' time (BERT, the encoder-decoders, 0.5B LoRA).
HOST_BOUND = [
    "MiniLM-L6 classifier, 64 x 128",
    "MiniLM-L6 classifier, 8 x 128",
    "SmolLM2-135M full",
    "SmolLM2-135M full, batch 2",
    "BERT base classifier, 16 x 512",
    "T5 base full, 512 -> 128",
    "Flan-T5 base full, 512 -> 128",
    "Flan-T5 base LoRA, 512 -> 128",
    "0.5B LoRA r16",
]
# View operations cost no kernel: counted apart.
VIEWS = {
    "view",
    "_unsafe_view",
    "transpose",
    "t",
    "permute",
    "expand",
    "as_strided",
    "unsqueeze",
    "squeeze",
    "slice",
    "select",
    "alias",
    "detach",
    "split",
    "unbind",
    "narrow",
    "view_as",
    "_reshape_alias",
    "reshape",
    "split_with_sizes",
    "unflatten",
    "flatten",
    "lift_fresh",
}


def _counter():
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        """Counts ATen operations by phase (forward, backward, optimizer); a fused attention kernel
        (emulated by several operations) counts as one."""

        def __init__(self):
            super().__init__()
            self.phase = "forward"
            self.counts: dict[str, int] = {}
            self.inside_kernel = False

        def add(self, key: str) -> None:
            self.counts[key] = self.counts.get(key, 0) + 1

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if not self.inside_kernel:
                name = func.overloadpacket.__name__
                self.add(f"{self.phase}_{'view' if name in VIEWS else 'op'}")
            return func(*args, **(kwargs or {}))

    return Count()


TINY = {
    "hidden_size": 64,
    "n_embd": 64,
    "d_model": 64,
    "intermediate_size": 128,
    "d_ff": 128,
    "num_attention_heads": 4,
    "n_head": 4,
    "num_heads": 4,
    "d_kv": 16,
    "vocab_size": 500,
    "encoder_attention_heads": 4,
    "decoder_attention_heads": 4,
    "encoder_ffn_dim": 128,
    "decoder_ffn_dim": 128,
}


def tiny(shape: dict) -> dict:
    """The same config at width 64 (4 heads; grouped-query attention kept if the model has it)."""
    small = {key: TINY.get(key, value) for key, value in shape.items()}
    if "num_key_value_heads" in shape:
        grouped = shape["num_key_value_heads"] != shape["num_attention_heads"]
        small["num_key_value_heads"] = 2 if grouped else 4
    return small


def count_step(
    family: str,
    shape: dict,
    task: str,
    method: str,
    checkpointing: bool = False,
    before_5_20: bool = True,
) -> dict[str, int]:
    """ATen operations of the second training step (or forward pass, for inference), by phase."""
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    config = make_config(family, tiny(shape))
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    model = model_class(family, task).from_config(config)
    if method in ("lora", "inference"):
        model = model.to(torch.bfloat16)
    if method == "lora":
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=8,
            lora_alpha=16,
            lora_dropout=0.0,
            target_modules=LORA_TARGETS[family],
            fan_in_fan_out=family == "gpt2",
            task_type={"classification": "SEQ_CLS", "seq2seq": "SEQ_2_SEQ_LM"}.get(task),
        )
        model = get_peft_model(model, lora)
    if checkpointing:
        model.config.use_cache = False
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    optimizer = None
    if method == "inference":
        model.eval()
    else:
        model.train()
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=1e-5, fused=True)
    data = torch.randint(1, 500, (2, 16))
    kwargs = {"input_ids": data}
    if task == "classification":
        kwargs["labels"] = torch.zeros(2, dtype=torch.long)
    elif task == "seq2seq":
        kwargs["labels"] = torch.randint(1, 500, (2, 8))
    else:
        kwargs["labels"] = data
    counter = None

    @contextlib.contextmanager
    def one_kernel():
        counter.add(f"{counter.phase}_op")
        counter.inside_kernel = True
        try:
            yield
        finally:
            counter.inside_kernel = False

    emulation.kernel_scope = one_kernel
    try:
        with emulation.cuda_kernels(transformers_before_5_20=before_5_20):
            for _ in range(2):
                counter = _counter()
                with counter:
                    if method == "inference":
                        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
                            model(input_ids=data)
                        continue
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        loss = model(**kwargs).loss
                    counter.phase = "backward"
                    loss.backward()
                    counter.phase = "optimizer"
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
    finally:
        emulation.kernel_scope = None
    return counter.counts


def fit_host_time() -> dict:
    """Count every H200 job and fit seconds = a + b x forward ops over the host-bound ones."""
    import numpy as np

    measured = {m["name"]: m for m in json.loads(GPU_RESULTS.read_text())["measurements"]}
    rows = []
    for name, shape_key, task, method, _, _, checkpointing, _ in JOBS:
        if name not in measured:  # a later round's job, not measured in round 2
            continue
        family, shape = SHAPES[shape_key]
        counts = count_step(family, shape, task, method, checkpointing)
        rows.append(dict(name=name, **counts, seconds=measured[name]["seconds_per_step"]))
    host = [r for r in rows if r["name"] in HOST_BOUND]
    x = np.array([[1.0, r["forward_op"]] for r in host])
    y = np.array([r["seconds"] for r in host])
    (a, b), *_ = np.linalg.lstsq(x, y, rcond=None)
    both = np.array([[1.0, r["forward_op"], r.get("backward_op", 0)] for r in host])
    (_, b_forward, b_backward), *_ = np.linalg.lstsq(both, y, rcond=None)
    # Held out: fit on the decoders and encoders only, predict the encoder-decoders.
    seen = [r for r in host if r["name"] in HOST_BOUND and "T5" not in r["name"]]
    (a_seen, b_seen), *_ = np.linalg.lstsq(
        np.array([[1.0, r["forward_op"]] for r in seen]),
        np.array([r["seconds"] for r in seen]),
        rcond=None,
    )
    held_out = {r["name"]: a_seen + b_seen * r["forward_op"] for r in host if "T5" in r["name"]}
    return dict(
        rows=rows,
        a=a,
        b=b,
        b_forward=b_forward,
        b_backward=b_backward,
        a_without_t5=a_seen,
        b_without_t5=b_seen,
        held_out=held_out,
    )


# Per-layer counts: (label, family, config changes, task, method, checkpointing, before 5.20)
LAYER_VARIANTS = [
    ("llama", "llama", {}, "causal-lm", "full", False),
    ("llama, LoRA on q k v o", "llama", {}, "causal-lm", "lora", False),
    ("llama, checkpointing", "llama", {}, "causal-lm", "full", True),
    ("gpt (GPT-2, gelu_new, dropout)", "gpt2", {}, "causal-lm", "full", False),
    ("bert (dropout)", "bert", {}, "classification", "full", False),
    (
        "bert, no dropout",
        "bert",
        {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
        "classification",
        "full",
        False,
    ),
    (
        "t5 (relu, dropout, math attention)",
        "t5",
        {"feed_forward_proj": "relu"},
        "seq2seq",
        "full",
        False,
    ),
    ("t5 gated-gelu", "t5", {"feed_forward_proj": "gated-gelu"}, "seq2seq", "full", False),
    (
        "t5 gated-gelu, LoRA on q k v o",
        "t5",
        {"feed_forward_proj": "gated-gelu"},
        "seq2seq",
        "lora",
        False,
    ),
    ("bart (gelu, dropout)", "bart", {}, "seq2seq", "full", False),
    ("bart, LoRA on q k v o", "bart", {}, "seq2seq", "lora", False),
]
BASE_SHAPES = {
    "llama": dict(SHAPES["smollm2-135M"][1]),
    "gpt2": dict(SHAPES["gpt2-medium"][1]),
    "bert": dict(SHAPES["bert-base"][1]),
    "t5": dict(SHAPES["t5-base"][1]),
    "bart": dict(SHAPES["bart-base"][1]),
}
LAYER_KEYS = {"llama": "num_hidden_layers", "gpt2": "n_layer", "bert": "num_hidden_layers"}


def per_layer(family, changes, task, method, checkpointing, before_5_20=True) -> dict:
    """Forward operations of one layer (two layers minus one) and of the rest of the model."""

    def forward(layers: int, decoder_layers: int | None = None) -> int:
        shape = {**BASE_SHAPES[family], **changes}
        if family == "t5":
            shape.update(num_layers=layers, num_decoder_layers=decoder_layers)
        elif family == "bart":
            shape.update(encoder_layers=layers, decoder_layers=decoder_layers)
        else:
            shape[LAYER_KEYS[family]] = layers
        counts = count_step(family, shape, task, method, checkpointing, before_5_20)
        recompute = 0
        if checkpointing:  # the forward pass re-run during backward, from Python too
            recompute = counts.get("backward_op", 0)
        return counts["forward_op"], recompute

    if family in ("t5", "bart"):
        one, _ = forward(1, 1)
        encoder = forward(2, 1)[0] - one
        decoder = forward(1, 2)[0] - one
        return dict(layer=encoder, decoder_layer=decoder, rest=one - encoder - decoder)
    one, recompute_one = forward(1)
    two, recompute_two = forward(2)
    result = dict(layer=two - one, rest=2 * one - two)
    if checkpointing:
        result["backward_per_layer"] = recompute_two - recompute_one
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the counts and the fit here")
    args = parser.parse_args(argv)
    fit = fit_host_time()
    print("| job | forward ops | backward ops | measured s/step | a + b x forward ops |")
    print("|---|---|---|---|---|")
    for r in fit["rows"]:
        mark = "" if r["name"] in HOST_BOUND else " (not host-bound)"
        model = fit["a"] + fit["b"] * r["forward_op"]
        print(
            f"| {r['name']}{mark} | {r['forward_op']} | {r.get('backward_op', 0)} "
            f"| {r['seconds']:.4f} | {model:.4f} ({model / r['seconds'] - 1:+.0%}) |"
        )
    print(
        f"\nFit over the host-bound jobs: a = {fit['a'] * 1e3:.2f} ms per step, "
        f"b = {fit['b'] * 1e6:.1f} us per forward operation. With backward ops as a second "
        f"variable: {fit['b_forward'] * 1e6:.1f} us per forward op, "
        f"{fit['b_backward'] * 1e6:.1f} us per backward op.\n"
    )
    print(
        f"Held out: fitted on the decoders and encoders only (a = {fit['a_without_t5'] * 1e3:.2f} ms, "
        f"b = {fit['b_without_t5'] * 1e6:.1f} us), the encoder-decoders are predicted at:"
    )
    for r in fit["rows"]:
        if r["name"] in fit["held_out"]:
            p = fit["held_out"][r["name"]]
            print(
                f"- {r['name']}: {p:.4f} s for {r['seconds']:.4f} measured ({p / r['seconds'] - 1:+.0%})"
            )
    print()
    layers = {}
    print("| variant | forward ops per layer | per decoder layer | rest of the model |")
    print("|---|---|---|---|")
    for label, family, changes, task, method, checkpointing in LAYER_VARIANTS:
        counted = per_layer(family, changes, task, method, checkpointing)
        layers[label] = counted
        print(
            f"| {label} | {counted['layer']} | {counted.get('decoder_layer', '')} "
            f"| {counted['rest']} |"
            + (
                f" backward re-runs {counted['backward_per_layer']} per layer"
                if checkpointing
                else ""
            )
        )
    t5_fused = per_layer("t5", {"feed_forward_proj": "relu"}, "seq2seq", "full", False, False)
    layers["t5 (relu, fused attention: transformers >= 5.20)"] = t5_fused
    print(
        f"| t5 (relu, fused attention: transformers >= 5.20) | {t5_fused['layer']} "
        f"| {t5_fused['decoder_layer']} | {t5_fused['rest']} |"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                dict(fit={k: v for k, v in fit.items()}, layers=layers), indent=1, default=float
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
