"""The lessons as data: they load, have their quizzes and scenarios, and link to real tabs."""

from __future__ import annotations

import re

import pytest

from demos.course import load_course

COURSE = load_course()
LESSON_IDS = {"start", "pytorch", "hugging-face", "free-compute", "idea-to-demo"}
TOOL_TAB_IDS = {"training-loop", "demos", "calculator", "lab"}
TEACHING_LESSONS = ["pytorch", "hugging-face", "free-compute", "idea-to-demo"]
DEEP_LINK = re.compile(r"\?tab=([A-Za-z0-9_-]+)")


def test_every_lesson_loads_without_errors():
    assert COURSE.errors == []
    assert [lesson.id for lesson in COURSE.lessons] == [
        "start",
        "pytorch",
        "hugging-face",
        "free-compute",
        "idea-to-demo",
    ]


@pytest.mark.parametrize("lesson_id", TEACHING_LESSONS)
def test_teaching_lessons_have_quiz_and_scenario(lesson_id: str):
    lesson = COURSE.lesson(lesson_id)
    assert len(lesson.quiz) >= 4
    for item in lesson.quiz:
        assert len(item.choices) >= 3, item.question
    scenario = lesson.scenario
    assert scenario is not None
    assert 4 <= len(scenario.rubric) <= 6
    assert 5 <= len(scenario.facts) <= 8
    assert all(point.examples for point in scenario.rubric)
    assert lesson.minutes > 0


@pytest.mark.parametrize("lesson_id", TEACHING_LESSONS)
def test_teaching_lessons_point_to_the_lab(lesson_id: str):
    assert re.search(r"\]\(\?tab=lab[)&]", COURSE.lesson(lesson_id).body)


@pytest.mark.parametrize("lesson", COURSE.lessons, ids=lambda lesson: lesson.id)
def test_deep_links_point_at_known_tabs(lesson):
    targets = set(DEEP_LINK.findall(lesson.body))
    unknown = targets - LESSON_IDS - TOOL_TAB_IDS
    assert not unknown, f"{lesson.path.name}: unknown ?tab= targets {sorted(unknown)}"


def test_requires_grad_question_is_in_lesson_one():
    questions = [item.question for item in COURSE.lesson("pytorch").quiz]
    assert any("requires_grad" in question for question in questions)


@pytest.mark.parametrize("lesson_id", TEACHING_LESSONS)
def test_correct_answers_are_not_always_in_the_same_place(lesson_id: str):
    positions = {item.answer for item in COURSE.lesson(lesson_id).quiz}
    assert len(positions) > 1, "learners would learn the position, not the answer"
