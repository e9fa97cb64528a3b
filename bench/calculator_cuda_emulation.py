"""Run a training step on the CPU with the kernels a CUDA GPU would choose (for memory and op counts).

PyTorch picks different kernels on a CPU and on a CUDA GPU, and some of them keep different tensors
for the backward pass. Under ``FakeTensorMode`` (nothing allocated) ``MemTracker`` then counts the
bytes the CPU kernels would keep, not the GPU's. Inside :func:`cuda_kernels` the few places where a
transformers model's step differs are replaced by what CUDA runs (torch 2.11-2.13):

* **Dropout**: on CUDA ``at::dropout`` calls the fused ``native_dropout``, which keeps a 1-byte bool
  mask (aten/src/ATen/native/Dropout.cpp, ``is_fused_kernel_acceptable``); on a CPU it multiplies by
  a noise tensor in the input's dtype (2-4 bytes). Replaced: ``F.dropout`` -> ``torch.native_dropout``.
* **Autocast's op lists** (aten/src/ATen/autocast_mode.cpp): on CUDA ``pow``, ``rsqrt``,
  ``layer_norm`` run in fp32 (the "fp32" policy) and ``cross_entropy`` decomposes into
  ``log_softmax(dtype=float32)`` + ``nll_loss``; the CPU lists lack ``pow``. It matters for GPT-2's
  and T5 v1.1's ``gelu_new``, written as ``0.5*x*(1+tanh(c*(x+0.044715*pow(x,3))))``: on a GPU its
  whole chain runs in fp32 after ``pow``.
* **Scaled dot-product attention**: on CUDA ``select_sdp_backend`` (aten/src/ATen/native/
  transformers/cuda/sdp_utils.cpp) runs a fused kernel (cuDNN, FlashAttention or memory-efficient)
  when it can and PyTorch's composite "math" path otherwise. A fused kernel keeps q, k, v, its bias,
  the output and one fp32 log-sum-exp per query row (Dao et al. 2022, FlashAttention, section 3.1);
  the math path materialises the scores. The fused kernels that take a bias need its last dimension
  contiguous (``check_last_dim_stride_equals_1_dense``: on CUDA, not on a CPU). The math path
  (``_scaled_dot_product_attention_math`` in attention.cpp) upcasts 16-bit q, k, v to fp32 unless
  ``allow_fp16_bf16_reduction_math_sdp`` (off by default), keeps the fp32 softmax, and drops out
  with ``at::dropout`` (a bool mask on CUDA). Both are reproduced here op for op.

``transformers_before_5_20=True`` also restores transformers 5.0-5.19's ``create_position_bias_mask``
(integrations/sdpa_attention.py), which returned T5's relative position bias without the
``.contiguous()`` that 5.20.0 added: the bias is ``(q, k, heads)`` permuted to ``(1, heads, q, k)``,
its last dimension has stride ``heads``, so no fused kernel takes it and every T5 self-attention
falls back to the math path on a GPU (the H200 runs used transformers 5.17).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

HALF = (torch.float16, torch.bfloat16)
# Op counting (bench/calculator_host_check.py): when set, each fused kernel's forward and backward
# runs inside ``kernel_scope()``, which counts it as one operation and ignores what emulates it.
kernel_scope: Callable[[], contextlib.AbstractContextManager] | None = None


def _kernel():
    return kernel_scope() if kernel_scope else contextlib.nullcontext()


def _autocast_dtype() -> torch.dtype | None:
    return torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else None


class FusedAttention(torch.autograd.Function):
    """What a fused attention kernel keeps for backward: q, k, v, the bias, the output (laid out as
    batch, query, head, dim, so transformers' ``transpose(1, 2).contiguous()`` is free) and the fp32
    log-sum-exp of each query row. Its backward returns gradients of the right shapes (a bias that
    needs a gradient gets a full batch x heads x q x k one first, as the memory-efficient kernel does)."""

    @staticmethod
    def forward(ctx, query, key, value, bias):
        with _kernel():
            batch, heads, length, _ = query.shape
            out = query.new_empty((batch, length, heads, value.shape[-1]))
            lse = query.new_empty((batch, heads, length), dtype=torch.float32)
            ctx.save_for_backward(query, key, value, bias, out, lse)
            return out.transpose(1, 2)

    @staticmethod
    def backward(ctx, grad):
        with _kernel():
            query, key, value, bias, _, _ = ctx.saved_tensors
            grad_bias = None
            if bias is not None and ctx.needs_input_grad[3]:
                full = query.new_empty((*query.shape[:3], key.shape[2]))
                grad_bias = full.sum_to_size(bias.shape)
            grads = torch.empty_like(query), torch.empty_like(key), torch.empty_like(value)
            return (*grads, grad_bias)


def _bool_to_additive(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return torch.zeros(mask.shape, dtype=dtype).masked_fill(mask.logical_not(), float("-inf"))


def math_attention(query, key, value, mask, dropout_p, is_causal, scale, enable_gqa):
    """PyTorch's ``_scaled_dot_product_attention_math``, op for op, with CUDA's dropout."""
    origin = query.dtype
    if origin in HALF:
        query, key, value = query.float(), key.float(), value.float()
    factor = math.sqrt(scale if scale is not None else 1.0 / math.sqrt(query.shape[-1]))
    query = query * factor
    if is_causal:
        mask = torch.ones(query.shape[-2], key.shape[-2], dtype=torch.bool).tril()
    if mask is not None and mask.dtype == torch.bool:
        mask = _bool_to_additive(mask, query.dtype)
    if enable_gqa and key.shape[1] != query.shape[1]:
        key = key.repeat_interleave(query.shape[1] // key.shape[1], 1)
        value = value.repeat_interleave(query.shape[1] // value.shape[1], 1)
    attn = query @ (key.transpose(-2, -1) * factor)
    if mask is not None:
        attn.add_(mask)
    attn = torch.ops.aten._safe_softmax(attn, -1)
    if dropout_p > 0.0:
        attn = torch.native_dropout(attn, dropout_p, True)[0]
    out = (attn @ value).to(origin)
    attn.to(origin)  # the math kernel also returns the weights in the input dtype; SDPA drops them
    return out


def uses_fused_kernel(attn_mask: torch.Tensor | None) -> bool:
    """CUDA's choice for 16-bit or fp32 inputs with a head size that is a multiple of 8: a fused
    kernel unless the mask's last dimension is strided (then only the math path is left)."""
    return attn_mask is None or attn_mask.stride(-1) == 1


def cuda_sdpa(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p=0.0,
    is_causal=False,
    scale=None,
    enable_gqa=False,
):
    """``F.scaled_dot_product_attention`` as CUDA runs it (see the module's docstring)."""
    dtype = _autocast_dtype()
    if (
        dtype is not None
    ):  # CUDA autocast casts every floating argument of SDPA (lower_precision_fp)

        def cast(t):
            return t.to(dtype) if t is not None and t.is_floating_point() else t

        query, key, value, attn_mask = cast(query), cast(key), cast(value), cast(attn_mask)
    with torch.autocast("cpu", enabled=False):
        if uses_fused_kernel(attn_mask):
            bias = attn_mask
            if bias is not None and bias.dtype == torch.bool:
                bias = _bool_to_additive(bias, query.dtype)
            return FusedAttention.apply(query, key, value, bias)
        return math_attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)


