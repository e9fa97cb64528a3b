"""Tiny random models saved to temporary folders, so demos/hub.py is tested without the Hub."""

from __future__ import annotations

from pathlib import Path

import pytest

WORDS = ["i", "need", "advice", "help", "me", "so", "tired", "of", "this", "what", "should", "do"]


def write_tokenizer(folder: Path) -> None:
    """A small WordPiece tokenizer (BERT-style) saved into ``folder``."""
    from transformers import BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *"abcdefghijklmnopqrstuvwxyz"]
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab_file=str(vocab_file)).save_pretrained(folder)


def save_tiny_classifier(folder: Path, labels: tuple[str, ...] = ("advice", "venting")) -> Path:
    """A 2-layer, 32-wide BERT classifier with random weights."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=64,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: index for index, label in enumerate(labels)},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    write_tokenizer(folder)
    return folder


def save_tiny_causal_lm(folder: Path) -> Path:
    """A 2-layer Llama-style causal LM with random weights."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=128,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    write_tokenizer(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory) -> Path:
    return save_tiny_classifier(tmp_path_factory.mktemp("models") / "tiny-classifier")


@pytest.fixture(scope="session")
def tiny_causal_lm(tmp_path_factory) -> Path:
    return save_tiny_causal_lm(tmp_path_factory.mktemp("models") / "tiny-causal-lm")


@pytest.fixture(autouse=True)
def fresh_hub_state(monkeypatch):
    """Each test starts with an empty model cache, no extra allowlist and no probe memory."""
    from demos import hub

    monkeypatch.delenv("HUB_ALLOWLIST", raising=False)
    monkeypatch.delenv("HUB_DEVICE", raising=False)
    hub.clear_cache()
    hub._probe_result.clear()
    with hub._registry_lock:
        saved = set(hub._registered)
    yield
    hub.clear_cache()
    hub._probe_result.clear()
    with hub._registry_lock:
        hub._registered.clear()
        hub._registered.update(saved)


def save_tiny_nli(folder: Path) -> Path:
    """A random classifier shaped like an NLI model (entailment/neutral/contradiction).

    No real NLI model exists on this machine, so the zero-shot path is tested for plumbing only.
    """
    return save_tiny_classifier(folder, labels=("entailment", "neutral", "contradiction"))


def save_tiny_t5(folder: Path) -> Path:
    """A 2-layer T5 with random weights and the small WordPiece tokenizer."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    config = T5Config(
        vocab_size=64,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=2,
        pad_token_id=0,
        eos_token_id=3,
        decoder_start_token_id=0,
    )
    T5ForConditionalGeneration(config).save_pretrained(folder)
    write_tokenizer(folder)
    return folder
