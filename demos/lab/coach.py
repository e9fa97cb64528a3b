"""The debrief: per rubric point a verdict, the learner's own best quote and one improvement;
and the conversation with its feedback as a Markdown document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from demos.course import Scenario
from demos.lab.coverage import Coverage
from demos.lab.prompts import fact_for_points, prompt_texts

_MARK = {"covered": "✅", "partial": "🟡", "missing": "⬜"}
_WORD = {"covered": "covered", "partial": "partly covered", "missing": "missing"}


@dataclass(frozen=True)
class PointFeedback:
    id: str
    point: str
    status: str
    quote: str
    improvement: str


@dataclass(frozen=True)
class Debrief:
    scenario_title: str
    character_name: str
    feedback: tuple[PointFeedback, ...]
    method: str  # how coverage was judged: "embeddings" or "model"

    @property
    def covered(self) -> int:
        return sum(f.status == "covered" for f in self.feedback)

    @property
    def score(self) -> float:
        """0..1: a covered point counts 1, a partial one 0.5."""
        value = {"covered": 1.0, "partial": 0.5, "missing": 0.0}
        return sum(value[f.status] for f in self.feedback) / max(len(self.feedback), 1)


def offline_improvement(scenario: Scenario, point_id: str, status: str, fact: str) -> str:
    """One concrete improvement for a point, from the card itself (no model needed)."""
    templates = prompt_texts().coach
    point = next(p for p in scenario.rubric if p.id == point_id)
    if status == "missing" and not point.examples:
        status = "missing_no_example"
    example = point.examples[0] if point.examples else ""
    return templates[status].format(example=example, fact=fact.rstrip("."))


def make_debrief(scenario: Scenario, coverage: Coverage) -> Debrief:
    """Turn a coverage verdict into feedback; a model judge's improvement wins over the template."""
    facts = fact_for_points(scenario)
    feedback = tuple(
        PointFeedback(
            id=p.id,
            point=p.point,
            status=p.status,
            quote=p.quote,
            improvement=p.improvement or offline_improvement(scenario, p.id, p.status, facts[p.id]),
        )
        for p in coverage.points
    )
    return Debrief(scenario.title, scenario.character.name, feedback, coverage.method)


def debrief_markdown(debrief: Debrief) -> str:
    """The debrief as Markdown: a summary line, then one block per point."""
    judged = "judged by the model" if debrief.method == "model" else "judged by sentence similarity"
    lines = [
        f"### Debrief: {debrief.covered} of {len(debrief.feedback)} points covered "
        f"(score {debrief.score:.0%}, {judged})",
        "",
    ]
    for item in debrief.feedback:
        lines += [f"**{_MARK[item.status]} {item.point}** — {_WORD[item.status]}", ""]
        if item.quote:
            lines += [f"> {item.quote}", ""]  # the blank line ends the quote
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
