"""Items 1 and 3: the output layer follows the task, and configs of every kind are read right."""

from __future__ import annotations

import dataclasses

import pytest

from demos.calculator.estimate import estimate
from demos.calculator.fields import Fields, build_job
from demos.calculator.memory import memory_breakdown
from demos.calculator.model_size import architecture_from_config, from_table

transformers = pytest.importorskip("transformers")


def job_for(model: str, **changes):
    job = build_job(Fields(model=model, examples=10_000, tokens_per_example=256))
    return dataclasses.replace(job, sequence_length=256, **changes)


def test_a_classifier_has_no_vocabulary_logits():
    """Item 1: BERT base fine-tuned to classify vs trained as a masked LM: the LM head's logits
    (12 bytes x 28,996 x tokens at the loss's peak) are the whole difference."""
    classifier = estimate(job_for("bert-base-cased", task="classification", method="full"))
    mlm = estimate(job_for("bert-base-cased", task="masked-lm", method="full"))
    logits_gib = 12 * 28_996 * 8 * 256 / 2**30
    difference = mlm.memory.activations - classifier.memory.activations
    assert difference == pytest.approx(logits_gib, rel=0.05)
    assert classifier.memory.total < 0.8 * mlm.memory.total


def test_a_decoder_classifier_drops_the_lm_head_too():
    causal = estimate(job_for("Llama-3.2-1B", method="lora"))
    classifier = estimate(job_for("Llama-3.2-1B", method="lora", task="classification"))
    assert classifier.memory.activations < 0.6 * causal.memory.activations
    assert classifier.flops < causal.flops  # the 128k x 2048 head does not multiply


@pytest.mark.parametrize(
    ("model", "task"),
    [
        ("gpt2", "causal-lm"),
        ("roberta-base", "classification"),
        ("t5-base", "seq2seq"),
        ("flan-t5-base", "seq2seq"),
    ],
)
def test_the_task_defaults_to_the_models_kind(model, task):
    assert estimate(job_for(model)).assumptions["task"] == task


def test_t5_config_counts_the_decoder_and_its_gated_gelu():
    """Item 3: T5 v1.1 / Flan-T5 configs: num_layers + num_decoder_layers, d_ff, "gated-gelu"."""
    cfg = transformers.T5Config(
        d_model=512, d_ff=1024, num_layers=8, num_decoder_layers=6, feed_forward_proj="gated-gelu"
    ).to_dict()
    arch = architecture_from_config(cfg)
    assert (arch.layers, arch.decoder_layers, arch.intermediate) == (8, 6, 1024)
    assert arch.kind == "encoder-decoder" and arch.gated_mlp and arch.activation == "gelu_new"
    relu = architecture_from_config(transformers.T5Config().to_dict())
    assert not relu.gated_mlp and relu.decoder_layers == relu.layers == 6


def test_bart_gemma_bert_and_gpt2_configs():
    bart = architecture_from_config(
        transformers.BartConfig(encoder_layers=4, decoder_layers=3, d_model=256).to_dict()
    )
    assert bart.kind == "encoder-decoder" and (bart.layers, bart.decoder_layers) == (4, 3)
    assert bart.intermediate == transformers.BartConfig().encoder_ffn_dim
    gemma = architecture_from_config(transformers.GemmaConfig().to_dict())
    assert gemma.gated_mlp and gemma.activation == "gelu_pytorch_tanh"  # GeGLU, not silu
    bert = architecture_from_config(transformers.BertConfig().to_dict())
    assert bert.kind == "encoder" and bert.family == "bert" and not bert.gated_mlp
    gpt2 = architecture_from_config(transformers.GPT2Config().to_dict())
    assert gpt2.family == "gpt" and gpt2.activation == "gelu_new" and gpt2.dropout == 0.1


def test_the_built_in_t5_matches_its_config():
    table = from_table("flan-t5-base").architecture
    config = architecture_from_config(
        transformers.T5Config(
            d_model=768,
            d_ff=2048,
            d_kv=64,
            num_heads=12,
            num_layers=12,
            num_decoder_layers=12,
            feed_forward_proj="gated-gelu",
            vocab_size=32128,
            tie_word_embeddings=False,
        ).to_dict()
    )
    for name in ("layers", "decoder_layers", "hidden", "intermediate", "gated_mlp", "kind"):
        assert getattr(table, name) == getattr(config, name), name


def test_the_decoder_layers_cost_memory_and_flops():
    """Before, an encoder-decoder was an encoder: half its layers were missing."""
    full = job_for("t5-base", method="full")
    encoder_only = dataclasses.replace(
        full, architecture=dataclasses.replace(full.architecture, decoder_layers=0)
    )
    with_decoder = estimate(full)
    assert with_decoder.memory.activations > 1.5 * estimate(encoder_only).memory.activations


def test_a_shorter_target_costs_less():
    long = estimate(job_for("t5-base"))
    short = estimate(job_for("t5-base", target_length=32))
    assert short.flops < long.flops and short.memory.total < long.memory.total


def test_gated_mlp_keeps_more_than_plain():
    arch = from_table("Llama-3.2-1B").architecture
    job = job_for("Llama-3.2-1B", method="full")
    plain = dataclasses.replace(arch, gated_mlp=False, intermediate=4 * arch.hidden)
    assert memory_breakdown(job, arch).activations > 0
    assert memory_breakdown(job, plain).activations != memory_breakdown(job, arch).activations
