"""The lesson loader: good files load, a malformed one names its file and field."""

from pathlib import Path

import pytest

from demos.course import LessonError, extract_code_blocks, load_course, load_lesson, parse_lesson
from demos.course_ui import feedback_markdown
from demos.progress import QuizScore, clean_progress, mark_read, quiz_score, record_answer

DATA = Path(__file__).parent / "data"
GOOD = DATA / "good" / "01-alpha.md"


def test_good_lesson_loads_quiz_scenario_and_code():
    lesson = load_lesson(GOOD)
    assert lesson.id == "alpha" and lesson.minutes == 5
    assert [q.answer for q in lesson.quiz] == [0, 1]
    assert lesson.quiz[0].choices[1].explain == "That is one too many."
    assert lesson.scenario.character.name == "Sam"
    assert [p.id for p in lesson.scenario.rubric] == ["one", "two", "three", "four"]
    assert lesson.scenario.rubric[0].examples == ("no money",)
    blocks = lesson.code_blocks
    assert [(b.runnable, b.note) for b in blocks] == [(True, ""), (False, "pushes to the Hub")]


def _with_front_matter(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("id: alpha", "id: Alpha Lesson", "id"),
        ("order: 1", "order: first", "order"),
        ('  - question: "What is 1 + 1?"', '  - question: ""', "quiz[1].question"),
        (
            '        correct: true\n        explain: "One',
            '        explain: "One',
            "quiz[1].choices",
        ),
        ('        explain: "Blue is a colour."', "", "quiz[2].choices[2].explain"),
        ('  facts: ["The budget is $0."]', "  facts: []", "scenario.facts"),
        ('    - {id: four, point: "Mentions the risk."}\n', "", "scenario.rubric"),
        ('title: "A test scenario"', "title: [unclosed", "front matter"),
    ],
)
def test_malformed_lesson_names_file_and_field(old, new, field):
    text = _with_front_matter(GOOD.read_text(), old, new)
    with pytest.raises(LessonError) as info:
        parse_lesson(text, "lessons/07-broken.md")
    assert info.value.field == field
    assert "07-broken.md" in str(info.value) and field in str(info.value)


def test_missing_front_matter_and_empty_body():
    with pytest.raises(LessonError, match="front matter"):
        parse_lesson("# Just a title\n", "x.md")
    with pytest.raises(LessonError, match="body"):
        parse_lesson("---\nid: a\ntitle: A\norder: 1\nsummary: s\n---\n\n", "x.md")


def test_broken_file_is_reported_and_others_still_load():
    course = load_course(DATA / "broken")
    assert [les.id for les in course.lessons] == ["start", "alpha"]
    assert len(course.errors) == 1
    assert course.errors[0].path.name == "02-bad.md"
    assert course.errors[0].field == "quiz[1].choices"


def test_non_utf8_file_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "01-bin.md").write_bytes(b"---\xff\xfe\x00garbage")
    course = load_course(tmp_path)
    assert course.lessons == [] and course.errors[0].field == "file"


def test_duplicate_ids_are_rejected(tmp_path):
    (tmp_path / "01-a.md").write_text(GOOD.read_text())
    (tmp_path / "02-b.md").write_text(GOOD.read_text())
    course = load_course(tmp_path)
    assert len(course.lessons) == 1 and course.errors[0].field == "id"


def test_code_blocks_skip_other_languages_and_report_lines():
    md = "text\n\n```bash\npip install x\n```\n\n```python\nprint(1)\n```\n"
    (block,) = extract_code_blocks(md)
    assert block.code == "print(1)\n" and block.line == 8 and block.runnable


def test_progress_records_and_scores():
    course = load_course(DATA / "good")
    alpha = course.lesson("alpha")
    progress, dropped = clean_progress(None, course)
    assert not dropped
    progress = record_answer(progress, "alpha", 0, 0)
    progress = record_answer(progress, "alpha", 1, 0)
    progress = mark_read(progress, "alpha")
    assert quiz_score(progress, alpha) == QuizScore(first_try=1, later_try=0, answered=2, total=2)
    assert progress["read"] == ["alpha"]
    assert clean_progress(progress, course) == (progress, False)


