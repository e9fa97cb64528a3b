"""The course as data: lessons, quizzes and scenario cards read from ``lessons/*.md``.

Each lesson is one Markdown file whose YAML front matter holds its metadata, its quiz and
its lab scenario (see CONTRIBUTING.md for the schema). Nothing here imports Gradio.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from demos import yaml_io

LESSONS_DIR = Path(__file__).resolve().parent.parent / "lessons"

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class LessonError(ValueError):
    """A lesson file that cannot be used, naming the file and the field at fault."""

    def __init__(self, path: Path | str, field_name: str, problem: str):
        self.path = Path(path)
        self.field = field_name
        self.problem = problem
        super().__init__(f"{self.path.name}: field '{field_name}': {problem}")


@dataclass(frozen=True)
class Choice:
    text: str
    correct: bool
    explain: str


@dataclass(frozen=True)
class QuizItem:
    question: str
    choices: tuple[Choice, ...]

    @property
    def answer(self) -> int:
        """Index of the correct choice."""
        return next(i for i, c in enumerate(self.choices) if c.correct)


@dataclass(frozen=True)
class Character:
    name: str
    role: str
    temperament: str


@dataclass(frozen=True)
class RubricPoint:
    id: str
    point: str
    # Phrases a strong answer might use; they sharpen the offline embedding match.
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    lesson_id: str
    title: str
    character: Character
    brief: str
    opening: str
    facts: tuple[str, ...]
    rubric: tuple[RubricPoint, ...]
    # The whole ``scenario:`` mapping as written, for the lab's director (demos/lab/director.py),
    # which reads and validates its own fields (moves, reveals, evidence) from it.
    card: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class CodeBlock:
    code: str
    runnable: bool
    line: int  # 1-based line in the Markdown body where the block's code starts
    note: str = ""  # why a block is not run, from its info string
    # "code"; "no-run" (compiled, not run); "exercise" (a learner's starting point, runs);
    # "solution" (an exercise's answer: folded on the page, hidden in the notebook, runs)
    kind: str = "code"


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    order: int
    summary: str
    body: str
    path: Path
    quiz: tuple[QuizItem, ...] = ()
    scenario: Scenario | None = None
    minutes: int = 0
    tab_label: str = ""
    gpu: bool = False  # its notebook is meant for a GPU runtime (a free T4 is enough)

    @property
    def short_title(self) -> str:
        """The tab label: ``tab_label`` from the front matter, else the title before its colon."""
        return self.tab_label or self.title.split(":")[0].strip()

    @property
    def code_blocks(self) -> list[CodeBlock]:
        return extract_code_blocks(self.body)


@dataclass
class Course:
    lessons: list[Lesson] = field(default_factory=list)
    errors: list[LessonError] = field(default_factory=list)

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((les for les in self.lessons if les.id == lesson_id), None)

    @property
    def scenarios(self) -> list[Scenario]:
        return [les.scenario for les in self.lessons if les.scenario is not None]


BLOCK_KINDS = ("no-run", "exercise", "solution")


def extract_code_blocks(markdown: str) -> list[CodeBlock]:
    """Every fenced Python block, in order.

    ```python runs; ```python no-run: reason is only compiled; ```python exercise and
    ```python solution[: title] run like ```python and are laid out differently on the page and
    in the lesson's notebook (a solution's cell is hidden behind its title).
    """
    blocks = []
    for match in _FENCE.finditer(markdown):
        info = match.group(1).strip()
        words = info.split(maxsplit=1)
        if not words or words[0] not in ("python", "py"):
            continue
        rest = words[1] if len(words) > 1 else ""
        kind = next((k for k in BLOCK_KINDS if rest.startswith(k)), "code")
        runnable = kind != "no-run"
        # no-run: why it is not run; solution: an optional title for the folded cell.
        note = rest[len(kind) :].strip(" :-") if kind in ("no-run", "solution") else ""
        line = markdown.count("\n", 0, match.start(2)) + 1
        blocks.append(CodeBlock(match.group(2), runnable, line, note, kind))
    return blocks


def _text(data: dict, key: str, path: Path, where: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise LessonError(path, f"{where}{key}", "must be a non-empty string")
    return value.strip()


def _mapping(value, path: Path, where: str) -> dict:
    if not isinstance(value, dict):
        raise LessonError(path, where, "must be a mapping of keys to values")
    return value


def _parse_quiz(raw, path: Path) -> tuple[QuizItem, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise LessonError(path, "quiz", "must be a list of questions")
    items = []
    for qi, q in enumerate(raw, start=1):
        where = f"quiz[{qi}]."
        q = _mapping(q, path, f"quiz[{qi}]")
        question = _text(q, "question", path, where)
        raw_choices = q.get("choices")
        if not isinstance(raw_choices, list) or len(raw_choices) < 2:
            raise LessonError(path, f"{where}choices", "needs at least two choices")
        choices = []
        for ci, c in enumerate(raw_choices, start=1):
            cwhere = f"{where}choices[{ci}]."
            c = _mapping(c, path, cwhere.rstrip("."))
            correct = c.get("correct", False)
            if not isinstance(correct, bool):
                raise LessonError(path, f"{cwhere}correct", "must be true or false")
            choices.append(
                Choice(_text(c, "text", path, cwhere), correct, _text(c, "explain", path, cwhere))
            )
        if sum(c.correct for c in choices) != 1:
            raise LessonError(path, f"{where}choices", "exactly one choice must be correct")
        items.append(QuizItem(question, tuple(choices)))
    return tuple(items)


def _parse_scenario(raw, path: Path, lesson_id: str) -> Scenario | None:
    if raw is None:
        return None
    raw = _mapping(raw, path, "scenario")
    ch = _mapping(raw.get("character"), path, "scenario.character")
    character = Character(
        _text(ch, "name", path, "scenario.character."),
        _text(ch, "role", path, "scenario.character."),
        _text(ch, "temperament", path, "scenario.character."),
    )
    facts = raw.get("facts")
    if not isinstance(facts, list) or not facts or not all(isinstance(f, str) for f in facts):
        raise LessonError(path, "scenario.facts", "must be a non-empty list of strings")
    rubric_raw = raw.get("rubric")
    if not isinstance(rubric_raw, list) or not 4 <= len(rubric_raw) <= 6:
        raise LessonError(path, "scenario.rubric", "must list 4 to 6 points")
    rubric = []
    for ri, r in enumerate(rubric_raw, start=1):
        where = f"scenario.rubric[{ri}]."
        r = _mapping(r, path, where.rstrip("."))
        rid = _text(r, "id", path, where)
        if not _ID.match(rid):
            raise LessonError(path, f"{where}id", "use lowercase letters, digits and dashes")
        examples = r.get("examples", [])
        if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
            raise LessonError(path, f"{where}examples", "must be a list of strings")
        rubric.append(RubricPoint(rid, _text(r, "point", path, where), tuple(examples)))
    if len({r.id for r in rubric}) != len(rubric):
        raise LessonError(path, "scenario.rubric", "point ids must be unique")
    return Scenario(
        lesson_id=lesson_id,
        title=_text(raw, "title", path, "scenario."),
        character=character,
        brief=_text(raw, "brief", path, "scenario."),
        opening=_text(raw, "opening", path, "scenario."),
        facts=tuple(f.strip() for f in facts),
        rubric=tuple(rubric),
        card=raw,
    )


def parse_lesson(text: str, path: Path | str) -> Lesson:
    """Parse one lesson file's text; raises LessonError naming the file and the field."""
    path = Path(path)
    match = _FRONT_MATTER.match(text.replace("\r\n", "\n"))
    if not match:
        raise LessonError(path, "front matter", "the file must start with a --- YAML block ---")
    try:
        meta = yaml_io.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark else ""
        raise LessonError(path, "front matter", f"is not valid YAML{where}") from exc
    meta = _mapping(meta, path, "front matter")
    lesson_id = _text(meta, "id", path, "")
    if not _ID.match(lesson_id):
        raise LessonError(path, "id", "use lowercase letters, digits and dashes")
    order = meta.get("order")
    if not isinstance(order, int) or isinstance(order, bool):
        raise LessonError(path, "order", "must be a whole number")
    minutes = meta.get("minutes", 0)
    if not isinstance(minutes, int) or minutes < 0:
        raise LessonError(path, "minutes", "must be a whole number of minutes")
    gpu = meta.get("gpu", False)
    if not isinstance(gpu, bool):
        raise LessonError(path, "gpu", "must be true or false")
    body = match.group(2).strip()
    if not body:
        raise LessonError(path, "body", "the lesson has no text after its front matter")
    return Lesson(
        id=lesson_id,
        title=_text(meta, "title", path, ""),
        order=order,
        summary=_text(meta, "summary", path, ""),
        body=body,
        path=path,
        quiz=_parse_quiz(meta.get("quiz"), path),
        scenario=_parse_scenario(meta.get("scenario"), path, lesson_id),
        minutes=minutes,
        tab_label=_text(meta, "tab_label", path, "", required=False),
        gpu=gpu,
    )


def load_lesson(path: Path | str) -> Lesson:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LessonError(
            path, "file", f"cannot be read as UTF-8 text ({exc.__class__.__name__})"
        ) from exc
    return parse_lesson(text, path)


def load_course(directory: Path | str = LESSONS_DIR) -> Course:
    """Load every ``*.md`` lesson in order. A broken file is reported, not fatal.

    The app, the lessons' pages and the lab all read the course at start-up; the parsed course is
    reused until a file in the folder changes (name, size or modification time).
    """
    paths = sorted(Path(directory).glob("*.md"))
    fingerprint = tuple((str(p.resolve()), *_stat(p)) for p in paths)
    cached = _COURSES.get(fingerprint)
    if cached is None:
        cached = _COURSES[fingerprint] = _read_course(paths)
    return Course(list(cached.lessons), list(cached.errors))


_COURSES: dict[tuple, Course] = {}


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
        return st.st_mtime_ns, st.st_size
    except OSError:
        return 0, -1


def _read_course(paths: list[Path]) -> Course:
    course = Course()
    seen: set[str] = set()
    for path in paths:
        try:
            lesson = load_lesson(path)
        except LessonError as err:
            course.errors.append(err)
            continue
        if lesson.id in seen:
            course.errors.append(
                LessonError(path, "id", f"'{lesson.id}' is used by another lesson")
            )
            continue
        seen.add(lesson.id)
        course.lessons.append(lesson)
    course.lessons.sort(key=lambda les: (les.order, les.id))
    return course
