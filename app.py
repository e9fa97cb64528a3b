"""The course Space: one tab per lesson and per tool, plus one embeddable page for each.

Start-up stays cheap: lessons are read from Markdown, tools are built from their (light)
builders, and no model, torch or transformers is imported until a tool first needs one.
"""

from __future__ import annotations

import gc

if __name__ == "__main__":
    # Start-up allocates about a million long-lived objects (Gradio, FastAPI, pydantic, the
    # course's Blocks) and CPython's cyclic GC would scan them all again and again while they are
    # made: about a fifth of the start-up time here. main() turns it back on once the app is
    # built, after gc.freeze() has set those objects aside for good. Importing app.py (tests,
    # `gradio app.py`) leaves the GC alone.
    gc.disable()

import html
import importlib
import logging
import os
import threading
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from demos import logs, serving
from demos.config import settings
from demos.course import Course, load_course
from demos.course_ui import (
    LessonPage,
    header_progress,
    overview_markdown,
    progress_state,
    storage_notice,
)
from demos.progress import clean_progress
from demos.ui_common import visitor_text

log = logging.getLogger("course")


@dataclass(frozen=True)
class Tool:
    id: str
    title: str
    builder: str  # "package.module" exposing build(expose_api: bool)


TOOLS = (
    Tool("training-loop", "🔁 Training loop", "demos.training_loop.ui"),
    Tool("demos", "🤗 Model demos", "demos.advice.ui"),
    Tool("calculator", "🧮 GPU calculator", "demos.calculator.ui"),
    Tool("lab", "🎭 Lab", "demos.lab.ui"),
)

START_ID = "start"
DEFAULT_CONCURRENCY = 2  # events of one listener running at once, unless a tool sets its own


def build_tool(tool: Tool, expose_api: bool, opened=None) -> str | None:
    """Build one tool in the current context; on failure show why and return the error.

    A builder module may also offer ``warm()``: it then runs in the background when ``opened``
    fires (the tool's tab is selected, or its own page loads), so the tool's heavy imports are
    under way before the visitor's first click rather than at start-up.
    """
    try:
        module = importlib.import_module(tool.builder)
        module.build(expose_api=expose_api)
        warm = getattr(module, "warm", None)
        if warm is not None:
            gr.on(
                opened,
                lambda: threading.Thread(target=warm, daemon=True).start(),
                queue=False,
                api_visibility="private",
                show_progress="hidden",
            )
        return None
    except Exception as exc:  # one broken tool must not take the whole course down
        log.error("tool %s failed to build:\n%s", tool.id, traceback.format_exc())
        gr.Markdown(
            f"⚠️ **{tool.title} is unavailable right now** ({exc.__class__.__name__}). "
            "The rest of the course works; the Space's logs say more."
        )
        return f"{tool.id}: {exc}"


def course_errors_markdown(course: Course) -> str:
    if not course.errors:
        return ""
    items = "\n".join(
        f"- `{err.path.name}`: field `{err.field}` {err.problem}" for err in course.errors
    )
    return f"⚠️ **Some lessons could not be loaded and are hidden:**\n{items}"


def tab_ids(course: Course) -> list[str]:
    return [les.id for les in course.lessons] + [tool.id for tool in TOOLS]


def _progress_wiring(blocks, course, state, pages, extra_outputs, extra_values):
    """Keep a page in step with the progress saved in the browser.

    On load, the saved answers are put back (a tampered state is cleaned first). After every
    change only the progress lines are refreshed: an answer's own event has already shown its
    feedback, so the page's radios are not sent again.
    """
    status_outputs = [out for page in pages for out in page.status_outputs()] + extra_outputs
    answer_outputs = [out for page in pages for out in page.answer_outputs()]

    def statuses(clean):
        values = [value for page in pages for value in page.status_values(clean)]
        return values + [fn(clean) for fn in extra_values]

    def refresh(progress):
        clean, _ = clean_progress(progress, course)
        values = statuses(clean)
        # Gradio takes a handler's return value as-is when the event has a single output.
        return values[0] if len(values) == 1 else values

    def on_load(progress):
        clean, dropped = clean_progress(progress, course)
        if dropped:
            gr.Warning(
                "Your saved progress had entries this course does not know; they were dropped."
            )
        answers = [v for page in pages for v in page.restore_answers(clean)]
        return [clean, *answers, *statuses(clean)]

    blocks.load(
        on_load,
        inputs=state,
        outputs=[state, *answer_outputs, *status_outputs],
        api_visibility="private",
    )
    state.change(
        refresh,
        inputs=state,
        outputs=status_outputs,
        api_visibility="private",
        show_progress="hidden",
    )


