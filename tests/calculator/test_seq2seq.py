"""The encoder-decoder's formula, part by part: the encoder runs over the source, the decoder over the
target, and its cross-attention reads the source. Each test changes one length and checks that only
the parts that depend on it move (and by how much), in FLOPs, memory and the host's operations.

Before the round-2 fix the decoder's cross-attention was counted as a second self-attention over the
targets, its key and value projections as if they ran on the targets, and the host's time as a
fixed cost per layer that ignored what a decoder layer adds (T5 on the H200: -52..-60%).
"""

from __future__ import annotations

import dataclasses

import pytest

from demos.calculator.compute import (
    FORWARD_OPS_PER_DECODER_LAYER,
    FORWARD_OPS_PER_LAYER,
    attention_flops,
    compute_parameters,
    flops_per_parameter_token,
    forward_operations,
    host_seconds_per_step,
    target_tokens,
    training_flops,
)
from demos.calculator.jobs import ModelJob, validate_model_job
from demos.calculator.memory import (
    activation_parts,
    matmul_parameters,
    memory_breakdown,
)
from demos.calculator.model_size import from_table

FLAN = from_table("flan-t5-base")


def seq2seq(
    source: int = 512, target: int = 128, batch: int = 16, arch=None, **changes
) -> ModelJob:
    fields = dict(
        parameters=FLAN.parameters,
        architecture=arch or FLAN.architecture,
        examples=16_000,
        tokens_per_example=source,
        sequence_length=source,
        target_length=target,
        batch_size=batch,
        method="full",
        precision="mixed",
        gpu="H200",
        task="seq2seq",
    )
    job = ModelJob(**{**fields, **changes})
    return validate_model_job(job)


def no_bias(arch):
    """The same shape without T5's relative position bias (BART-like): activations scale linearly."""
    return dataclasses.replace(arch, position_bias=False)


# --- FLOPs ----------------------------------------------------------------------------------------


def test_cross_attention_keys_and_values_multiply_source_tokens():
    arch = FLAN.architecture
    job = seq2seq()
    n_source, n_target = compute_parameters(job, arch)
    assert n_source + n_target == pytest.approx(matmul_parameters(job, arch))
    h = arch.hidden
    attention = 4 * h * h
    mlp = 3 * h * arch.mlp_width
    encoder = arch.layers * (attention + mlp)
    cross_kv = arch.decoder_layers * 2 * h * h
    decoder_rest = arch.decoder_layers * (attention + 2 * h * h + mlp)
    head = arch.vocab * h
    whole = encoder + cross_kv + decoder_rest + head
    # The source side holds the encoder and the decoder's cross-attention keys and values.
    assert n_source / (n_source + n_target) == pytest.approx((encoder + cross_kv) / whole)
    assert n_source / (n_source + n_target) > encoder / whole


def test_doubling_the_target_changes_decoder_terms_only():
    short, long = seq2seq(target=128), seq2seq(target=256)
    assert compute_parameters(short) == compute_parameters(long)
    assert target_tokens(long) == 2 * target_tokens(short)
    a, b = attention_flops(short), attention_flops(long)
    assert b["encoder"] == a["encoder"]  # the encoder never sees the target
    assert b["cross"] == pytest.approx(2 * a["cross"])  # twice the queries, same source keys
    assert b["decoder"] == pytest.approx(4 * a["decoder"])  # twice the queries and the keys
    k = flops_per_parameter_token(short)
    _, n_target = compute_parameters(short)
    expected = k * n_target * target_tokens(short) + k / 2 * (3 * a["decoder"] + a["cross"])
    assert training_flops(long) - training_flops(short) == pytest.approx(expected)


def test_doubling_the_source_leaves_the_decoders_self_attention_alone():
    short, long = seq2seq(source=256), seq2seq(source=512)
    # Same examples: the targets are the same tokens, the sources twice as long.
    assert target_tokens(long) == target_tokens(short)
    a, b = attention_flops(short), attention_flops(long)
    assert b["decoder"] == a["decoder"]
    assert b["cross"] == pytest.approx(2 * a["cross"])  # each target token reads twice the source
    assert b["encoder"] == pytest.approx(4 * a["encoder"])
    n_source, n_target = compute_parameters(short)
    k = flops_per_parameter_token(short)
    source_tokens = 16_000 * 256
    expected = k * n_source * source_tokens + k / 2 * (3 * a["encoder"] + a["cross"])
    assert training_flops(long) - training_flops(short) == pytest.approx(expected)


def test_a_decoder_only_model_has_no_decoder_terms():
    llama = from_table("Llama-3.2-1B")
    job = validate_model_job(
        ModelJob(
            parameters=llama.parameters,
            architecture=llama.architecture,
            examples=1000,
            tokens_per_example=512,
            sequence_length=512,
            method="full",
        )
    )
    assert compute_parameters(job)[1] == 0
    assert set(attention_flops(job)) == {"encoder"}


