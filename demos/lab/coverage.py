"""Which rubric points the learner's messages cover: sentence embeddings offline, or a capable
model as judge. Pure logic; the embedding model loads through :mod:`demos.hub` on first use.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from demos import hub
from demos.course import Scenario
from demos.lab.compute import compute
from demos.lab.prompts import prompt_texts

STATUSES = ("covered", "partial", "missing")
# Calibrated on tests/lab/data/transcripts (see tests/lab/test_coverage.py): the cosine
# similarity of a learner sentence to a point or one of its examples.
COVERED_AT = 0.57
PARTIAL_AT = 0.40
MAX_SENTENCES = 400  # a very long conversation is scored on its most recent sentences

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")


@dataclass(frozen=True)
class PointCoverage:
    id: str
    point: str
    status: str  # covered | partial | missing
    score: float  # 0..1 (cosine similarity, or the judge's verdict mapped to 1/0.5/0)
    quote: str  # the learner's own words that match best ("" when none)
    improvement: str = ""  # only set by a model judge


@dataclass(frozen=True)
class Coverage:
    points: tuple[PointCoverage, ...]
    method: str  # "embeddings" or "model"

    @property
    def covered(self) -> int:
        return sum(p.status == "covered" for p in self.points)

    def status(self, point_id: str) -> str:
        return next(p.status for p in self.points if p.id == point_id)

    @property
    def uncovered(self) -> list[PointCoverage]:
        """Points not yet covered, least covered first (ties keep the card's order)."""
        rest = [p for p in self.points if p.status != "covered"]
        return sorted(rest, key=lambda p: p.score)


def split_sentences(text: str) -> list[str]:
    """Sentences (and clauses after semicolons) of ``text`` with at least two words."""
    parts = (part.strip(" -*•\t") for part in _SENTENCE_END.split(text))
    return [part for part in parts if len(part.split()) >= 2]


def learner_units(messages: Sequence[str]) -> list[str]:
    """What gets scored: each sentence, plus each pair of neighbouring sentences of a message."""
    units: list[str] = []
    for message in messages:
        sentences = split_sentences(message)
        units += sentences
        units += [f"{a} {b}" for a, b in zip(sentences, sentences[1:], strict=False)]
    return units[-MAX_SENTENCES:]


class Embedder:
    """Mean-pooled, L2-normalised sentence embeddings from a BERT-style encoder (MiniLM)."""

    def __init__(self, ref: str):
        self.ref = ref
        self._model, self._tokenizer = compute.call(hub.load_model, ref, "base")
        self._cache: dict[str, object] = {}
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]):
        """A (len(texts), dim) float tensor of unit vectors; known texts come from a cache.

        The arithmetic runs on the lab's compute thread (see :mod:`demos.lab.compute`)."""
        return compute.call(self._encode, list(texts))

    def _encode(self, texts: list[str]):
        import torch

        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            encoded = self._tokenizer(
                batch, padding=True, truncation=True, max_length=128, return_tensors="pt"
            ).to(self._model.device)
            with torch.inference_mode():
                hidden = self._model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vectors = torch.nn.functional.normalize(pooled, dim=-1).float().cpu()
            with self._lock:
                if len(self._cache) > 20_000:  # learner sentences are many; points are few
                    self._cache.clear()
                for text, vector in zip(batch, vectors, strict=True):
                    self._cache[text] = vector
        with self._lock:
            return torch.stack([self._cache[t] for t in texts]) if texts else torch.zeros(0, 384)

    def similarity(self, texts_a: Sequence[str], texts_b: Sequence[str]) -> list[list[float]]:
        """Cosine similarities, one row per text of ``texts_a``."""
        a, b = list(texts_a), list(texts_b)
        return compute.call(lambda: (self._encode(a) @ self._encode(b).T).tolist())


_embedders: dict[str, Embedder] = {}
_embedders_lock = threading.Lock()


def get_embedder(ref: str) -> Embedder:
    """One :class:`Embedder` per model reference per process."""
    with _embedders_lock:
        if ref not in _embedders:
            _embedders[ref] = Embedder(ref)
        return _embedders[ref]


