"""The app shell: tab selection, lesson rendering, a cheap import."""

import subprocess
import sys
from pathlib import Path

from app import TOOLS, tab_ids
from demos.course import load_course
from demos.course_ui import lesson_markdown

DATA = Path(__file__).parent / "course" / "data"
ROOT = Path(__file__).resolve().parent.parent


def test_every_lesson_and_tool_has_a_tab_id():
    course = load_course(DATA / "good")
    assert tab_ids(course) == ["start", "alpha"] + [t.id for t in TOOLS]


def test_lesson_markdown_marks_no_run_blocks_and_fixes_tab_links():
    course = load_course(DATA / "good")
    text = lesson_markdown(course.lesson("alpha"))
    assert "Not run by the course's tests: pushes to the Hub" in text
    assert "```python no-run" not in text
    start = lesson_markdown(course.lesson("start"))
    assert "](./?tab=calculator)" in start


def test_importing_the_app_loads_no_torch_or_transformers():
    code = (
        "import sys, app; "
        "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_importing_the_app_leaves_the_garbage_collector_on():
    # `python app.py` pauses the GC for start-up; a process that merely imports the app (the
    # tests, `gradio app.py`) must not inherit that.
    code = "import gc, app; print(gc.isenabled())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_quiz_feedback_states_the_verdict_once():
    from demos.course import Choice, QuizItem
    from demos.course_ui import feedback_markdown

    item = QuizItem(
        "Q?",
        (Choice("a", True, "Right. Because a."), Choice("b", False, "No. Because not b.")),
    )
    assert feedback_markdown(item, 0) == "✅ **Right.** Because a."
    assert feedback_markdown(item, 1).startswith("❌ **Not quite.** Because not b.")
