"""bf16 products for the local model on a CPU (demos/lab/batched_bf16.py): from ``min_rows``
rows a linear layer multiplies in bf16 and stays close to fp32, below it exactly fp32; tied
weights stay tied; the setting decides (``auto`` follows the CPU); SmolLM2's next-token
distributions stay close to fp32's."""

from __future__ import annotations

import pytest

from demos import hub
from demos.lab import backends, batched_bf16
from demos.lab.compute import compute


def tiny_llama(tied: bool = True):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=300,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=tied,
    )
    return LlamaForCausalLM(config).eval()


@pytest.mark.parametrize("min_rows", [1, 4])
@pytest.mark.parametrize("rows", [1, 3, 4, 8, 128])
def test_rows_below_the_threshold_are_exact_fp32_and_above_it_bf16(rows, min_rows):
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 96)
    layer = batched_bf16.layer_class()(linear, min_rows)
    x = torch.randn(1, rows, 64)
    with torch.inference_mode():
        out = layer(x)
        exact = linear(x)
        in_bf16 = F.linear(x.bfloat16(), linear.weight.bfloat16(), linear.bias.bfloat16()).float()
    assert out.dtype == torch.float32 and out.shape == exact.shape
    if rows < min_rows:
        assert torch.equal(out, exact)
    else:
        assert torch.equal(out, in_bf16)
        assert not torch.equal(out, exact)  # it did take the bf16 path
        assert torch.allclose(out, exact, atol=0.05, rtol=0.02)


@pytest.mark.parametrize("batch", [1, 3])
def test_the_last_position_of_a_prompt_is_multiplied_as_rows_not_as_a_batch(batch):
    """The model's head after reading a prompt gets the last position sliced out of it (a 3-D
    input whose first stride is the whole prompt). torch.matmul sends such a bf16 input down a
    batched path that first copies the whole transposed weight (95 ms instead of 6 for SmolLM2's
    head on this CPU); the layer multiplies it as a 2-D matrix of rows instead."""
    import torch
    import torch.nn.functional as F
    from torch.profiler import ProfilerActivity, profile

    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 300, bias=False)
    layer = batched_bf16.layer_class()(linear)
    hidden = torch.randn(batch, 40, 64)
    last = hidden[:, -1:, :]
    with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU]) as trace:
        out = layer(last)
    ops = {event.name for event in trace.events()}
    assert "aten::bmm" not in ops and "aten::clone" not in ops
    expected = F.linear(last.reshape(batch, 64).bfloat16(), linear.weight.bfloat16()).float()
    assert out.shape == (batch, 1, 300) and out.dtype == torch.float32
    assert torch.equal(out.reshape(batch, 300), expected)


def test_every_fp32_linear_is_replaced_once_and_tied_weights_stay_tied():
    import torch

    model = tiny_llama(tied=True)
    linears = sum(type(m) is torch.nn.Linear for m in model.modules())
    assert batched_bf16.use_bf16_for_batches(model) == linears > 0
    assert not any(type(m) is torch.nn.Linear for m in model.modules())
    assert model.lm_head.weight is model.model.embed_tokens.weight
    assert batched_bf16.use_bf16_for_batches(model) == 0  # already done
    ids = torch.randint(0, 300, (2, 9))
    with torch.inference_mode():
        assert model(ids).logits.dtype == torch.float32


def test_the_setting_decides_and_auto_follows_the_cpu(monkeypatch):
    import torch

    model = tiny_llama()
    assert not batched_bf16.wanted("off", model)
    assert batched_bf16.wanted("on", model)
    monkeypatch.setattr(batched_bf16, "cpu_has_bf16", lambda: False)
    assert not batched_bf16.wanted("auto", model)
    monkeypatch.setattr(batched_bf16, "cpu_has_bf16", lambda: True)
    assert batched_bf16.wanted("auto", model)
    assert not batched_bf16.wanted("on", model.to(torch.bfloat16))  # already bf16: nothing to do

    class OnGpu:
        device = "cuda:0"
        dtype = torch.float32

    assert not batched_bf16.wanted("on", OnGpu())


@pytest.mark.parametrize("setting", ["on", "off"])
def test_the_lab_batcher_applies_the_setting_to_a_cpu_model(monkeypatch, setting):
    import torch

    from demos.lab.config import load_config

    class FakeBatcher:
        def __init__(self, *args, **kwargs):
            pass

        def resize(self, *args):
            pass

    model = tiny_llama()
    monkeypatch.setenv("LAB_CPU_BF16", setting)
    monkeypatch.setattr(backends, "_batchers", {})
    monkeypatch.setattr(backends, "Batcher", FakeBatcher)
    monkeypatch.setattr(backends.compute, "attach", lambda batcher: None)
    backends.batcher("tiny/llama", load_config(), model, tokenizer=None)
    plain = any(type(m) is torch.nn.Linear for m in model.modules())
    assert plain is (setting == "off")


@pytest.mark.slow
def test_smollm2_chooses_the_same_next_tokens_over_a_batch(smollm_folder):
    """Eight rows of text through SmolLM2-135M, teacher-forced: the next-token distributions
    with bf16 products are fp32's within a KL of 0.005 (measured 0.001), and wherever the top token
    differs, fp32 itself had a near tie (its top two within 2 points of probability)."""
    import copy

    import torch

    model, tokenizer = compute.call(hub.load_model, str(smollm_folder), "causal-lm", dtype="auto")
    mixed = copy.deepcopy(model)
    batched_bf16.use_bf16_for_batches(mixed)
    texts = [
        "We should not move to Lightning before the release; the loop is ours and it works.",
        "A LoRA adapter trains two small matrices beside each frozen weight matrix.",
        "Colab's free T4 has 15 GB of memory, Kaggle gives 30 hours of GPU a week.",
        "Start with prompting a small instruct model, then add retrieval over your own notes.",
        "The classifier reached 0.91 F1 on posts it never saw; ship it as a Space.",
        "How much would four hours on an A100 cost compared with a week on the free tier?",
        "I would fine-tune only if prompting and retrieval both fail on our real tickets.",
        "Measure first: tokens per second, memory, and the cost per thousand requests.",
    ]
    batch = tokenizer(texts, return_tensors="pt", padding=True)

    def logits(m):
        with torch.inference_mode():
            return m(**batch).logits

    expected, ours = compute.call(logits, model), compute.call(logits, mixed)
    real = batch["attention_mask"].bool()
    kl = torch.nn.functional.kl_div(
        ours.log_softmax(-1), expected.log_softmax(-1), log_target=True, reduction="none"
    ).sum(-1)[real]
    assert kl.mean().item() < 0.005, kl.mean().item()
    differ = (expected.argmax(-1) != ours.argmax(-1))[real]
    top_two = expected.softmax(-1)[real].topk(2, dim=-1).values
    margins = (top_two[:, 0] - top_two[:, 1])[differ]
    assert differ.float().mean().item() < 0.1
    assert bool((margins < 0.02).all()), margins.tolist()