def test_a_wrong_answer_then_the_right_one_is_a_retry_not_first_time():
    course = load_course(DATA / "good")
    alpha = course.lesson("alpha")
    progress, _ = clean_progress(None, course)
    progress = record_answer(progress, "alpha", 1, 0)  # wrong ("Seven")
    progress = record_answer(progress, "alpha", 1, 1)  # then right ("Blue")
    progress = record_answer(progress, "alpha", 1, 1)  # picking it again changes nothing
    assert progress["answers"]["alpha"]["1"] == 1 and progress["first"]["alpha"]["1"] == 0
    assert quiz_score(progress, alpha) == QuizScore(0, 1, 1, 2)
    # Right first time stays right first time, even if the learner then clicks around.
    progress = record_answer(progress, "alpha", 0, 0)
    progress = record_answer(progress, "alpha", 0, 1)
    assert quiz_score(progress, alpha).first_try == 1
    assert clean_progress(progress, course) == (progress, False)


def test_feedback_says_when_a_right_answer_came_after_a_wrong_one():
    item = load_course(DATA / "good").lesson("alpha").quiz[1]
    assert feedback_markdown(item, 1, first_choice=1).startswith("✅ **Right.**")
    assert "retry" in feedback_markdown(item, 1, first_choice=0)
    assert feedback_markdown(item, 0, first_choice=0).startswith("❌")


def test_version_one_progress_is_kept_and_counts_as_later_tries():
    """Version 1 kept only the current answer, so its first try is unknown: not first time."""
    course = load_course(DATA / "good")
    old = {"version": 1, "read": ["alpha"], "answers": {"alpha": {"0": 0, "1": 0}}}
    clean, dropped = clean_progress(old, course)
    assert not dropped
    assert clean["version"] == 2 and clean["answers"] == old["answers"] and clean["first"] == {}
    assert quiz_score(clean, course.lesson("alpha")) == QuizScore(0, 1, 2, 2)
    # Answering again records nothing as "first" for a question answered before.
    again = record_answer(clean, "alpha", 0, 0)
    assert again["first"] == {}


@pytest.mark.parametrize(
    "tampered",
    [
        "not a dict",
        {"version": 1, "read": "alpha", "answers": []},
        {"version": 1, "read": ["alpha", "ghost", 3], "answers": {}},
        {"version": 1, "read": [], "answers": {"alpha": {"0": 99, "x": 1, "1": True}}},
        {"version": 1, "read": [], "answers": {"ghost": {"0": 0}}},
        {"version": 99, "read": ["alpha"], "answers": {}},
        {"version": 2, "read": [], "answers": {}, "first": {"alpha": {"0": 0}}},
        {"version": 2, "read": [], "answers": {"alpha": {"0": 0}}, "first": {"alpha": {"0": 7}}},
        {"version": 2, "read": [], "answers": {}, "first": "everything right"},
    ],
)
def test_tampered_progress_is_cleaned_not_trusted(tampered):
    course = load_course(DATA / "good")
    clean, dropped = clean_progress(tampered, course)
    assert dropped
    assert set(clean) == {"version", "read", "answers", "first"}
    assert all(course.lesson(i) for i in clean["read"])
    for key in ("answers", "first"):
        for lesson_id, answers in clean[key].items():
            lesson = course.lesson(lesson_id)
            for q, choice in answers.items():
                assert 0 <= choice < len(lesson.quiz[int(q)].choices)
                assert q in clean["answers"][lesson_id]


def test_a_changed_file_is_read_again(tmp_path):
    lesson = tmp_path / "01-a.md"
    lesson.write_text(GOOD.read_text())
    assert load_course(tmp_path).lesson("alpha").title == "Alpha: the first lesson"
    lesson.write_text(GOOD.read_text().replace("Alpha: the first lesson", "Alpha, revised"))
    assert load_course(tmp_path).lesson("alpha").title == "Alpha, revised"


def test_block_kinds_and_the_gpu_flag():
    md = (
        "```python exercise\ndef f(): ...\n```\n\n"
        "```python solution: The checker\nx = 1\n```\n\n"
        "```python solution\ny = 2\n```\n\n"
        "```python no-run: needs a token\nlogin()\n```\n"
    )
    blocks = extract_code_blocks(md)
    assert [(b.kind, b.runnable, b.note) for b in blocks] == [
        ("exercise", True, ""),
        ("solution", True, "The checker"),
        ("solution", True, ""),
        ("no-run", False, "needs a token"),
    ]
    text = GOOD.read_text()
    assert load_lesson(GOOD).gpu is False
    assert parse_lesson(text.replace("minutes: 5", "minutes: 5\ngpu: true"), "a.md").gpu is True
    with pytest.raises(LessonError) as info:
        parse_lesson(text.replace("minutes: 5", "minutes: 5\ngpu: maybe"), "a.md")
    assert info.value.field == "gpu"
