"""Fitting the conversation into the model's context."""

from __future__ import annotations

from demos.lab.history import PER_MESSAGE_OVERHEAD, clip_text, trim_to_context


def count_words(text: str) -> int:
    return len(text.split())


def hundred_turns() -> list[dict[str, str]]:
    history = [{"role": "assistant", "content": "Opening line of the character."}]
    for turn in range(100):
        history.append({"role": "user", "content": f"learner turn {turn} " + "word " * 20})
        history.append({"role": "assistant", "content": f"character turn {turn} " + "word " * 20})
    history.append({"role": "user", "content": "the newest message"})
    return history


def test_a_hundred_turns_are_trimmed_to_the_budget_keeping_the_newest():
    history = hundred_turns()
    trimmed = trim_to_context("system prompt here", history, count_words, budget=500)
    used = sum(count_words(m["content"]) + PER_MESSAGE_OVERHEAD for m in trimmed.messages)
    assert used <= 500
    assert trimmed.messages[0] == {"role": "system", "content": "system prompt here"}
    assert trimmed.messages[-1]["content"] == "the newest message"
    assert trimmed.dropped > 150
    assert len(trimmed.messages) - 1 + trimmed.dropped == len(history)


def test_trimming_moves_in_blocks_so_the_prefix_is_stable():
    history = hundred_turns()
    starts = set()
    for extra in range(4):
        grown = history + [{"role": "assistant", "content": "x"}] * extra
        trimmed = trim_to_context("sys", grown, count_words, budget=500, block=8)
        starts.add(trimmed.dropped)
        assert trimmed.dropped % 8 == 0
    assert len(starts) <= 2


def test_short_history_is_untouched():
    history = [{"role": "assistant", "content": "hi"}, {"role": "user", "content": "hello"}]
    trimmed = trim_to_context("sys", history, count_words, budget=500)
    assert trimmed.dropped == 0 and not trimmed.clipped
    assert trimmed.messages[1:] == history


def test_a_huge_newest_message_is_clipped_to_fit():
    history = [{"role": "user", "content": "word " * 50_000}]
    trimmed = trim_to_context("sys", history, count_words, budget=300)
    assert trimmed.clipped
    assert count_words(trimmed.messages[-1]["content"]) <= 300


def test_clip_text_cuts_at_a_word_and_says_so():
    text, clipped = clip_text("a" * 10 + " " + "b" * 50_000, 4000)
    assert clipped and len(text) <= 4002 and text.endswith("…")
    assert clip_text("short", 4000) == ("short", False)
