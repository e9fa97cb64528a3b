"""Gradio builders for the course content: a lesson page (text, quiz, "Your turn" card) and the
learner's progress, kept in ``gr.BrowserState``. Wording comes from lessons/*.md; only short
UI labels live here."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import gradio as gr

from demos import notebook_links, yaml_io
from demos.config import settings
from demos.course import Course, Lesson, QuizItem, Scenario
from demos.progress import (
    QuizScore,
    clean_progress,
    mark_read,
    quiz_score,
    record_answer,
    summary_rows,
)

PROGRESS_KEY = "ml-course-progress"
# BrowserState encrypts with this key. It is not a secret (Gradio sends it to the page); it is
# fixed so that progress survives a restart of the Space, which a random per-launch key would not.
PROGRESS_CIPHER_KEY = "ml-course-progress-v1"

_NO_RUN_FENCE = re.compile(r"^```(?:python|py) no-run[: -]*(.*)$", re.MULTILINE)
_KIND_FENCE = re.compile(r"^```(?:python|py) (?:exercise|solution)\b.*$", re.MULTILINE)
_FIGURE = re.compile(r"!\[([^\]]*)\]\(figures/([^)\s]+)\)")
FIGURES_DIR = Path(__file__).resolve().parent.parent / "lessons" / "figures"
NOTEBOOK_TEXT_PATH = notebook_links.NOTEBOOKS_DIR / "notebooks.yaml"
_TAB_LINK = re.compile(r"\]\(\?tab=")
_LEADING_VERDICT = re.compile(r"^(right|correct|yes|no|wrong|not quite|incorrect)[.!,:]\s+", re.I)
_INLINE_MARKS = re.compile(r"`|\*\*|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")


def progress_state() -> gr.BrowserState:
    """The learner's progress, stored in their browser's localStorage."""
    return gr.BrowserState(None, storage_key=PROGRESS_KEY, secret=PROGRESS_CIPHER_KEY)


def storage_notice() -> gr.HTML:
    """A line that says progress lasts only for this visit. course.css shows it only when the
    browser refuses this page its storage (a cross-site embed with third-party storage blocked):
    demos/frame.js then keeps progress in memory and marks <html class="course-storage-memory">."""
    return gr.HTML(
        "<p>⚠️ This browser does not let this page keep your progress, so it lasts until you "
        "leave or reload the page. Open the course in its own tab to keep it.</p>",
        elem_classes=["storage-notice"],
        padding=False,
    )


def lesson_markdown(lesson: Lesson) -> str:
    """The lesson body as shown in the Space.

    Tab links (``?tab=...``) are made relative to the Space's root so they also work from a
    lesson's own page; blocks marked ``no-run`` get a visible note saying why they are not run.
    """
    body = _TAB_LINK.sub("](./?tab=", lesson.body)

    # Figures are files of lessons/figures/, served by Gradio (see serve_course_files()). Each is
    # also a link to itself: on a phone a wide diagram shrinks, and a tap opens it to zoom.
    def figure(match: re.Match) -> str:
        url = f"gradio_api/file={FIGURES_DIR}/{match.group(2)}"
        return f"[![{match.group(1)}]({url})]({url})"

    body = _FIGURE.sub(figure, body)
    body = _KIND_FENCE.sub("```python", body)

    def note(match: re.Match) -> str:
        reason = match.group(1).strip() or "it needs resources this Space does not have"
        return f"> ⚠️ *Not run by the course's tests: {reason}.*\n\n```python"

    return _NO_RUN_FENCE.sub(note, body)


_SERVED: set[Path] = set()


def serve_course_files() -> None:
    """Let Gradio serve the lesson figures and notebooks (and nothing else of the repository)."""
    wanted = {FIGURES_DIR.resolve(), notebook_links.NOTEBOOKS_DIR.resolve()} - _SERVED
    if wanted:
        gr.set_static_paths(sorted(wanted))
        _SERVED.update(wanted)


@cache
def _notebook_text() -> dict:
    return yaml_io.safe_load(NOTEBOOK_TEXT_PATH.read_text(encoding="utf-8"))


def notebook_markdown(lesson: Lesson, space_id: str | None = None) -> str:
    """The lesson's notebook links: Open in Colab and Kaggle when the course knows its Space's ID
    (``SPACE_ID`` on Spaces, else ``COURSE_SPACE_ID``), a download link always."""
    text = _notebook_text()
    space = notebook_links.valid_space_id(space_id if space_id is not None else settings.space_id)
    lines = []
    for notebook in notebook_links.notebooks_for_page(lesson.id):
        urls = {"download": notebook_links.download_url(notebook), "title": notebook.title}
        if space:
            urls["colab"] = notebook_links.colab_url(space, notebook.repo_path)
            urls["kaggle"] = notebook_links.kaggle_url(space, notebook.repo_path)
        own = notebook.path.stem == lesson.path.stem
        key = ("page_links" if own else "page_extra") + ("" if space else "_local")
        line = text[key].format(**urls)
        if notebook.gpu:
            line += " " + text["page_gpu_hint"]
        if notebook.needs_course_space and space:
            line += " " + text["page_course_space"].format(space_id=space)
        lines.append(line)
    return "\n\n".join(lines)


def choice_label(text: str) -> str:
    """A quiz choice as plain text: radio labels do not render Markdown, so drop its marks."""
    return _INLINE_MARKS.sub("", text)


def lesson_header(lesson: Lesson) -> str:
    minutes = f" · ⏱ about {lesson.minutes} min" if lesson.minutes else ""
    return f"# {lesson.title}\n*{lesson.summary}*{minutes}"


def quiz_summary(score: QuizScore) -> str:
    """'3/5 right first time · 1 after a retry': a retried answer never counts as first time."""
    text = f"{score.first_try}/{score.total} right first time"
    if score.later_try:
        text += f" · {score.later_try} after a retry"
    return text


def lesson_status(progress: dict, lesson: Lesson) -> str:
    read = "✅ read" if lesson.id in progress["read"] else "not marked as read yet"
    if not lesson.quiz:
        return f"**Your progress:** {read}"
    score = quiz_score(progress, lesson)
    return f"**Your progress:** {read} · quiz: {quiz_summary(score)} ({score.answered} answered)"


def feedback_markdown(item: QuizItem, choice: int, first_choice: int | None = None) -> str:
    """The verdict and the picked choice's explanation. ``first_choice`` is the learner's first
    answer to this question; a right answer after a wrong one says it was a retry."""
    picked = item.choices[choice]
    if not picked.correct:
        verdict = "❌ **Not quite.**"
    elif first_choice is None or first_choice == choice:
        verdict = "✅ **Right.**"
    else:
        verdict = "✅ **Right, on a retry** (only first answers count as right first time)."
    # The verdict comes from `correct`; a verdict word opening the explanation would repeat it.
    text = f"{verdict} {_LEADING_VERDICT.sub('', picked.explain)}"
    if not picked.correct:
        text += "\n\n*Try another answer: each one has its own explanation.*"
    return text


def scenario_card(scenario: Scenario) -> str:
    ch = scenario.character
    facts = "\n".join(f"- {fact}" for fact in scenario.facts)
    return (
        f"## 🎭 Your turn: {scenario.title}\n"
        f"**{ch.name}**, {ch.role} · *{ch.temperament}*\n\n"
        f"{scenario.brief}\n\n"
        f"**What {ch.name} knows**\n{facts}\n\n"
        f"[Argue it in the Lab →](./?tab=lab&scenario={scenario.lesson_id})"
    )


def rubric_markdown(scenario: Scenario) -> str:
    return "\n".join(f"- {point.point}" for point in scenario.rubric)


def overview_markdown(progress: dict, course: Course) -> str:
    """A table of every lesson's progress, for the Start page."""
    rows = ["| Lesson | Read | Quiz: right first time | Right after a retry |", "|---|---|---|---|"]
    for title, read, score in summary_rows(progress, course):
        first = f"{score.first_try}/{score.total}" if score.total else "–"
        later = str(score.later_try) if score.total else "–"
        rows.append(f"| {title} | {'✅' if read else '·'} | {first} | {later} |")
    return "\n".join(rows)