def _status(score: float) -> str:
    if score >= COVERED_AT:
        return "covered"
    if score >= PARTIAL_AT:
        return "partial"
    return "missing"


def score_by_embeddings(
    scenario: Scenario, learner_messages: Sequence[str], embedder: Embedder
) -> Coverage:
    """Each point's score is the best cosine between a learner unit and the point or its examples."""
    units = learner_units(learner_messages)
    points = []
    for point in scenario.rubric:
        targets = [point.point, *point.examples]
        if not units:
            points.append(PointCoverage(point.id, point.point, "missing", 0.0, ""))
            continue
        matrix = embedder.similarity(units, targets)
        best_unit = max(range(len(units)), key=lambda i: max(matrix[i]))
        score = max(0.0, max(matrix[best_unit]))
        quote = _best_sentence(units[best_unit], targets, embedder)
        status = _status(score)
        points.append(
            PointCoverage(
                point.id, point.point, status, round(score, 3), quote if status != "missing" else ""
            )
        )
    return Coverage(tuple(points), "embeddings")


def _best_sentence(unit: str, targets: Sequence[str], embedder: Embedder) -> str:
    """The single sentence of a (possibly two-sentence) unit that matches the targets best."""
    sentences = split_sentences(unit)
    if len(sentences) <= 1:
        return unit
    matrix = embedder.similarity(sentences, targets)
    return sentences[max(range(len(sentences)), key=lambda i: max(matrix[i]))]


# ----------------------------------------------------------------------------- model judge


def judge_prompt(scenario: Scenario, learner_messages: Sequence[str]) -> str:
    """The prompt asking a capable model to grade coverage (JSON out)."""
    points = "\n".join(f"- {p.id}: {p.point}" for p in scenario.rubric)
    messages = "\n".join(f"[{i + 1}] {m}" for i, m in enumerate(learner_messages)) or "(none)"
    return prompt_texts().judge.format(
        title=scenario.title, brief=scenario.brief, points=points, messages=messages
    )


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9$%]+", text.lower()))


def parse_judgement(
    raw: str, scenario: Scenario, learner_messages: Sequence[str], fallback: Coverage
) -> Coverage:
    """Read a judge's JSON; keep only verified quotes (found in the learner's own messages).

    A point the judge skipped or garbled keeps the embedding verdict from ``fallback``.
    Raises ValueError when no JSON object can be found.
    """
    match = re.search(r"\{.*\}", raw, re.DOTALL)
    if not match:
        raise ValueError("the judge's answer holds no JSON object")
    data = json.loads(match.group(0))
    verdicts = {
        str(item.get("id")): item
        for item in data.get("points", [])
        if isinstance(item, dict) and item.get("status") in STATUSES
    }
    said = _normalise(" ".join(learner_messages))
    points = []
    for old in fallback.points:
        verdict = verdicts.get(old.id)
        if verdict is None:
            points.append(old)
            continue
        status = verdict["status"]
        quote = str(verdict.get("quote") or "").strip().strip('"')
        if not quote or _normalise(quote) not in said:
            quote = old.quote  # a quote the learner never wrote is replaced by a real one
        improvement = str(verdict.get("improvement") or "").strip()
        score = {"covered": 1.0, "partial": 0.5, "missing": 0.0}[status]
        points.append(
            replace(
                old,
                status=status,
                score=score,
                quote=quote if status != "missing" else "",
                improvement=improvement,
            )
        )
    return Coverage(tuple(points), "model")


def score_coverage(
    scenario: Scenario,
    learner_messages: Sequence[str],
    embedder: Embedder,
    judge: Callable[[str], str] | None = None,
) -> Coverage:
    """Coverage by embeddings, refined by ``judge(prompt) -> text`` when one is given and works."""
    by_embeddings = score_by_embeddings(scenario, learner_messages, embedder)
    if judge is None or not learner_messages:
        return by_embeddings
    try:
        return parse_judgement(
            judge(judge_prompt(scenario, learner_messages)),
            scenario,
            learner_messages,
            by_embeddings,
        )
    except Exception:  # a judge that fails or rambles leaves the offline verdict standing
        return by_embeddings