def build_app(course: Course | None = None) -> gr.Blocks:
    course = course or load_course(settings.lessons_dir)
    known = tab_ids(course)
    with gr.Blocks(title="ML tools of the trade: an interactive course") as demo:
        state = progress_state()
        with gr.Row(elem_id="course-header"):
            gr.Markdown(
                "# 🧰 ML tools of the trade\n"
                "PyTorch · the Hugging Face Hub · free GPUs · shipping a demo",
                elem_id="course-title",
            )
            duplicate_button()
        progress_md = gr.Markdown(header_progress({"read": [], "answers": {}}, course))
        storage_notice()
        if course.errors:
            gr.Markdown(course_errors_markdown(course), elem_id="lesson-errors")
        pages: list[LessonPage] = []
        overview = None
        # "wrap": every tab stays one tap away on a phone (the default "menu" hides most of
        # them behind "⋯"); course.css lays the rows out.
        with gr.Tabs(
            selected=known[0] if known else None, overflow_behavior="wrap", elem_id="course-tabs"
        ):
            for lesson in course.lessons:
                with gr.Tab(_tab_label(lesson), id=lesson.id, elem_id=f"tab-{lesson.id}"):
                    pages.append(LessonPage(lesson, course, state))
                    if lesson.id == START_ID:
                        gr.Markdown("## 📋 Where you are")
                        overview = gr.Markdown(
                            overview_markdown({"read": [], "answers": {}}, course)
                        )
            for tool in TOOLS:
                with gr.Tab(tool.title, id=tool.id, elem_id=f"tab-{tool.id}") as tab:
                    build_tool(tool, expose_api=True, opened=[tab.select])
        extra_outputs = [progress_md] + ([overview] if overview else [])
        extra_values = [lambda p: header_progress(p, course)] + (
            [lambda p: overview_markdown(p, course)] if overview else []
        )
        _progress_wiring(demo, course, state, pages, extra_outputs, extra_values)

        def warn_unknown_tab(request: gr.Request):
            # demos/frame.js opens the tab named by ?tab= in the browser, at once; a load event
            # answering later could take back a tab the visitor had picked meanwhile.
            requested = request.query_params.get("tab") if request else None
            if requested and requested not in known:
                # The name comes from the address bar: shown as text, never as markup.
                gr.Info(
                    f"There is no tab called '{visitor_text(requested, 40)}', "
                    "so you are at the start."
                )

        demo.load(warn_unknown_tab, api_visibility="private", show_progress="hidden")

        for lesson in course.lessons:
            with embeddable_page(demo, lesson.title, lesson.id):
                page_state = progress_state()
                storage_notice()
                page = LessonPage(lesson, course, page_state)
                _progress_wiring(demo, course, page_state, [page], [], [])
        for tool in TOOLS:
            with embeddable_page(demo, tool.title, tool.id):
                # The page's name for screen readers (a tool's own heading is an h2).
                gr.HTML(f"<h1>{html.escape(tool.title)}</h1>", elem_classes=["course-sr-only"])
                build_tool(tool, expose_api=False)

    return serving.prepare(demo)  # per-session memory, cache sweep, queue for every REST call


DUPLICATE_LABEL = "Duplicate this Space"
DUPLICATE_OFF_SPACE = (
    "On Hugging Face, this button copies the course into your own account, where you can change "
    "its lessons, models and hardware. This copy is not running on a Space, so there is nothing "
    "to duplicate: it is already yours, and README.md lists what you can change."
)


def duplicate_button() -> gr.Button:
    """Top right, where Hugging Face puts its own "Duplicate this Space", and quiet (secondary):
    on a Space, Gradio's DuplicateButton; anywhere else it says what it would do."""
    common = {"size": "sm", "scale": 0, "min_width": 0, "elem_id": "course-duplicate"}
    if os.environ.get("SPACE_ID"):  # set by Hugging Face on every Space
        return gr.DuplicateButton(DUPLICATE_LABEL, variant="secondary", **common)
    button = gr.Button(DUPLICATE_LABEL, variant="secondary", **common)
    button.click(
        lambda: gr.Info(DUPLICATE_OFF_SPACE, duration=15),
        api_visibility="private",
        show_progress="hidden",
    )
    return button


