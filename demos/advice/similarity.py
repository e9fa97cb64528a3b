"""Zero-shot without an NLI model: how close a post is to each label's description (MiniLM).

The zero-shot side of the tab asks an NLI model when the Hub can be reached. When it cannot (an
offline Space, a Hub outage), this fallback runs on the MiniLM that ships with the Space: it
embeds the post and a few sentences per label (``data/label_descriptions.yaml``), averages the
cosine similarity to each label's sentences and turns the averages into confidences with a
softmax. No training, a different method: the tab names it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from demos import hub
from demos.advice.config import LABELS, settings
from demos.yaml_io import safe_load

DESCRIPTIONS_PATH = Path(__file__).resolve().parent / "data" / "label_descriptions.yaml"
#: Method name shown in the tab and returned by the API beside the scores.
METHOD = "similarity to label descriptions (MiniLM), offline fallback"
#: Cosine similarities differ by a few hundredths between labels; dividing by this before the
#: softmax spreads them into confidences that are neither flat nor certain.
TEMPERATURE = 0.05

_lock = threading.Lock()
_label_vectors: dict[str, object] = {}


def label_descriptions() -> dict[str, list[str]]:
    """Label -> its describing sentences, in the order of ``LABELS``."""
    data = safe_load(DESCRIPTIONS_PATH.read_text(encoding="utf-8"))
    return {label: [str(s) for s in data[label]] for label in LABELS if data.get(label)}


def embed(texts: Sequence[str], model_ref: str | None = None, progress=None):
    """Mean-pooled, unit-length sentence embeddings (what sentence-transformers computes)."""
    import torch

    model, tokenizer = hub.load_model(
        model_ref or settings().embedding_model, "base", progress=progress
    )
    encoded = tokenizer(
        list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt"
    ).to(model.device)
    if "token_type_ids" not in _accepts(model):
        encoded.pop("token_type_ids", None)
    with torch.inference_mode():
        hidden = model(**encoded).last_hidden_state
    mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled.float(), dim=-1)


def _accepts(model) -> set[str]:
    import inspect

    return set(inspect.signature(model.forward).parameters)


def _vectors(model_ref: str, progress=None) -> dict[str, object]:
    with _lock:
        cached = _label_vectors.get(model_ref)
    if cached is None:
        descriptions = label_descriptions()
        cached = {label: embed(texts, model_ref, progress) for label, texts in descriptions.items()}
        with _lock:
            _label_vectors[model_ref] = cached
    return cached


def similarity_zero_shot(
    texts: Sequence[str], model_ref: str | None = None, progress=None
) -> list[dict[str, float]]:
    """Confidences per label for each post, from its similarity to the label descriptions."""
    import torch

    ref = model_ref or settings().embedding_model
    vectors = _vectors(ref, progress)
    posts = embed(texts, ref, progress)
    labels = list(vectors)
    # Mean cosine similarity of each post to each label's sentences: (posts, labels).
    similarity = torch.stack([(posts @ vectors[label].T).mean(dim=1) for label in labels], dim=1)
    confidences = torch.softmax(similarity / TEMPERATURE, dim=1)
    return [dict(zip(labels, map(float, row))) for row in confidences.tolist()]


def clear() -> None:
    """Forget the label vectors (tests that swap the embedding model)."""
    with _lock:
        _label_vectors.clear()
