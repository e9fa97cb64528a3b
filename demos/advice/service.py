"""What the tab does with a post: both classifiers, one honest word, and notes (no Gradio).

Several posts (a batch of concurrent visitors) share one forward pass per model; each visitor is
served their own fine-tuned model if they trained one (see in_place.py), else the Space's.
Nothing is raised for one post's problem: it becomes that post's note, so one visitor's bad
input never fails the others in the batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from demos import hub
from demos.advice import background, in_place, inference, verdict
from demos.advice.config import hide_paths, public_ref, settings


@dataclass
class Outcome:
    zero_shot: dict[str, float] | None = None
    fine_tuned: dict[str, float] | None = None
    verdict: verdict.Verdict | None = None
    notes: list[str] = field(default_factory=list)
    zero_shot_method: str = ""  # "nli" or "similarity"
    zero_shot_model: str = ""
    fine_tuned_model: str | None = None  # the reference it was scored with (internal)

    @property
    def note(self) -> str:
        return " ".join(note for note in self.notes if note)


def classify_many(posts: list, sessions: list[str | None] | None = None, progress=None) -> list:
    """An :class:`Outcome` per post; ``sessions[i]`` picks post i's fine-tuned model."""
    sessions = sessions or [None] * len(posts)
    outcomes = [Outcome() for _ in posts]
    cleaned: dict[int, inference.CleanPost] = {}
    for index, text in enumerate(posts):
        try:
            cleaned[index] = inference.clean_post(text)
            outcomes[index].notes.append(cleaned[index].note())
        except inference.PostError as error:
            outcomes[index].notes.append(str(error))
    if not cleaned:
        return outcomes
    indices = list(cleaned)
    texts = [cleaned[index].text for index in indices]
    words = None

    try:
        side = inference.zero_shot_side(texts, progress)
        words = side.vocabulary
        for index, scores in zip(indices, side.scores):
            outcomes[index].zero_shot = scores
            outcomes[index].zero_shot_method = side.method
            outcomes[index].zero_shot_model = side.model
    except Exception as error:  # a broken zero-shot setting must not hide the fine-tuned side
        _note_all(outcomes, indices, "zero-shot", error)

    by_model: dict[str, list[int]] = {}
    for index in indices:
        ref = in_place.model_for(sessions[index])
        if ref is None:
            outcomes[index].notes.append(waiting_note())
        else:
            by_model.setdefault(ref, []).append(index)
    for ref, group in by_model.items():
        try:
            scores = inference.classify_posts([cleaned[i].text for i in group], ref, progress)
            words = inference.vocabulary(inference.tokenizer_of(ref))
        except Exception as error:  # the same: a sentence beside the result, never a traceback
            _note_all(outcomes, group, "fine-tuned", error)
            continue
        for index, row in zip(group, scores):
            outcomes[index].fine_tuned = row
            outcomes[index].fine_tuned_model = ref

    words = inference.reading_vocabulary(words)
    for index in indices:
        outcome = outcomes[index]
        check = verdict.check_words(cleaned[index].text, words)
        if outcome.fine_tuned is not None:
            outcome.verdict = verdict.decide(outcome.fine_tuned, check, "the fine-tuned model")
        elif outcome.zero_shot is not None:
            source = (
                "the zero-shot fallback (MiniLM similarity, offline)"
                if outcome.zero_shot_method == "similarity"
                else "the zero-shot model"
            )
            outcome.verdict = verdict.decide(outcome.zero_shot, check, source)
        elif not check.readable:
            outcome.verdict = verdict.decide(None, check)
    return outcomes


def _note_all(outcomes: list[Outcome], indices: list[int], side: str, error: Exception) -> None:
    if isinstance(error, (hub.HubError, inference.PostError)):
        text = f"The {side} model: {hide_paths(str(error))}"
    else:
        text = f"The {side} model could not read this post ({type(error).__name__})."
    for index in indices:
        outcomes[index].notes.append(text)


def waiting_note() -> str:
    """Why the fine-tuned side has no answer yet, and when it will."""
    status = background.space_status()
    if status.running:
        left = status.remaining_s()
        when = f" about {left:.0f} s left" if left is not None else ""
        return (
            "The fine-tuned model is still training in the background "
            f"({status.fraction:.0%}{',' if when else ''}{when}); the zero-shot side answers "
            "meanwhile."
        )
    if status.state == "failed":
        return f"The Space could not train its fine-tuned model: {status.error}"
    return "No fine-tuned classifier is set up yet: fine-tune one first."


def metrics(model_ref: str | None) -> dict | None:
    """The training script's metrics.json of a local model (None for a Hub model or none)."""
    if not model_ref or hub.is_hub_id(model_ref):
        return None
    try:
        return json.loads((Path(model_ref) / "metrics.json").read_text())
    except (OSError, ValueError):
        return None


def model_name(model_ref: str | None) -> str:
    return public_ref(model_ref) if model_ref else ""


def served_to(session: str | None) -> str | None:
    """The fine-tuned model this session is served (its own, else the Space's)."""
    return in_place.model_for(session)


def is_own_model(session: str | None) -> bool:
    return in_place.sessions.model_of(session) is not None


def fine_tune_limits() -> str:
    current = settings()
    return f"{current.train_epochs} epoch(s), at most {current.train_time_limit_s:.0f} s"
