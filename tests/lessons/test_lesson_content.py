"""The lessons as data: they load, have their quizzes and scenarios, and link to real tabs."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from demos.course import load_course
from demos.course_ui import choice_label

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


ALL_QUESTIONS = [(lesson, item) for lesson in COURSE.lessons for item in lesson.quiz]


def shown_lengths(item) -> list[int]:
    return [len(choice_label(choice.text)) for choice in item.choices]


def test_the_right_answer_is_rarely_the_longest():
    """A test-wise learner who always picks the longest choice must not pass the quizzes."""
    longest = []
    for lesson, item in ALL_QUESTIONS:
        lengths = shown_lengths(item)
        others = [n for i, n in enumerate(lengths) if i != item.answer]
        if lengths[item.answer] >= max(others):
            longest.append(f"{lesson.id}: {item.question[:60]}")
    assert len(longest) <= 0.3 * len(ALL_QUESTIONS), longest


@pytest.mark.parametrize(("lesson", "item"), ALL_QUESTIONS, ids=lambda x: getattr(x, "id", ""))
def test_choices_are_of_similar_length(lesson, item):
    """No one-line strawman beside a detailed right answer: every choice is a real contender."""
    lengths = shown_lengths(item)
    assert min(lengths) >= 0.6 * max(lengths), (lesson.id, item.question, lengths)


def test_no_answer_position_dominates():
    positions = Counter(item.answer for _, item in ALL_QUESTIONS)
    assert max(positions.values()) <= 0.4 * len(ALL_QUESTIONS), positions


def test_step_before_backward_is_keyed_to_what_the_loop_really_does():
    """Lesson 1's loop zeroes the gradients first, so step() before backward() never updates:
    the quiz's key must say so (it once said "one batch late")."""
    torch = pytest.importorskip("torch")
    (item,) = [
        item
        for item in COURSE.lesson("pytorch").quiz
        if "before* `loss.backward()`" in item.question
    ]
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    before = model.weight.detach().clone()
    for _ in range(30):
        x = torch.randn(32, 4)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), x[:, :3].argmax(dim=1))
        optimizer.step()
        loss.backward()
    assert torch.equal(before, model.weight)  # nothing was ever updated
    key = item.choices[item.answer]
    assert key.text.startswith("Nothing is updated")
    assert "one batch late" not in key.text


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        duplicates = {key for key in keys if keys.count(key) > 1}
        if duplicates:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate keys {sorted(duplicates)}", node.start_mark
            )
        return super().construct_mapping(node, deep=deep)


@pytest.mark.parametrize("lesson", COURSE.lessons, ids=lambda lesson: lesson.id)
def test_front_matter_has_no_duplicate_keys(lesson):
    text = lesson.path.read_text(encoding="utf-8")
    front_matter = text.split("\n---", 1)[0].removeprefix("---\n")
    yaml.load(front_matter, Loader=_UniqueKeyLoader)


FIGURE = re.compile(r"!\[([^\]]*)\]\((figures/[^)]+)\)")
FIGURES_DIR = COURSE.lessons[0].path.parent / "figures"


@pytest.mark.parametrize("lesson_id", TEACHING_LESSONS)
def test_teaching_lessons_have_diagrams_with_alt_text(lesson_id: str):
    figures = FIGURE.findall(COURSE.lesson(lesson_id).body)
    assert figures, f"{lesson_id} has no diagram"
    for alt, path in figures:
        # The alt text carries the figure's content for a screen reader, not just its name.
        assert len(alt) >= 80, (lesson_id, path, alt)
        assert (FIGURES_DIR.parent / path).is_file(), path


def test_every_figure_file_is_used():
    used = {path for lesson in COURSE.lessons for _, path in FIGURE.findall(lesson.body)}
    files = {f"figures/{p.name}" for p in FIGURES_DIR.glob("*") if p.is_file()}
    assert files == used


@pytest.mark.parametrize("svg", sorted(FIGURES_DIR.glob("*.svg")), ids=lambda p: p.name)
def test_figures_are_accessible_and_readable_in_dark_mode(svg):
    from xml.etree import ElementTree

    root = ElementTree.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img" and root.get("aria-labelledby") == "title desc"
    assert root.find(f"{ns}title").text.strip() and len(root.find(f"{ns}desc").text) > 100
    style = root.find(f"{ns}style").text
    # Its own background and text colours in both schemes: readable on a light or a dark page.
    assert "prefers-color-scheme: dark" in style and ".bg" in style
    background = root.find(f"{ns}rect")
    assert background.get("class") == "bg"
    assert (background.get("width"), background.get("height")) == (
        root.get("width"),
        root.get("height"),
    )


@pytest.mark.parametrize("lesson_id", TEACHING_LESSONS)
def test_exercises_have_a_folded_solution(lesson_id: str):
    body = COURSE.lesson(lesson_id).body
    exercise = body[body.index("## Exercise") : body.index("## Pitfalls")]
    assert "<details>" in exercise and "</details>" in exercise
    solutions = [b for b in COURSE.lesson(lesson_id).code_blocks if b.kind == "solution"]
    assert any(b.code in exercise for b in solutions), "the solution's code runs in the tests"
