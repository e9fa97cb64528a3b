"""The debrief: per rubric point a verdict, the learner's own best quote and one improvement;
and the conversation with its feedback as a Markdown document.

Advice quotes only two sources: the learner's own words (the quote) and the scenario card (the
point's own fact, its evidence and its advice, see :mod:`demos.lab.director`).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from demos.course import Scenario
from demos.lab.coverage import OFFLINE_JUDGE, Coverage, PointCoverage
from demos.lab.director import script_for
from demos.lab.prompts import prompt_texts

_MARK = {"covered": "✅", "partial": "🟡", "missing": "⬜"}
_WORD = {"covered": "covered", "partial": "partly covered", "missing": "missing"}
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#!|~>])")
_LINE_START = re.compile(r"^(\s*)([-+]|\d+[.)])", re.MULTILINE)  # a list marker opening a line


def plain_markdown(text: str) -> str:
    """``text`` (a visitor's words) made inert for a Markdown view: no HTML element, no link,
    no formatting. Shown exactly as typed."""
    escaped = html.escape(text, quote=False)
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", escaped)
    escaped = _LINE_START.sub(
        lambda m: m.group(1) + (m.group(2)[:-1] + "\\" + m.group(2)[-1]), escaped
    )
    # A bare address would be linked by the renderer: a zero-width space breaks the pattern.
    escaped = re.sub(r"(?i)(:)(//)", "\\1&#8203;\\2", escaped)
    return re.sub(r"(?i)\bwww\.", "www&#8203;.", escaped)


@dataclass(frozen=True)
class PointFeedback:
    id: str
    point: str
    status: str
    quote: str
    improvement: str
    evidence: str = ""


@dataclass(frozen=True)
class Debrief:
    scenario_title: str
    character_name: str
    feedback: tuple[PointFeedback, ...]
    method: str  # how coverage was judged: "embeddings" or "model"
    judge: str = OFFLINE_JUDGE  # who scored, in words
    lowered: str = ""  # what the debrief made of the whole conversation (Coverage.lowered)

    @property
    def covered(self) -> int:
        return sum(f.status == "covered" for f in self.feedback)

    @property
    def score(self) -> float:
        """0..1: a covered point counts 1, a partial one 0.5."""
        value = {"covered": 1.0, "partial": 0.5, "missing": 0.0}
        return sum(value[f.status] for f in self.feedback) / max(len(self.feedback), 1)


def offline_improvement(scenario: Scenario, point: PointCoverage) -> str:
    """One concrete improvement for a point, from the card itself (no model needed)."""
    templates = prompt_texts().coach
    script = script_for(scenario).point(point.id)
    first = script.evidence[0] if script.evidence else None
    fields = {
        "found": point.evidence,
        "name": scenario.character.name,
        "fact": script.fact.rstrip("."),
        "advice": script.advice,
        "says": first.says if first else "concrete detail",
        "example": first.example if first else "",
    }
    if point.stepped == "performance":  # the conversation reads as talk for the grader
        key = "performance"
    elif point.stepped == "thin":  # the conversation was specific on one point at most
        key = "thin_specific" if point.evidence else "thin_touched"
    elif point.stepped == "vague":  # the conversation stays tentative as a whole
        key = "vague" if point.evidence else "vague_plain"
    elif point.status == "covered":
        key = "covered"
    elif point.status == "partial":
        key = "partial_no_evidence" if first is not None else "partial"
    else:
        key = "restated" if point.restated and first is not None else "missing"
    return templates[key].format(**fields)


def make_debrief(scenario: Scenario, coverage: Coverage) -> Debrief:
    """Turn a coverage verdict into feedback; a model judge's improvement wins over the template."""
    feedback = tuple(
        PointFeedback(
            id=p.id,
            point=p.point,
            status=p.status,
            quote=p.quote,
            improvement=p.improvement or offline_improvement(scenario, p),
            evidence=p.evidence,
        )
        for p in coverage.points
    )
    judge = coverage.judge or (OFFLINE_JUDGE if coverage.method == "embeddings" else "a model")
    return Debrief(
        scenario.title, scenario.character.name, feedback, coverage.method, judge, coverage.lowered
    )


def debrief_markdown(debrief: Debrief) -> str:
    """The debrief as Markdown: a summary line, who scored, then one block per point.

    The learner's quotes are escaped: their words are shown, never rendered."""
    lines = [
        f"### Debrief: {debrief.covered} of {len(debrief.feedback)} points covered "
        f"(score {debrief.score:.0%})",
        "",
        f"*Scored by {debrief.judge}.*",
        "",
    ]
    if debrief.lowered:  # the whole conversation, in a sentence: why verdicts were lowered
        note = prompt_texts().coach[f"summary_{debrief.lowered}"]
        lines += [f"**{note.format(name=debrief.character_name)}**", ""]
    for item in debrief.feedback:
        found = f" ({item.evidence})" if item.evidence and item.status == "covered" else ""
        lines += [f"**{_MARK[item.status]} {item.point}** — {_WORD[item.status]}{found}", ""]
        if item.quote:
            lines += [f"> {plain_markdown(item.quote)}", ""]  # the blank line ends the quote
        lines.append(f"*Improve:* {item.improvement}")
        lines.append("")
    return "\n".join(lines).strip() + "\n"


def transcript_markdown(
    scenario: Scenario, messages: list[dict[str, str]], debrief: Debrief | None
) -> str:
    """The whole conversation and its feedback as one Markdown document for download."""
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    character = scenario.character
    lines = [
        f"# Lab transcript: {scenario.title}",
        "",
        f"*{when} · {character.name}, {character.role}*",
        "",
        "## Your brief",
        "",
        scenario.brief,
        "",
        "## Conversation",
        "",
    ]
    for message in messages:
        speaker = character.name if message["role"] == "assistant" else "You"
        body = message["content"].strip().replace("\n", "\n> ")
        lines += [f"**{speaker}:**", "", f"> {body}", ""]
    if debrief is not None:
        lines += ["## Feedback", "", debrief_markdown(debrief)]
    return "\n".join(lines).rstrip() + "\n"