def header_progress(progress: dict, course: Course) -> str:
    rows = summary_rows(progress, course)
    read = sum(1 for _, r, _ in rows if r)
    total = QuizScore(*(sum(s[i] for _, _, s in rows) for i in range(4)))
    return (
        f"📈 **Your progress:** {read}/{len(rows)} lessons read · quiz answers: "
        f"{quiz_summary(total)} · *kept in this browser only*"
    )


def read_button_label(read: bool) -> str:
    return "✅ Marked as read" if read else "Mark this lesson as read"


class LessonPage:
    """The widgets of one lesson on one page, and the events that keep progress in sync."""

    def __init__(self, lesson: Lesson, course: Course, state: gr.BrowserState):
        self.lesson = lesson
        self.course = course
        self.state = state
        self.radios: list[gr.Radio] = []
        self.feedback: list[gr.Markdown] = []
        gr.Markdown(lesson_header(lesson))
        self.status = gr.Markdown(lesson_status({"read": [], "answers": {}}, lesson))
        serve_course_files()
        links = notebook_markdown(lesson)
        if links:
            gr.Markdown(links, elem_classes=["notebook-links"])
        gr.Markdown(lesson_markdown(lesson), elem_classes=["lesson-body"])
        if lesson.quiz:
            gr.Markdown("## ✍️ Check yourself")
            for qi, item in enumerate(lesson.quiz):
                with gr.Group(elem_classes=["quiz-question"]):
                    gr.Markdown(f"**{qi + 1}.** {item.question}", elem_classes=["quiz-prompt"])
                    radio = gr.Radio(
                        choices=[(choice_label(c.text), i) for i, c in enumerate(item.choices)],
                        # Hidden, but it names the radio group for screen readers.
                        label=f"Question {qi + 1}: {choice_label(item.question)}",
                        show_label=False,
                        value=None,
                    )
                    feedback = gr.Markdown("", elem_classes=["quiz-feedback"])
                radio.input(
                    self._answer_handler(qi),
                    inputs=[radio, state],
                    outputs=[feedback, state],
                    api_visibility="private",
                    show_progress="hidden",
                )
                self.radios.append(radio)
                self.feedback.append(feedback)
        if lesson.scenario:
            gr.Markdown(scenario_card(lesson.scenario), elem_classes=["scenario-card"])
            with gr.Accordion("What a strong answer covers (peek only if stuck)", open=False):
                gr.Markdown(rubric_markdown(lesson.scenario))
        # The button itself confirms (its label turns to "Marked as read"): the status line at the
        # top of the page is out of sight when a learner reaches the end of a lesson.
        self.read_button = gr.Button(
            read_button_label(False), variant="secondary", size="sm", elem_classes=["lesson-read"]
        )
        self.read_button.click(
            self._mark_read, inputs=state, outputs=state, api_visibility="private"
        )

    def _answer_handler(self, question: int):
        item = self.lesson.quiz[question]

        def answer(choice, progress):
            progress, _ = clean_progress(progress, self.course)
            if not isinstance(choice, int) or not 0 <= choice < len(item.choices):
                return "Pick one of the answers above.", progress
            progress = record_answer(progress, self.lesson.id, question, choice)
            first = progress["first"].get(self.lesson.id, {}).get(str(question))
            return feedback_markdown(item, choice, first), progress

        return answer

    def _mark_read(self, progress):
        progress, _ = clean_progress(progress, self.course)
        return mark_read(progress, self.lesson.id)

    def answer_outputs(self) -> list:
        return [*self.radios, *self.feedback]

    def restore_answers(self, progress: dict) -> list:
        """Radio values and feedback that show the saved answers (``progress`` already cleaned)."""
        given = progress["answers"].get(self.lesson.id, {})
        firsts = progress.get("first", {}).get(self.lesson.id, {})
        radios, feedback = [], []
        for qi, item in enumerate(self.lesson.quiz):
            choice = given.get(str(qi))
            radios.append(choice)
            first = firsts.get(
                str(qi), -1
            )  # -1: not recorded (older progress), so not "first time"
            feedback.append(feedback_markdown(item, choice, first) if choice is not None else "")
        return [*radios, *feedback]

    def status_line(self, progress: dict) -> str:
        return lesson_status(progress, self.lesson)

    def status_outputs(self) -> list:
        """What shows this lesson's progress: the line at the top and the Mark-as-read button."""
        return [self.status, self.read_button]

    def status_values(self, progress: dict) -> list:
        read = self.lesson.id in progress["read"]
        return [self.status_line(progress), gr.Button(read_button_label(read))]
