"""A learner's progress, as kept in their own browser (``gr.BrowserState``).

The server never stores it: every function here takes the state the browser sent and returns
the new state. Anything the browser sends may have been edited by hand, so ``clean_progress``
accepts only well-formed entries for lessons and questions that exist.
"""

from __future__ import annotations

from collections.abc import Mapping

from demos.course import Course, Lesson

VERSION = 1


def empty_progress() -> dict:
    return {"version": VERSION, "read": [], "answers": {}}


def clean_progress(raw, course: Course) -> tuple[dict, bool]:
    """Return (a valid progress dict, whether anything had to be dropped)."""
    clean = empty_progress()
    if raw is None:
        return clean, False
    if not isinstance(raw, Mapping):
        return clean, True
    dropped = raw.get("version") != VERSION
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
    answers = raw.get("answers", {})
    if isinstance(answers, Mapping):
        for lesson_id, by_question in answers.items():
            lesson = course.lesson(lesson_id) if isinstance(lesson_id, str) else None
            if lesson is None or not isinstance(by_question, Mapping):
                dropped = True
                continue
            for q, choice in by_question.items():
                if _valid_answer(lesson, q, choice):
                    clean["answers"].setdefault(lesson_id, {})[str(q)] = choice
                else:
                    dropped = True
    else:
        dropped = True
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
    new = {**progress, "answers": {k: dict(v) for k, v in progress["answers"].items()}}
    new["answers"].setdefault(lesson_id, {})[str(question)] = choice
    return new


def mark_read(progress: dict, lesson_id: str) -> dict:
    if lesson_id in progress["read"]:
        return progress
    return {**progress, "read": [*progress["read"], lesson_id]}


def quiz_score(progress: dict, lesson: Lesson) -> tuple[int, int]:
    """(correct answers, questions) for one lesson."""
    given = progress["answers"].get(lesson.id, {})
    correct = sum(1 for q, c in given.items() if lesson.quiz[int(q)].answer == c)
    return correct, len(lesson.quiz)


def summary_rows(progress: dict, course: Course) -> list[tuple[str, bool, int, int]]:
    """One row per lesson: (title, read, correct, questions)."""
    return [
        (les.title, les.id in progress["read"], *quiz_score(progress, les))
        for les in course.lessons
    ]
