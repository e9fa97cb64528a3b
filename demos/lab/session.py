"""One learner's role-play, from the character's opening to the debrief. No Gradio here.

A :class:`LabSession` is plain per-visitor data (the UI keeps it in ``gr.State``); the
:class:`LabEngine` holds what is shared (scenarios, settings, the embedding model) and never
keeps a visitor's messages or tokens.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from demos.course import Scenario
from demos.lab import backends
from demos.lab.coach import Debrief, make_debrief
from demos.lab.config import LabConfig, load_config, minilm_reference
from demos.lab.coverage import Coverage, Embedder, get_embedder, score_by_embeddings, score_coverage
from demos.lab.history import clip_text, trim_to_context
from demos.lab.prompts import (
    deflection,
    fact_for_points,
    is_escape_attempt,
    leaks_instructions,
    persona_prompt,
    prompt_texts,
)

REMOTE_RETRY_AFTER_S = 300.0  # after a hosted failure, a session stays on the local model this long
# The character speaks in short turns: a reply ends after this many sentences or at a paragraph
# break (small models otherwise drift into essays).
MAX_REPLY_SENTENCES = 4
_SENTENCE_END = re.compile(r"[.!?](?=\s)")


def shape_reply(text: str) -> tuple[str, bool]:
    """``text`` cut at a paragraph break or after :data:`MAX_REPLY_SENTENCES` sentences, and
    whether it was cut (the reply is then complete)."""
    stripped = text.lstrip()
    paragraph = stripped.find("\n\n")
    if paragraph > 0:
        return stripped[:paragraph].rstrip(), True
    ends = [m.end() for m in _SENTENCE_END.finditer(stripped)]
    if len(ends) >= MAX_REPLY_SENTENCES:
        return stripped[: ends[MAX_REPLY_SENTENCES - 1]], True
    return text, False


class LabError(ValueError):
    """Something the learner can fix or should know; the message is a sentence for them."""


class UnknownScenario(LabError):
    pass


class EmptyMessage(LabError):
    pass


class NoBackend(LabError):
    pass


class LabBusy(NoBackend):
    """Every place of the local model is taken and its line is full: the learner sends again."""


@dataclass
class LabSession:
    """One visitor's conversation. Holds no system prompt and no token."""

    scenario_id: str
    messages: list[dict[str, str]]
    notices: list[str] = field(default_factory=list)
    remote_failed_at: float | None = None
    escapes: int = 0
    coverage: Coverage | None = None
    backend_label: str = ""
    dropped_messages: int = 0  # how many old messages the last prompt left out
    ended: bool = False

    def learner_messages(self) -> list[str]:
        return [m["content"] for m in self.messages if m["role"] == "user"]

    def visible_messages(self) -> list[dict[str, str]]:
        """The conversation as the learner sees it (hidden steering lines left out)."""
        return [dict(m) for m in self.messages if m["role"] in ("user", "assistant")]


@dataclass(frozen=True)
class ReplyUpdate:
    """What changed while a reply streams (the session itself is updated in place)."""

    coverage: Coverage
    notice: str = ""
    done: bool = False
    waiting: str = ""  # the local model is busy: where this message is in line


