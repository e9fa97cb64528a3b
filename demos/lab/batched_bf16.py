"""bf16 matrix products for a local fp32 model on a CPU that has bf16 in hardware.

On this project's 2-core CPU (AMD EPYC with AVX512-BF16; Intel Cooper Lake and later have it
too), PyTorch's fp32 products go through MKL, whose small-batch kernels on this CPU are slow and
uneven (a decoding step of SmolLM2-135M: 91 ms for one row, 149 for two, 234 for three, 165 for
eight), while oneDNN's bf16 kernels scale smoothly (69, 75, 88, 113 ms). :class:`BatchedBF16Linear`
keeps a bf16 copy of each linear layer's weight and multiplies in bf16 from ``min_rows`` rows
(default 1: always), accumulating in fp32; activations, norms, attention and the key/value cache
stay fp32, so the rest of the lab (prefix cache, batching) is unchanged. SmolLM2's next-token
distributions stay within a KL of about 0.001 of fp32's (tests/lab/test_batched_bf16.py). A CPU
without bf16 in hardware emulates it, several times slower than fp32: there, nothing changes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# Rows from which a linear layer multiplies in bf16. Measured faster than fp32 from one row
# (bench/results/lab_concurrent_cpu.md), so always; a larger value keeps small steps in fp32.
MIN_ROWS = 1


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX)."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


@lru_cache(maxsize=1)
def layer_class() -> type:
    """The :class:`BatchedBF16Linear` class (built on first use: torch is imported lazily)."""
    import torch
    import torch.nn.functional as F

    class BatchedBF16Linear(torch.nn.Module):
        """A linear layer that multiplies ``min_rows`` rows or more in bf16, fewer in fp32. Shares
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
                # As rows of a 2-D matrix: a 3-D bf16 input whose first dimension has a large
                # stride (the last position sliced out of a prompt, as for the model's head
                # after reading a prompt) sends torch.matmul down a batched path that copies
                # the whole transposed weight first: 95 ms instead of 6 for SmolLM2's head.
                rows = x.reshape(-1, x.shape[-1]).to(torch.bfloat16)
                out = F.linear(rows, self.weight_bf16, self.bias_bf16)
                return out.to(x.dtype).view(*x.shape[:-1], self.out_features)
            return F.linear(x, self.weight, self.bias)

        def extra_repr(self) -> str:
            return f"in={self.in_features}, out={self.out_features}, bf16 from {self.min_rows} rows"

    return BatchedBF16Linear


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
    """Whether the setting (``auto``, ``on``, ``off``) asks for bf16 products for ``model``:
    ``auto`` only for an fp32 model on a CPU with bf16 in hardware."""
    import torch

    if setting == "off" or str(getattr(model, "device", "cpu")) != "cpu":
        return False
    if getattr(model, "dtype", None) != torch.float32:
        return False
    return setting == "on" or cpu_has_bf16()