@contextmanager
def embeddable_page(demo: gr.Blocks, name: str, path: str):
    """A page of its own at ``/<path>``, built inside the open Blocks context.

    This is what ``demo.route(name, path, show_in_navbar=False)`` does, minus its cost: route()
    re-enters the Blocks and rebuilds the whole FastAPI app on every exit (about 0.15 s a page
    here, nine pages), work that launch() throws away and redoes once anyway.
    """
    demo.pages.append((path, name, False))
    demo.current_page = path
    try:
        yield
    finally:
        demo.current_page = ""


FRAME_JS = Path(__file__).parent / "demos" / "frame.js"


# Gradio 6.31's status live region announces t("common.complete") after every event, and its
# English strings lack that key, so screen readers heard the raw "common.complete".
STATUS_WORDS = gr.I18n(en={"common.complete": "Done"})


def course_theme() -> gr.themes.Base:
    """Gradio's Soft theme in orange, with the contrast WCAG 2.2 AA asks for (text 4.5:1,
    controls 3:1): Soft draws orange-500 text on orange-100 (2.4:1), white on orange-500 (2.8:1)
    and unselected radios in a border as light as the page. The darker shades below pass; the
    axe-core browser test (tests/browser/test_accessibility.py) checks every page, light and dark."""
    return gr.themes.Soft(primary_hue="orange", secondary_hue="blue").set(
        block_label_text_color="*primary_800",
        block_title_text_color="*primary_800",
        block_label_background_fill_dark="*primary_800",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover_dark="*primary_800",
        checkbox_label_background_fill_selected="*primary_700",
        checkbox_label_background_fill_selected_dark="*primary_700",
        checkbox_border_color="*neutral_500",
        checkbox_border_color_dark="*neutral_300",
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_400",
    )


def frame_head() -> str:
    """What goes into every page's <head>: demos/frame.js (storage that cannot throw, the address
    bar following the tabs, arrow keys between tabs, a tool's result brought into view)."""
    return f"<script>\n{FRAME_JS.read_text()}\n</script>"


def _tab_label(lesson) -> str:
    return "👋 Start here" if lesson.id == START_ID else f"{lesson.order}. {lesson.short_title}"


def not_found_page(known_pages: list[tuple[str, str]]):
    """A friendly 404 for browsers (links to every page); plain JSON for API clients."""
    from fastapi.responses import HTMLResponse, JSONResponse

    links = "".join(
        f'<li><a href="./{pid}">{html.escape(title)}</a></li>' for pid, title in known_pages
    )
    body = (
        "<!doctype html><meta charset='utf-8'><title>Page not found</title>"
        "<body style='font-family:system-ui;max-width:40rem;margin:3rem auto;line-height:1.5'>"
        "<h1>This page is not part of the course</h1>"
        "<p>The address may be mistyped or from an older version. "
        "<a href='./'>Open the course</a>, or one of its pages:</p>"
        f"<ul>{links}</ul></body>"
    )

    async def handler(request, exc):
        wants_html = "text/html" in request.headers.get("accept", "")
        if request.method == "GET" and wants_html:
            return HTMLResponse(body, status_code=404)
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    return handler


def main() -> None:
    logs.install()  # one line per rejected input, tracebacks for real errors, secrets masked
    # Gradio reads its default concurrency when the Blocks is created; setting it here instead of
    # calling demo.queue() spares a third rebuild of the whole FastAPI app at start-up.
    os.environ.setdefault("GRADIO_DEFAULT_CONCURRENCY_LIMIT", str(DEFAULT_CONCURRENCY))
    course = load_course(settings.lessons_dir)
    demo = build_app(course)
    # Everything made so far lives as long as the process: keep the GC off it from now on.
    gc.freeze()
    gc.enable()
    known_pages = [(les.id, les.title) for les in course.lessons] + [(t.id, t.title) for t in TOOLS]
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        ssr_mode=False,
        mcp_server=settings.mcp_server,
        theme=course_theme(),
        css_paths=[settings.css_path],
        head=frame_head(),
        i18n=STATUS_WORDS,
        **serving.launch_options(exception_handlers={404: not_found_page(known_pages)}),
    )


if __name__ == "__main__":
    main()
