"""bf16 arithmetic for the batched steps of a local model on a CPU that has it in hardware.

On a 2-core CPU with AVX512-BF16 (AMD Zen 4, Intel Cooper Lake and later), a linear layer of
SmolLM2-135M that multiplies 8 rows or more (a batched decoding step, a chunk of a prompt) is
about twice as fast in bf16 as in fp32, while one row (a single conversation's next token) is
slower in bf16: fp32 stays the faster path there. :class:`BatchedBF16Linear` keeps both copies
of a layer's weight and picks by the number of rows, so a lone learner's speed is unchanged and
a class's batched steps get faster. Products are accumulated in fp32 by oneDNN; next-token
choices of SmolLM2 agreed with fp32 on 99.6% of positions in a teacher-forced check (see
CONTRIBUTING.md, "Serving many learners"). A CPU without bf16 in hardware emulates it, several
times slower than fp32: there, nothing is changed.
"""

from __future__ import annotations

from typing import Any

# Rows from which a linear layer multiplies in bf16 (a decoding step of 4 conversations or more,
# every prompt chunk of 4 tokens or more). Below it, fp32 (measured faster for 1 and 2 rows).
MIN_ROWS = 4


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX)."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def _layer_class() -> type:
    import torch
    import torch.nn.functional as F

    class BatchedBF16Linear(torch.nn.Module):
        """A linear layer that multiplies ``MIN_ROWS`` rows or more in bf16, fewer in fp32. Shares
        the original fp32 weight (tied weights stay tied) and keeps a bf16 copy beside it."""

        def __init__(self, linear: torch.nn.Linear, min_rows: int = MIN_ROWS):
            super().__init__()
            self.weight = linear.weight
            self.bias = linear.bias
            self.in_features, self.out_features = linear.in_features, linear.out_features
            self.min_rows = min_rows
            self.register_buffer(
                "weight_bf16", linear.weight.detach().to(torch.bfloat16), persistent=False
            )
            bias = None if linear.bias is None else linear.bias.detach().to(torch.bfloat16)
            self.register_buffer("bias_bf16", bias, persistent=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.numel() >= self.min_rows * x.shape[-1]:
                out = F.linear(x.to(torch.bfloat16), self.weight_bf16, self.bias_bf16)
                return out.to(x.dtype)
            return F.linear(x, self.weight, self.bias)

        def extra_repr(self) -> str:
            return f"in={self.in_features}, out={self.out_features}, bf16 from {self.min_rows} rows"

    return BatchedBF16Linear


_CLASS: type | None = None


def layer_class() -> type:
    """The :class:`BatchedBF16Linear` class (built on first use: torch is imported lazily)."""
    global _CLASS
    if _CLASS is None:
        _CLASS = _layer_class()
    return _CLASS


def use_bf16_for_batches(model: Any, min_rows: int = MIN_ROWS) -> int:
    """Replace every fp32 ``nn.Linear`` of ``model`` (on a CPU) by a :class:`BatchedBF16Linear`,
    in place. Returns how many were replaced (0 when already done, or for a model that is not
    fp32 on a CPU)."""
    import torch

    if str(getattr(model, "device", "cpu")) != "cpu":
        return 0
    targets = [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if type(child) is torch.nn.Linear and child.weight.dtype == torch.float32
    ]
    cls = layer_class()
    for parent, name, child in targets:
        setattr(parent, name, cls(child, min_rows))
    return len(targets)


def wanted(setting: str, model: Any) -> bool:
    """Whether the setting (``auto``, ``on``, ``off``) asks for bf16 batches for ``model``:
    ``auto`` only for an fp32 model on a CPU with bf16 in hardware."""
    import torch

    if setting == "off" or str(getattr(model, "device", "cpu")) != "cpu":
        return False
    if getattr(model, "dtype", None) != torch.float32:
        return False
    return setting == "on" or cpu_has_bf16()
