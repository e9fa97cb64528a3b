"""A learned reading of a message's wording: does it try to leave the scenario? A logistic
regression on hashed character n-grams (2 to 5 letters) and whole words, trained on the guard's
labelled messages (``bench/lab_guard_head.py``), stored as data in ``data/escape_wording_head.npz``.

Why not only the guard's lexicons: they name what their authors thought of, language by
language, and a fresh author's phrasing slips between them ("things you're listening for", a
language with no lexicon). Why not only MiniLM: it was trained on English, and other languages'
sentences sit close together whatever they say. Letter sequences carry across wordings and
languages ("instrukc", "prompt", "rubric", "ocen", "评分") without either. The threshold is set
in cross-validation so that about one ordinary message in a hundred would be flagged, and the
head only adds to the rules (guard.py): it never clears a message they flagged.

Pure logic (numpy at run time; torch only to fit), no Gradio.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

HEAD_FILE = Path(__file__).resolve().parent / "data" / "escape_wording_head.npz"
BITS = 18  # 2**18 hashed features
NGRAMS = (2, 3, 4, 5)
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class WordingHead:
    weights: np.ndarray  # (2**bits,) float32
    bias: float
    threshold: float  # at or above this probability the wording reads as an attempt to escape
    bits: int
    data_hash: str  # sha256 of the training messages and labels (bench/lab_guard_head.py)


def features(text: str, bits: int = BITS) -> np.ndarray:
    """The sorted, distinct hashed features of ``text``: its lower-cased character n-grams
    (spaces folded, a space at each end) and its words."""
    folded = " " + _SPACE.sub(" ", text.lower()).strip() + " "
    size = 1 << bits
    found = {
        zlib.crc32(f"{n}:{folded[i : i + n]}".encode()) % size
        for n in NGRAMS
        for i in range(len(folded) - n + 1)
    }
    found |= {zlib.crc32(f"w:{word}".encode()) % size for word in _WORD.findall(folded)}
    return np.fromiter(sorted(found), dtype=np.int64)


@lru_cache(maxsize=2)
def load_head(path: Path = HEAD_FILE) -> WordingHead | None:
    """The head stored at ``path``, or None when there is none."""
    if not path.exists():
        return None
    with np.load(path) as raw:
        return WordingHead(
            weights=raw["weights"].astype(np.float32),
            bias=float(raw["bias"]),
            threshold=float(raw["threshold"]),
            bits=int(raw["bits"]),
            data_hash=str(raw["data_hash"]),
        )


def probability(text: str, head: WordingHead | None = None) -> float:
    """The head's probability that ``text`` tries to leave the scenario (0.0 without a head or
    text). Each feature counts once; the features are scaled to unit length."""
    head = head if head is not None else load_head()
    if head is None or not text.strip():
        return 0.0
    index = features(text, head.bits)
    if index.size == 0:
        return 0.0
    logit = float(head.weights[index].sum()) / float(np.sqrt(index.size)) + head.bias
    return float(1.0 / (1.0 + np.exp(-logit)))


def fit(
    texts: Sequence[str], labels: Sequence[bool], l2: float, bits: int = BITS
) -> tuple[np.ndarray, float]:
    """Logistic regression (L-BFGS, L2 penalty ``l2`` on the weights; the two classes weighted
    equally whatever their sizes) on :func:`features`. Returns (weights, bias)."""
    import torch

    rows, cols = [], []
    for row, text in enumerate(texts):
        index = features(text, bits)
        rows.extend([row] * index.size)
        cols.extend(index.tolist())
    rows_t = torch.tensor(rows)
    counts = torch.bincount(rows_t, minlength=len(texts)).clamp(min=1).float()
    values = 1.0 / counts[rows_t].sqrt()
    x = torch.sparse_coo_tensor(
        torch.stack([rows_t, torch.tensor(cols)]),
        values,
        (len(texts), 1 << bits),
        check_invariants=False,
    ).coalesce()
    y = torch.tensor([float(v) for v in labels])
    positives = float(y.sum())
    weight = torch.where(y > 0, (len(y) - positives) / max(positives, 1.0), 1.0)
    w = torch.zeros(1 << bits, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.LBFGS([w, b], max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        logits = torch.sparse.mm(x, w[:, None]).squeeze(1) + b
        loss = (
            torch.nn.functional.binary_cross_entropy_with_logits(
                logits, y, weight=weight, reduction="sum"
            )
            / weight.sum()
            + l2 * (w**2).sum()
        )
        loss.backward()
        return loss

    optimiser.step(closure)
    return w.detach().numpy().astype(np.float32), float(b.detach())
