"""The character's hidden prompt and the text templates of ``data/prompts.yaml``.

A model playing the character sees its persona, the scenario's facts and one hidden line with
the director's next move (see :mod:`demos.lab.director`). It never sees the rubric. Escape
attempts and reply checks live in :mod:`demos.lab.guard`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from demos import yaml_io
from demos.course import RubricPoint, Scenario

DATA_DIR = Path(__file__).resolve().parent / "data"

_WORD = re.compile(r"[a-z0-9$%']+")
_LEAK_WINDOW = 6  # words in a row from the hidden instructions that count as an echo


@dataclass(frozen=True)
class PromptTexts:
    """The text templates of ``data/prompts.yaml``."""

    persona: str
    steer: str
    move: str
    player: dict[str, str]
    director_defaults: dict
    trimmed_notice: str
    clipped_notice: str
    fallback_notice: str
    empty_reply: str
    coach: dict[str, str]
    judge: str


@lru_cache(maxsize=1)
def prompt_texts() -> PromptTexts:
    """The templates, read once."""
    raw = yaml_io.safe_load((DATA_DIR / "prompts.yaml").read_text(encoding="utf-8"))
    return PromptTexts(
        persona=raw["persona"],
        steer=raw["steer"],
        move=raw["move"],
        player=dict(raw["player"]),
        director_defaults=dict(raw["director_defaults"]),
        trimmed_notice=raw["trimmed_notice"],
        clipped_notice=raw["clipped_notice"],
        fallback_notice=raw["fallback_notice"],
        empty_reply=raw["empty_reply"],
        coach=dict(raw["coach"]),
        judge=raw["judge"],
    )


def persona_prompt(scenario: Scenario, steer_fact: str | None = None) -> str:
    """The character's system prompt: persona, facts and an optional steering line. No rubric."""
    texts = prompt_texts()
    character = scenario.character
    prompt = texts.persona.format(
        name=character.name,
        role=character.role,
        temperament=character.temperament,
        brief=scenario.brief,
        facts="\n".join(f"- {fact}" for fact in scenario.facts),
    ).strip()
    if steer_fact:
        prompt += "\n" + texts.steer.format(fact=steer_fact)
    return prompt


def hidden_instruction_text(scenario: Scenario) -> str:
    """The parts of the system prompt a reply must never repeat (everything but the facts)."""
    texts = prompt_texts()
    character = scenario.character
    persona = texts.persona.replace("{facts}", "").format(
        name=character.name,
        role=character.role,
        temperament=character.temperament,
        brief="",
    )
    move = texts.move.replace("{instruction}", "").format(name=character.name)
    return persona + "\n" + texts.steer.replace("{fact}", "") + "\n" + move


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@lru_cache(maxsize=64)
def _hidden_windows(scenario: Scenario) -> frozenset[tuple[str, ...]]:
    """Every run of six words of the hidden instructions that is not also part of a fact."""
    hidden = _words(hidden_instruction_text(scenario))
    allowed = set()
    for text in (*scenario.facts, scenario.character.role, scenario.character.temperament):
        words = _words(text)
        allowed.update(
            tuple(words[i : i + _LEAK_WINDOW]) for i in range(len(words) - _LEAK_WINDOW + 1)
        )
    windows = {tuple(hidden[i : i + _LEAK_WINDOW]) for i in range(len(hidden) - _LEAK_WINDOW + 1)}
    return frozenset(windows - allowed)


def leaks_instructions(reply: str, scenario: Scenario) -> bool:
    """True when ``reply`` repeats six or more words in a row of the hidden instructions.

    Facts and the character's own name/role may be repeated freely; the instruction lines may not.
    """
    windows = _hidden_windows(scenario)
    said = _words(reply)
    return any(tuple(said[i : i + _LEAK_WINDOW]) in windows for i in range(len(said)))


def as_sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _lexical_similarity(a: str, b: str) -> float:
    wa, wb = set(_stems(a)), set(_stems(b))
    return len(wa & wb) / (len(wa | wb) or 1)


_STOP = set(
    "a an the and or of to in on for with is are be it that this as at by from your you their "
    "they we our not no but if so than then what which who how why when".split()
)


def _stems(text: str) -> list[str]:
    return [w[:6] for w in _words(text) if w not in _STOP and len(w) > 2]


def fact_for_points(scenario: Scenario, similarity=None) -> dict[str, str]:
    """Map each rubric point id to the scenario fact the character should press on to draw it out.

    ``similarity(texts_a, texts_b) -> matrix`` may be an embedding similarity; by default a
    word-overlap score is used. The mapping is deterministic (ties go to the earlier fact).
    """
    facts = list(scenario.facts)
    mapping: dict[str, str] = {}
    queries = [_point_query(point) for point in scenario.rubric]
    if similarity is not None:
        matrix = similarity(queries, facts)
    else:
        matrix = [[_lexical_similarity(q, f) for f in facts] for q in queries]
    for point, row in zip(scenario.rubric, matrix, strict=True):
        best = max(range(len(facts)), key=lambda i: (row[i], -i))
        mapping[point.id] = facts[best]
    return mapping


def _point_query(point: RubricPoint) -> str:
    return " ".join((point.point, *point.examples))
