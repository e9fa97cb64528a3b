"""Fitting a conversation into a model's context: clip long messages, drop the oldest turns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
