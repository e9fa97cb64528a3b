"""Does a conversation give advice, or perform for the grader? And does its advice commit, or
stay tentative? Two logistic heads on the mean MiniLM embedding of the learner's sentences,
trained on the hand-labelled transcripts' kinds (``bench/lab_judge_calibration.py --fit-head``):
the advice head, gaming against good and weak (``data/advice_head.json``); the vagueness head,
weak against good (``data/vague_head.json``).

The sentence-level judge reads what is said; a gaming transcript (a checklist of the card's
topics, hype with irrelevant figures, a claimed plan, another scenario's answer) says the right
words without advising anything, and the rules that catch one style miss the next. Its weights
are data tied to the encoder that made them: with another encoder (``LAB_EMBEDDING_MODEL``)
the heads stay off. Pure logic, no Gradio.

A weak transcript hedges ("maybe Colab, or Kaggle, whichever"), stays general, or leans on a
wrong specific; the sentence-level judge still finds a specific in it here and there, and its
authors still call those points partial. The vagueness head reads the whole conversation's tone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
HEAD_FILE = DATA_DIR / "advice_head.json"
VAGUE_FILE = DATA_DIR / "vague_head.json"
# The encoder's fingerprint: the first values of this sentence's embedding.
PROBE = "A learner gives advice about a machine learning project."


@dataclass(frozen=True)
class AdviceHead:
    weights: tuple[float, ...]
    bias: float
    threshold: float  # at or above this probability the conversation reads as its kind
    fingerprint: tuple[float, ...]
    advises_below: float = 0.0  # below this probability it plainly reads as advice


@lru_cache(maxsize=4)
def load_head(path: Path = HEAD_FILE) -> AdviceHead | None:
    """The head from ``path``, or None when there is none."""
    if not path.exists():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    return AdviceHead(
        weights=tuple(float(w) for w in raw["weights"]),
        bias=float(raw["bias"]),
        threshold=float(raw["threshold"]),
        fingerprint=tuple(float(v) for v in raw["fingerprint"]),
        advises_below=float(raw.get("advises_below", 0.0)),
    )


def conversation_vector(embedder, sentences: Sequence[str]):
    """The unit-length mean of the sentences' embeddings (a (dim,) tensor), or None when there
    are no sentences."""
    import torch

    if not sentences:
        return None
    mean = embedder.encode(list(sentences)).mean(0)
    return torch.nn.functional.normalize(mean, dim=0)


def fingerprint(embedder, size: int = 16) -> tuple[float, ...]:
    return tuple(round(float(v), 5) for v in embedder.encode([PROBE])[0][:size])


def performance(embedder, sentences: Sequence[str], head: AdviceHead | None = None) -> float:
    """The advice head's probability that ``sentences`` perform instead of advising (0.0 when
    there is no head, no sentence, or the embedder is not the one the head was trained on)."""
    head = head if head is not None else load_head()
    if head is None or not sentences:
        return 0.0
    return probability(embedder, head, conversation_vector(embedder, sentences))


def vagueness(embedder, sentences: Sequence[str], head: AdviceHead | None = None) -> float:
    """The vagueness head's probability that ``sentences`` stay tentative or general rather
    than commit to specifics (0.0 as for :func:`performance`)."""
    head = head if head is not None else load_head(VAGUE_FILE)
    if head is None or not sentences:
        return 0.0
    return probability(embedder, head, conversation_vector(embedder, sentences))


def probability(embedder, head: AdviceHead, vector) -> float:
    """``head``'s probability for a conversation ``vector`` (:func:`conversation_vector`); 0.0
    when the embedder is not the one the head was trained on."""
    import torch

    if vector is None or not _same_encoder(embedder, head):
        return 0.0
    logit = float(vector @ torch.tensor(head.weights, dtype=vector.dtype)) + head.bias
    return float(torch.sigmoid(torch.tensor(logit)))


@lru_cache(maxsize=8)
def _fingerprint_of(embedder, size: int) -> tuple[float, ...]:
    return fingerprint(embedder, size)


def _same_encoder(embedder, head: AdviceHead) -> bool:
    """The probe's embedding points the same way as when the head was trained (cosine of the
    first values at least 0.98: the same encoder in fp16 on a GPU passes, another does not)."""
    found = _fingerprint_of(embedder, len(head.fingerprint))
    dot = sum(a * b for a, b in zip(found, head.fingerprint, strict=True))
    norms = sum(a * a for a in found) ** 0.5 * sum(b * b for b in head.fingerprint) ** 0.5
    return norms > 0 and dot / norms >= 0.98


def fit(vectors, labels: Sequence[bool], l2: float) -> tuple[list[float], float]:
    """Logistic regression (L-BFGS, L2 penalty ``l2`` on the weights): ``vectors`` an (n, dim)
    tensor, ``labels`` True for gaming. Returns (weights, bias)."""
    import torch

    x = vectors.float()
    y = torch.tensor([float(v) for v in labels])
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.LBFGS([w, b], max_iter=300)

    def closure():
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y)
        loss = loss + l2 * (w**2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return [round(float(v), 6) for v in w.detach()], round(float(b.detach()), 6)