class LabEngine:
    """The lab's shared machinery: scenarios by lesson id, settings, embeddings, backends."""

    def __init__(self, scenarios: Sequence[Scenario], config: LabConfig | None = None):
        self.scenarios = {s.lesson_id: s for s in scenarios}
        self.config = config or load_config()
        self._steer_facts: dict[str, dict[str, str]] = {}

    # ------------------------------------------------------------------ lookups

    def scenario(self, scenario_id: str | None) -> Scenario:
        if scenario_id not in self.scenarios:
            raise UnknownScenario(
                "That scenario does not exist; pick one of the lesson scenarios from the list."
            )
        return self.scenarios[scenario_id]

    @cached_property
    def embedder(self) -> Embedder:
        return get_embedder(minilm_reference(self.config))

    def steer_facts(self, scenario: Scenario) -> dict[str, str]:
        """Rubric point id -> the fact the character presses on to draw that point out."""
        if scenario.lesson_id not in self._steer_facts:
            self._steer_facts[scenario.lesson_id] = fact_for_points(
                scenario, self.embedder.similarity
            )
        return self._steer_facts[scenario.lesson_id]

    # ------------------------------------------------------------------ session

    def start(self, scenario_id: str) -> LabSession:
        """A fresh session: the character opens with the card's opening line."""
        scenario = self.scenario(scenario_id)
        session = LabSession(scenario_id, [{"role": "assistant", "content": scenario.opening}])
        session.coverage = score_by_embeddings(scenario, [], self.embedder)
        return session

    def warm(self, session: LabSession, token: str | None = None) -> None:
        """Let the local model read, now, what the next prompt will begin with: the persona,
        the conversation so far and the next steering line (the learner is still typing)."""
        if self._order(session, token)[0] != "local":
            return
        scenario = self.scenario(session.scenario_id)
        steer = self.steer_message(scenario, session.coverage)
        messages = [{"role": "system", "content": persona_prompt(scenario)}, *session.messages]
        try:
            backend = backends.LocalBackend(self.config)
            budget = backend.context_tokens - self.config.max_new_tokens
            trimmed = trim_to_context(
                messages[0]["content"], messages[1:], backend.count_tokens, budget
            )
            backend.warm([*trimmed.messages, *([steer] if steer else [])])
        except backends.BackendUnavailable:
            return  # the next reply will say so

    def preview(self, session: LabSession, draft: str) -> Coverage:
        """Coverage of the learner's messages plus a draft not yet sent (embeddings only: fast)."""
        scenario = self.scenario(session.scenario_id)
        texts = session.learner_messages()
        draft, _ = clip_text(draft.strip(), self.config.max_message_chars)
        if draft:
            texts.append(draft)
        return score_by_embeddings(scenario, texts, self.embedder)

    def steer_fact(self, scenario: Scenario, coverage: Coverage | None) -> str | None:
        """The fact to press on next: the one mapped to the least-covered point (never its text)."""
        if coverage is None or not coverage.uncovered:
            return None
        return self.steer_facts(scenario)[coverage.uncovered[0].id]

    def steer_message(self, scenario: Scenario, coverage: Coverage | None) -> dict[str, str] | None:
        """The hidden steering line as a system message, or None when every point is covered."""
        fact = self.steer_fact(scenario, coverage)
        return (
            {"role": "system", "content": prompt_texts().steer.format(fact=fact)} if fact else None
        )

    def prompt_messages(
        self, session: LabSession, backend, earlier: Coverage | None
    ) -> tuple[str, list[dict[str, str]]]:
        """The system prompt and the history to send, steering placed as ``backend`` prefers.

        A hosted model gets the steering line at the end of its system prompt, aimed with the
        coverage that includes the newest message. A local model gets it as a hidden system
        message just before the newest message, aimed with the ``earlier`` coverage: that line
        is known (and read into the prefix cache, see :meth:`warm`) before the learner writes,
        so only the learner's own words are new when the message arrives. The line stays in the
        session, so each prompt extends the previous one.
        """
        scenario = self.scenario(session.scenario_id)
        if backend.steer_in_system_prompt:
            history = [m for m in session.messages if m["role"] != "system"]
            return persona_prompt(scenario, self.steer_fact(scenario, session.coverage)), history
        before_newest = session.messages[-2] if len(session.messages) > 1 else None
        steer = self.steer_message(scenario, earlier)
        if steer and (before_newest is None or before_newest["role"] != "system"):
            session.messages.insert(len(session.messages) - 1, steer)
        return persona_prompt(scenario), list(session.messages)

    # ------------------------------------------------------------------ backends

    def _order(self, session: LabSession, token: str | None) -> list[str]:
        order = backends.backend_order(self.config, token)
        recently_failed = (
            session.remote_failed_at is not None
            and time.monotonic() - session.remote_failed_at < REMOTE_RETRY_AFTER_S
        )
        if recently_failed and len(order) > 1:
            order = [name for name in order if name != "remote"]
        return order

    def _backend(self, name: str, token: str | None):
        if name == "remote":
            return backends.RemoteBackend(self.config, token)
        return backends.LocalBackend(self.config)

    def _judge(self, session: LabSession, token: str | None) -> Callable[[str], str] | None:
        """A function asking a capable model to grade, when the settings call for one."""
        order = self._order(session, token)
        if self.config.judge == "embeddings":
            return None
        if self.config.judge == "auto" and order[0] != "remote":
            return None

        def judge(prompt: str) -> str:
            backend = self._backend(order[0], token)
            stream = backend.stream(
                [{"role": "user", "content": prompt}],
                max_new_tokens=700,
                time_limit_s=self.config.time_limit_s,
                temperature=0.0,
            )
            return "".join(stream)

        return judge

    # ------------------------------------------------------------------ a turn

    def reply(
        self, session: LabSession, text: str, token: str | None = None
    ) -> Iterator[ReplyUpdate]:
        """Add the learner's message and stream the character's answer into ``session``.

        Yields after the learner's message is scored (the meter can move at once), after every
        piece of the reply, and once more when done (with a model judge's coverage, if any).
        """
        scenario = self.scenario(session.scenario_id)
        texts = prompt_texts()
        text = (text or "").strip()
        if not text:
            raise EmptyMessage("Write a message to the character first.")
        notices: list[str] = []
        session.ended = False  # a new message after End goes on with the conversation
        text, clipped = clip_text(text, self.config.max_message_chars)
        if clipped:
            notices.append(texts.clipped_notice.format(chars=f"{self.config.max_message_chars:,}"))
        start = len(session.messages)
        earlier = session.coverage
        session.messages.append({"role": "user", "content": text})
        session.coverage = score_by_embeddings(scenario, session.learner_messages(), self.embedder)
        yield ReplyUpdate(session.coverage, " ".join(notices))

        if is_escape_attempt(text):
            # Answered in character without asking any model: nothing to obey, nothing to leak.
            session.messages.append(
                {"role": "assistant", "content": deflection(scenario, session.escapes)}
            )
            session.escapes += 1
            yield ReplyUpdate(session.coverage, " ".join(notices), done=True)
            return

        answer = {"role": "assistant", "content": ""}
        stream = None
        backend = None
        for name in self._order(session, token):
            try:
                backend = self._backend(name, token)
                system, history = self.prompt_messages(session, backend, earlier)
                budget = backend.context_tokens - self.config.max_new_tokens
                trimmed = trim_to_context(system, history, backend.count_tokens, budget)
                stream = backend.stream(
                    trimmed.messages,
                    max_new_tokens=self.config.max_new_tokens,
                    time_limit_s=self.config.time_limit_s,
                    temperature=self.config.temperature,
                )
                session.backend_label = backend.label
                session.dropped_messages = trimmed.dropped
                if trimmed.dropped:
                    notices.append(texts.trimmed_notice)
                break
            except backends.BackendUnavailable as exc:
                if name == "remote":
                    session.remote_failed_at = time.monotonic()
                    notices.append(texts.fallback_notice.format(reason=exc.reason))
                    continue
                del session.messages[start:]  # the learner may send it again
                if isinstance(exc, backends.LabBusy):
                    raise LabBusy(
                        f"The character cannot answer right now: {exc.reason}. Your message is "
                        "still in the box: send it again in a minute."
                    ) from None
                raise NoBackend(
                    f"The character cannot answer right now: {exc.reason}. Try again in a moment."
                ) from None
        session.messages.append(answer)
        notice = " ".join(notices)
        session.notices = notices
        assert stream is not None  # the local backend either streams or raises NoBackend
        try:
            for piece in stream:
                if session.ended:  # End pressed meanwhile: stop, and free the model's place
                    break
                if isinstance(piece, backends.Waiting):  # the local model's line: say where
                    yield ReplyUpdate(session.coverage, notice, waiting=piece.message)
                    continue
                answer["content"] += piece
                if leaks_instructions(answer["content"], scenario):
                    answer["content"] = deflection(scenario, session.escapes)
                    session.escapes += 1
                    break
                answer["content"], finished = shape_reply(answer["content"])
                yield ReplyUpdate(session.coverage, notice)
                if finished:
                    break
        finally:  # also when the reply is stopped half-way (End, a closed page)
            stream.close()
            answer["content"] = answer["content"].strip() or texts.empty_reply
        judge = self._judge(session, token)
        if judge is not None:
            session.coverage = score_coverage(
                scenario, session.learner_messages(), self.embedder, judge
            )
        yield ReplyUpdate(session.coverage, notice, done=True)
        if backend is not None and backend.kind == "local" and not session.ended:
            self.warm(session, token)

    def end(self, session: LabSession, token: str | None = None) -> Debrief:
        """Score the conversation and write the coach's feedback."""
        scenario = self.scenario(session.scenario_id)
        coverage = score_coverage(
            scenario, session.learner_messages(), self.embedder, self._judge(session, token)
        )
        session.coverage = coverage
        session.ended = True
        return make_debrief(scenario, coverage)
