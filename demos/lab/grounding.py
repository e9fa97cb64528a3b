"""The character's figures come from the card: a reply sentence that states a number nobody in
the scenario or the conversation has said (a made-up budget, price, size or date) is not shown.

A small model wording a move invents figures freely ("the compute budget is $5 per device" for a
$200-a-month scenario); the learner would take them as the scenario's facts. Which numbers are
known: every number in the scenario's own words (``coverage.card_texts``: brief, opening,
facts, every line the character may say) and in
the conversation so far (the learner's messages and the character's replies). A number counts
as stated when it carries a currency sign or a percent, or is above ``SMALL`` ("two options",
"3 steps" stay free). Pure logic: no Gradio, no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from demos.lab.coverage import card_texts
from demos.lab.guard import ReplyCheck, sentences_of

SMALL = 10  # bare numbers up to this are ordinary speech, not figures
_NUMBER = re.compile(
    r"(?P<sign>[$€£¥])?\s?(?P<value>\d+(?:[ ,]\d{3})*(?:\.\d+)?)\s?(?P<scale>[kKmMbB](?![a-zA-Z]))?"
    r"(?P<percent>\s?%)?"
)
_SCALES = {"k": 1e3, "m": 1e6, "b": 1e9}


def figures(text: str) -> list[tuple[float, bool]]:
    """The numbers in ``text``: (value with k/M/B applied, whether it is marked as a figure by
    a currency sign or percent)."""
    out = []
    for match in _NUMBER.finditer(text):
        value = float(re.sub(r"[ ,]", "", match["value"]))
        if match["scale"]:
            value *= _SCALES[match["scale"].lower()]
        out.append((value, bool(match["sign"] or match["percent"])))
    return out


def known_figures(scenario: Any, messages: Iterable[Mapping[str, str]]) -> frozenset[float]:
    """Every number the scenario's card and the conversation contain."""
    texts = [*card_texts(scenario), *(m.get("content", "") for m in messages)]
    return frozenset(value for text in texts for value, _ in figures(text))


def invents_figure(sentence: str, known: frozenset[float]) -> bool:
    return any(
        (marked or value > SMALL) and not any(abs(value - k) < 1e-9 for k in known)
        for value, marked in figures(sentence)
    )


def keep_grounded(check: ReplyCheck, known: frozenset[float]) -> ReplyCheck:
    """``check`` cut before its first sentence that states a figure nobody has given."""
    sentences, _ = sentences_of(check.shown + " ")
    kept = []
    for sentence in sentences:
        if invents_figure(sentence, known):
            return ReplyCheck(" ".join(kept), "invented figure")
        kept.append(sentence)
    return check
