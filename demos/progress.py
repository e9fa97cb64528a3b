"""A learner's progress, as kept in their own browser (``gr.BrowserState``).

The server never stores it: every function here takes the state the browser sent and returns
the new state. Anything the browser sends may have been edited by hand, so ``clean_progress``
accepts only well-formed entries for lessons and questions that exist.

Shape (version 2)::

    {"version": 2,
     "read": ["pytorch", ...],
     "answers": {"pytorch": {"0": 2, ...}},   # the choice shown now, per question
     "first": {"pytorch": {"0": 1, ...}}}     # the first choice ever made, per question

A question counts as right first time only if its first choice was the right one; a wrong
answer followed by the right one is right on a later try. Version 1 kept only ``answers``:
its answers are kept, and since their first try is unknown they count as later tries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from demos.course import Course, Lesson

VERSION = 2
_READABLE_VERSIONS = (1, 2)
_ANSWER_KEYS = ("answers", "first")


class QuizScore(NamedTuple):
    first_try: int  # right on the first choice
    later_try: int  # right now, after a wrong first choice (or a first choice not recorded)
    answered: int
    total: int

    @property
    def right(self) -> int:
        return self.first_try + self.later_try


def empty_progress() -> dict:
    return {"version": VERSION, "read": [], "answers": {}, "first": {}}


def clean_progress(raw, course: Course) -> tuple[dict, bool]:
    """Return (a valid progress dict, whether anything had to be dropped)."""
    clean = empty_progress()
    if raw is None:
        return clean, False
    if not isinstance(raw, Mapping):
        return clean, True
    dropped = raw.get("version") not in _READABLE_VERSIONS
    read = raw.get("read", [])
    if isinstance(read, list):
        for lesson_id in read:
            if (
                isinstance(lesson_id, str)
                and course.lesson(lesson_id)
                and lesson_id not in clean["read"]
            ):
                clean["read"].append(lesson_id)
            else:
                dropped = True
    else:
        dropped = True
    for key in _ANSWER_KEYS:
        given = raw.get(key, {})
        if not isinstance(given, Mapping):
            dropped = True
            continue
        for lesson_id, by_question in given.items():
            lesson = course.lesson(lesson_id) if isinstance(lesson_id, str) else None
            if lesson is None or not isinstance(by_question, Mapping):
                dropped = True
                continue
            for q, choice in by_question.items():
                if _valid_answer(lesson, q, choice):
                    clean[key].setdefault(lesson_id, {})[str(int(q))] = choice
                else:
                    dropped = True
    # A first choice without a current answer cannot happen through the UI: drop it.
    for lesson_id, firsts in list(clean["first"].items()):
        current = clean["answers"].get(lesson_id, {})
        for q in [q for q in firsts if q not in current]:
            del firsts[q]
            dropped = True
        if not firsts:
            del clean["first"][lesson_id]
    return clean, dropped


def _valid_answer(lesson: Lesson, question_key, choice) -> bool:
    try:
        index = int(question_key)
    except (TypeError, ValueError):
        return False
    if not 0 <= index < len(lesson.quiz) or isinstance(choice, bool) or not isinstance(choice, int):
        return False
    return 0 <= choice < len(lesson.quiz[index].choices)


def record_answer(progress: dict, lesson_id: str, question: int, choice: int) -> dict:
    """The progress after choosing ``choice``; the first choice for a question is kept for good."""
    new = {**progress}
    for key in _ANSWER_KEYS:
        new[key] = {k: dict(v) for k, v in progress.get(key, {}).items()}
    key = str(question)
    new["answers"].setdefault(lesson_id, {})[key] = choice
    if key not in progress.get("answers", {}).get(lesson_id, {}):
        new["first"].setdefault(lesson_id, {})[key] = choice
    return new


def mark_read(progress: dict, lesson_id: str) -> dict:
    if lesson_id in progress["read"]:
        return progress
    return {**progress, "read": [*progress["read"], lesson_id]}


def quiz_score(progress: dict, lesson: Lesson) -> QuizScore:
    """How many of one lesson's questions were right first time, right later, and answered."""
    given = progress.get("answers", {}).get(lesson.id, {})
    firsts = progress.get("first", {}).get(lesson.id, {})
    first_try = later_try = 0
    for q, choice in given.items():
        right = lesson.quiz[int(q)].answer
        if firsts.get(q) == right:
            first_try += 1
        elif choice == right:
            later_try += 1
    return QuizScore(first_try, later_try, len(given), len(lesson.quiz))


def summary_rows(progress: dict, course: Course) -> list[tuple[str, bool, QuizScore]]:
    """One row per lesson: (title, read, quiz score)."""
    return [
        (les.title, les.id in progress["read"], quiz_score(progress, les)) for les in course.lessons
    ]