def cuda_dropout(input, p=0.5, training=True, inplace=False):
    if not training or p == 0.0:
        return input
    return torch.native_dropout(input, p, True)[0]


def _fp32_policy(fn):
    """CUDA autocast's "fp32" policy: 16-bit floating arguments are cast to fp32 first."""

    def wrapped(*args, **kwargs):
        if _autocast_dtype() is None:
            return fn(*args, **kwargs)

        def up(a):
            return a.float() if isinstance(a, torch.Tensor) and a.dtype in HALF else a

        with torch.autocast("cpu", enabled=False):
            return fn(*[up(a) for a in args], **{k: up(v) for k, v in kwargs.items()})

    return wrapped


def _cuda_cross_entropy(original):
    def wrapped(
        input,
        target,
        weight=None,
        size_average=None,
        ignore_index=-100,
        reduce=None,
        reduction="mean",
        label_smoothing=0.0,
    ):
        plain = weight is None and size_average is None and reduce is None and not label_smoothing
        if _autocast_dtype() is not None and plain and target.dtype == torch.long:
            with torch.autocast("cpu", enabled=False):
                log_probs = torch.log_softmax(input, 1, dtype=torch.float32)
                return F.nll_loss(log_probs, target, ignore_index=ignore_index, reduction=reduction)
        return original(
            input, target, weight, size_average, ignore_index, reduce, reduction, label_smoothing
        )

    return wrapped


def _position_bias_mask_before_5_20(position_bias, attention_mask, is_causal, query, key):
    """transformers 5.17's create_position_bias_mask (integrations/sdpa_attention.py), verbatim in
    effect: the same masks, without the final ``.contiguous()``."""
    min_dtype = torch.finfo(key.dtype).min
    if attention_mask is None:
        if is_causal:
            q_length, kv_length = query.shape[2], key.shape[2]
            causal = torch.arange(q_length)[:, None] >= torch.arange(kv_length)[None, :]
            return torch.where(causal.view(1, 1, q_length, kv_length), position_bias, min_dtype)
        return position_bias
    if attention_mask.dtype == torch.bool:
        return torch.where(attention_mask, position_bias, min_dtype)
    return position_bias + attention_mask


FP32_OPS = [
    (torch, "pow"),
    (torch.Tensor, "pow"),
    (torch.Tensor, "__pow__"),
    (torch, "rsqrt"),
    (torch.Tensor, "rsqrt"),
    (F, "layer_norm"),
]


@contextlib.contextmanager
def cuda_kernels(transformers_before_5_20: bool = False):
    """Inside: dropout, autocast's fp32 ops, the loss and SDPA behave as on a CUDA GPU."""
    import transformers.integrations.sdpa_attention as sdpa_module

    originals = [(owner, name, getattr(owner, name)) for owner, name in FP32_OPS]
    originals += [
        (F, "cross_entropy", F.cross_entropy),
        (F, "dropout", F.dropout),
        (F, "scaled_dot_product_attention", F.scaled_dot_product_attention),
        (sdpa_module, "create_position_bias_mask", sdpa_module.create_position_bias_mask),
    ]
    try:
        for owner, name, function in originals[: len(FP32_OPS)]:
            setattr(owner, name, _fp32_policy(function))
        F.cross_entropy = _cuda_cross_entropy(F.cross_entropy)
        F.dropout = cuda_dropout
        F.scaled_dot_product_attention = cuda_sdpa
        if transformers_before_5_20:
            sdpa_module.create_position_bias_mask = _position_bias_mask_before_5_20
        yield
    finally:
        for owner, name, function in originals:
            setattr(owner, name, function)
