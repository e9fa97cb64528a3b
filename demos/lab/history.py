"""Fitting a conversation into a model's context: clip long messages, drop the oldest turns."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Message = dict[str, str]
# Tokens a chat template adds around each message (role markers, separators): a safe margin.
PER_MESSAGE_OVERHEAD = 6


@dataclass(frozen=True)
class Trimmed:
    """The messages to send (system first) and what was left out."""

    messages: list[Message]
    dropped: int  # older messages left out
    clipped: bool  # the newest message itself had to be shortened


def clip_text(text: str, max_chars: int) -> tuple[str, bool]:
    """``text`` cut to ``max_chars`` at a word boundary when possible; and whether it was cut."""
    if len(text) <= max_chars:
        return text, False
    cut = text[:max_chars]
    space = cut.rfind(" ", int(max_chars * 0.8))
    return (cut[:space] if space > 0 else cut).rstrip() + " …", True


def trim_to_context(
    system: str,
    history: list[Message],
    count_tokens: Callable[[str], int],
    budget: int,
    block: int = 8,
) -> Trimmed:
    """Keep the system prompt and the newest messages whose tokens fit in ``budget``.

    Messages are dropped oldest first. The newest message always stays; if it alone does not fit
    beside the system prompt it is clipped to the room that is left. The result never starts
    the conversation with a dangling half-turn beyond what the budget forces.

    Old messages are dropped ``block`` at a time, so the kept history starts at the same message
    for several turns in a row (a local model's prefix cache keeps matching).
    """
    if not history:
        return Trimmed([{"role": "system", "content": system}], 0, False)
    sizes = [count_tokens(m["content"]) + PER_MESSAGE_OVERHEAD for m in history]
    room = budget - count_tokens(system) - PER_MESSAGE_OVERHEAD
    kept: list[int] = []
    used = 0
    for index in range(len(history) - 1, -1, -1):
        if used + sizes[index] > room and kept:
            break
        kept.append(index)
        used += sizes[index]
    kept.reverse()
    dropped = len(history) - len(kept)
    if dropped and block > 1:
        dropped = min(-(-dropped // block) * block, len(history) - 1)
        kept = list(range(dropped, len(history)))
    newest = dict(history[-1])
    clipped = False
    if sizes[-1] > room:
        # Shorten by characters in proportion to the overshoot, then check and repeat.
        allowed = max(room - PER_MESSAGE_OVERHEAD, 16)
        text = newest["content"]
        while count_tokens(text) > allowed and len(text) > 16:
            ratio = allowed / max(count_tokens(text), 1)
            text, _ = clip_text(text, max(int(len(text) * ratio * 0.95), 16))
        newest["content"] = text
        clipped = True
    messages = [{"role": "system", "content": system}]
    messages += [dict(history[i]) for i in kept[:-1]] + [newest]
    return Trimmed(messages, len(history) - len(kept), clipped)


# ----------------------------------------------------------------------------- conversations

ROLES = {
    "user": "user",
    "learner": "user",
    "you": "user",
    "human": "user",
    "assistant": "assistant",
    "character": "assistant",
    "bot": "assistant",
}
MAX_MESSAGES = 400  # a conversation passed in longer than this is refused, not silently cut
_SPEAKER = re.compile(r"^\s*\**\s*([^:*\n]{1,60}?)\s*\**\s*:\s*\**\s*(.*)$")


class ConversationError(ValueError):
    """A conversation passed in (API, MCP) cannot be read; the message says how to fix it."""


def _content_text(content: Any) -> str:
    """The text of a message's content: a string, a list of typed parts (Gradio 6, OpenAI), or a
    mapping with ``text``/``value``."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        for key in ("text", "value", "content"):
            if isinstance(content.get(key), str):
                return content[key]
        return ""
    if isinstance(content, (list, tuple)):
        return "".join(_content_text(part) for part in content)
    return str(content)


def parse_conversation(value: Any, character_name: str, max_chars: int) -> list[Message]:
    """The conversation so far as role/content messages, from what a caller sent.

    Accepts a list of ``{"role", "content"}`` messages (roles ``user``/``assistant``, content a
    string or a list of text parts), a list of ``[learner, character]`` pairs, a JSON string of
    either, or a transcript (``You: ...`` / ``<character name>: ...`` lines). ``None`` or empty
    means no conversation yet. System messages are refused: the character's instructions are the
    server's. Each message is clipped to ``max_chars``.
    Raises :class:`ConversationError` with a sentence for the caller.
    """
    if value is None or (isinstance(value, (str, list, tuple)) and not value):
        return []
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except ValueError:
                raise ConversationError(
                    "The conversation looks like JSON but cannot be read; send a list of "
                    '{"role": "user"|"assistant", "content": "..."} messages.'
                ) from None
        else:
            return _from_transcript(stripped, character_name, max_chars)
    if isinstance(value, Mapping):
        value = value.get("conversation") or value.get("messages") or [value]
    if not isinstance(value, (list, tuple)):
        raise ConversationError("The conversation must be a list of messages or a transcript.")
    if len(value) > MAX_MESSAGES:
        raise ConversationError(f"The conversation has more than {MAX_MESSAGES} messages.")
    messages: list[Message] = []
    for index, item in enumerate(value, start=1):
        if isinstance(item, (list, tuple)) and len(item) == 2:  # a [learner, character] pair
            for role, content in zip(("user", "assistant"), item, strict=True):
                text = _content_text(content).strip()
                if text:
                    messages.append({"role": role, "content": clip_text(text, max_chars)[0]})
            continue
        if not isinstance(item, Mapping):
            raise ConversationError(f"Message {index} is not a {{role, content}} object.")
        raw_role = str(item.get("role", "")).strip().lower()
        role = ROLES.get(raw_role)
        if role is None:
            raise ConversationError(
                f"Message {index} has role '{raw_role[:20]}'; use 'user' (the learner) or "
                "'assistant' (the character). The character's instructions are the server's."
            )
        text = _content_text(item.get("content")).strip()
        if text:
            messages.append({"role": role, "content": clip_text(text, max_chars)[0]})
    return messages


def _from_transcript(text: str, character_name: str, max_chars: int) -> list[Message]:
    names = {character_name.lower(), character_name.split()[0].lower()}
    messages: list[Message] = []
    for line in text.splitlines():
        match = _SPEAKER.match(line)
        speaker = match.group(1).strip().lower() if match else ""
        role = "assistant" if speaker in names else ROLES.get(speaker)
        if match and role:
            messages.append({"role": role, "content": match.group(2)})
        elif messages:
            body = line.strip().removeprefix(">").strip()
            if body:
                sep = "\n" if messages[-1]["content"] else ""
                messages[-1]["content"] += sep + body
        elif line.strip():
            raise ConversationError(
                "A transcript must start each message with 'You:' or "
                f"'{character_name}:'; or send a list of role/content messages."
            )
    if len(messages) > MAX_MESSAGES:
        raise ConversationError(f"The conversation has more than {MAX_MESSAGES} messages.")
    out = []
    for message in messages:
        content = message["content"].strip()
        if content:
            out.append({"role": message["role"], "content": clip_text(content, max_chars)[0]})
    return out