# --- Memory ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "5.17"], ids=["fused attention", "math path"])
def test_doubling_the_target_changes_decoder_activations_only(version):
    arch = FLAN.architecture
    short = activation_parts(seq2seq(target=128, transformers_version=version), arch)
    long = activation_parts(seq2seq(target=256, transformers_version=version), arch)
    assert long["encoder"] == short["encoder"]
    assert long["cross_keys_values"] == short["cross_keys_values"]
    # Per target token the same, plus what grows with the decoder's own self-attention (its bias,
    # or its scores on the math path): at least twice.
    assert long["decoder"] >= 2 * short["decoder"]
    flat_short = activation_parts(seq2seq(target=128), no_bias(arch))
    flat_long = activation_parts(seq2seq(target=256), no_bias(arch))
    assert flat_long["decoder"] == pytest.approx(2 * flat_short["decoder"])


def test_doubling_the_source_changes_encoder_and_cross_keys_values_only():
    arch = no_bias(FLAN.architecture)
    short = activation_parts(seq2seq(source=256), arch)
    long = activation_parts(seq2seq(source=512), arch)
    assert long["decoder"] == short["decoder"]
    assert long["encoder"] == pytest.approx(2 * short["encoder"])
    assert long["cross_keys_values"] == pytest.approx(2 * short["cross_keys_values"])


def test_the_logits_follow_the_target():
    """The LM head and its loss run over the target tokens: a longer source adds no logits."""
    arch = no_bias(FLAN.architecture)

    def head(job):
        return (
            memory_breakdown(job, arch).activations
            - sum(activation_parts(job, arch).values()) / 2**30
        )

    assert head(seq2seq(source=1024)) == pytest.approx(head(seq2seq(source=256)))
    assert head(seq2seq(target=256)) == pytest.approx(2 * head(seq2seq(target=128)), rel=1e-6)
    logits_gib = 12 * arch.vocab * 16 * 128 / 2**30
    assert head(seq2seq(target=128)) == pytest.approx(logits_gib, rel=0.05)


def test_checkpointing_keeps_each_stacks_inputs():
    arch = no_bias(FLAN.architecture)
    plain = memory_breakdown(seq2seq(arch=arch), arch)
    checkpointed = memory_breakdown(seq2seq(arch=arch, gradient_checkpointing=True), arch)
    assert checkpointed.activations < 0.5 * plain.activations
    longer_target = memory_breakdown(
        seq2seq(arch=arch, target=256, gradient_checkpointing=True), arch
    )
    assert longer_target.activations > checkpointed.activations


# --- The host's operations ------------------------------------------------------------------------


def test_forward_operations_follow_layers_not_lengths():
    arch = FLAN.architecture
    job = seq2seq()
    ops = forward_operations(job, arch)
    assert forward_operations(seq2seq(source=1024, target=32, batch=2), arch) == ops
    more_decoder = dataclasses.replace(arch, decoder_layers=arch.decoder_layers + 1)
    more_encoder = dataclasses.replace(arch, layers=arch.layers + 1)
    added_decoder = forward_operations(job, more_decoder) - ops
    added_encoder = forward_operations(job, more_encoder) - ops
    # A decoder layer adds the cross-attention's operations on top of an encoder layer's.
    extra = FORWARD_OPS_PER_DECODER_LAYER["t5"] - FORWARD_OPS_PER_LAYER["t5"]
    assert added_decoder == pytest.approx(added_encoder + extra)
    assert host_seconds_per_step(job, more_decoder) > host_seconds_per_step(job, more_encoder)


def test_lora_adds_operations_per_adapter_in_both_stacks():
    arch = FLAN.architecture
    full = forward_operations(seq2seq(), arch)
    lora = forward_operations(seq2seq(method="lora"), arch)
    # 4 adapters in each encoder layer, 8 (self + cross) in each decoder layer.
    per_adapter = (lora - full) / (4 * arch.layers + 8 * arch.decoder_layers)
    assert per_adapter == pytest.approx(6)


def test_bart_is_an_encoder_decoder_with_its_own_operations():
    """BART (and mBART, Pegasus, Marian) run torch's LayerNorm, one operation, where T5's RMSNorm is
    several written in Python: per layer they dispatch fewer operations (counted by
    bench/calculator_host_check.py), and they have no relative position bias."""
    transformers = pytest.importorskip("transformers")
    from demos.calculator.model_size import architecture_from_config

    config = transformers.BartConfig(
        d_model=768, encoder_layers=6, decoder_layers=6, encoder_ffn_dim=3072, vocab_size=50265
    ).to_dict()
    bart = architecture_from_config(config)
    assert (bart.kind, bart.family, bart.position_bias) == ("encoder-decoder", "bart", False)
    job = seq2seq(arch=bart, parameters=139_420_416, transformers_version="5.17")
    t5_like = dataclasses.replace(bart, family="t5")
    assert forward_operations(job, bart) < 0.8 * forward_operations(job, t5_like)
    # Only T5's bias sends the attention down the math path: BART keeps no scores on any release.
    plain = activation_parts(job, bart)
    assert plain == activation_parts(dataclasses.replace(job, transformers_version=None), bart)
