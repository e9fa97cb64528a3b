"""The course in a real browser: every tab, a quiz answered wrong then right, progress kept in
the browser, deep links, pages of their own, the dark theme and bad addresses."""

import re

import pytest
from playwright.sync_api import expect

from app import TOOLS
from demos.course import load_course
from demos.course_ui import choice_label
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

COURSE = load_course()
RETRIED = re.compile(r"quiz answers: 0/\d+ right first time · 1 after a retry")


def explanation_start(explain: str) -> str:
    """The first words of an explanation as the page shows them (verdict word and marks gone)."""
    return choice_label(re.sub(r"^(Right|Correct|Yes|No|Wrong|Not quite)[.!,:]\s+", "", explain))[
        :30
    ]


def tab_button(page, label):
    return page.get_by_role("tab", name=label)


@pytest.fixture(autouse=True, scope="module")
def patient_expectations():
    """The course loads every lesson at once; on a busy machine that takes more than expect()'s
    default 5 s. Restored for the other modules."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


def wait_ready(page):
    # The whole course loads at once: give a busy machine more than expect()'s default 5 s.
    expect(page.locator("#course-title")).to_be_visible(timeout=30_000)


def test_every_tab_opens_with_its_content(app_url, page):
    page.goto(app_url)
    wait_ready(page)
    for lesson in COURSE.lessons:
        page.get_by_role("tab").filter(has_text=lesson.short_title).first.click()
        expect(page.get_by_role("heading", name=lesson.title, exact=True).first).to_be_visible()
    for tool in TOOLS:
        tab_button(page, tool.title).click()
        expect(tab_button(page, tool.title)).to_have_attribute("aria-selected", "true")
    # No tool fell back to its "unavailable" notice.
    expect(page.get_by_text("is unavailable right now")).to_have_count(0)


def test_quiz_wrong_then_right_and_progress_survives_reload(app_url, page):
    lesson = COURSE.lesson("pytorch")
    item = lesson.quiz[0]
    wrong = next(i for i, c in enumerate(item.choices) if not c.correct)
    page.goto(f"{app_url}/?tab=pytorch")
    wait_ready(page)
    question = page.locator(".quiz-question").first
    feedback = question.locator(".prose.quiz-feedback")
    question.get_by_text(choice_label(item.choices[wrong].text), exact=True).click()
    expect(feedback).to_contain_text("Not quite")
    expect(feedback).to_contain_text(explanation_start(item.choices[wrong].explain))
    question.get_by_text(choice_label(item.choices[item.answer].text), exact=True).click()
    expect(feedback).to_contain_text("Right, on a retry")
    expect(feedback).to_contain_text(explanation_start(item.choices[item.answer].explain))
    # Wrong first, then right: a retry, never "right first time".
    header = page.get_by_text(RETRIED)
    expect(header).to_be_visible()
    expect(page.locator(".prose").filter(has_text="quiz: 0/").first).to_contain_text(
        "1 after a retry"
    )
    page.get_by_role("button", name="Mark this lesson as read").first.click()
    expect(page.get_by_text(re.compile(r"1/\d+ lessons read"))).to_be_visible()

    page.reload()
    wait_ready(page)
    expect(page.get_by_text(re.compile(r"1/\d+ lessons read · " + RETRIED.pattern))).to_be_visible()
    expect(page.locator(".prose.quiz-feedback").first).to_contain_text("Right, on a retry")


def test_right_first_time_counts_as_first_time(app_url, page):
    lesson = COURSE.lesson("hugging-face")
    page.goto(f"{app_url}/?tab=hugging-face")
    wait_ready(page)
    question = page.locator(".quiz-question").filter(has_text=lesson.quiz[1].question[:40]).first
    item = lesson.quiz[1]
    question.get_by_text(choice_label(item.choices[item.answer].text), exact=True).click()
    expect(question.locator(".prose.quiz-feedback")).to_contain_text("Right.")
    expect(
        page.get_by_text(re.compile(r"quiz answers: 1/\d+ right first time · kept"))
    ).to_be_visible()


def test_deep_link_opens_the_tab_and_unknown_falls_back(app_url, page):
    page.goto(f"{app_url}/?tab=calculator")
    wait_ready(page)
    expect(tab_button(page, "🧮 GPU calculator")).to_have_attribute("aria-selected", "true")
    page.goto(f"{app_url}/?tab=free-compute")
    expect(
        page.get_by_role("heading", name=COURSE.lesson("free-compute").title).first
    ).to_be_visible()
    page.goto(f"{app_url}/?tab=no-such-tab")
    wait_ready(page)
    expect(page.get_by_text("There is no tab called 'no-such-tab'")).to_be_visible()
    expect(page.get_by_role("heading", name=COURSE.lesson("start").title).first).to_be_visible()


def test_lesson_page_stands_alone_for_embedding(app_url, page):
    lesson = COURSE.lesson("hugging-face")
    page.goto(f"{app_url}/hugging-face")
    expect(page.get_by_role("heading", name=lesson.title).first).to_be_visible()
    # Only this lesson: no course tabs, no other lesson.
    expect(page.get_by_role("tab")).to_have_count(0)
    expect(page.get_by_role("heading", name=COURSE.lesson("pytorch").title)).to_have_count(0)
    item = lesson.quiz[0]
    page.locator(".quiz-question").first.get_by_text(
        choice_label(item.choices[item.answer].text), exact=True
    ).click()
    expect(page.locator(".prose.quiz-feedback").first).to_contain_text("Right")


def test_unknown_page_gets_a_friendly_404(app_url, page):
    response = page.goto(f"{app_url}/no-such-page")
    assert response.status == 404
    expect(page.get_by_role("heading", name="This page is not part of the course")).to_be_visible()
    page.get_by_role("link", name="Open the course").click()
    wait_ready(page)


def test_tampered_browser_state_is_dropped_not_fatal(app_url, page):
    page.goto(app_url)
    wait_ready(page)
    page.evaluate("localStorage.setItem('ml-course-progress', '\"garbage{{not json')")
    page.reload()
    wait_ready(page)
    expect(page.get_by_text(re.compile(r"0/\d+ lessons read"))).to_be_visible()
    page.evaluate(
        "localStorage.setItem('ml-course-progress', JSON.stringify({version: 1, read: 7}))"
    )
    page.reload()
    wait_ready(page)
    expect(page.get_by_text(re.compile(r"0/\d+ lessons read"))).to_be_visible()


def test_dark_theme_from_the_address(app_url, page):
    page.goto(f"{app_url}/?__theme=dark&tab=pytorch")
    wait_ready(page)
    expect(page.locator("body")).to_have_class(re.compile("dark"))


def test_start_page_alone_shows_progress(app_url, page):
    """The Start page has no quiz: its only progress output is its status line."""
    page.goto(f"{app_url}/start")
    expect(page.get_by_role("heading", name=COURSE.lesson("start").title).first).to_be_visible()
    page.get_by_role("button", name="Mark this lesson as read").click()
    expect(page.get_by_text("✅ read")).to_be_visible()


@pytest.fixture(scope="module")
def app_env():
    # COURSE_SPACE_ID takes the place of the SPACE_ID a real Space sets (which would also switch
    # on Gradio's Spaces-only behaviour, such as OAuth).
    return {"COURSE_SPACE_ID": "test-owner/ml-course"}


def test_lesson_links_its_notebook_to_colab_kaggle_and_a_download(app_url, page):
    page.goto(f"{app_url}/?tab=free-compute")
    wait_ready(page)
    links = page.locator(".notebook-links").filter(has_text="Run this lesson as a notebook").first
    colab = links.get_by_role("link", name="Open in Colab")
    expect(colab).to_have_attribute(
        "href",
        "https://colab.research.google.com/#fileId=https%3A//huggingface.co/spaces/"
        "test-owner/ml-course/blob/main/notebooks/03-free-compute.ipynb",
    )
    expect(links.get_by_role("link", name="Open in Kaggle")).to_have_attribute(
        "href", re.compile(r"kernels/welcome\?src=.*test-owner/ml-course/resolve/main/notebooks/")
    )
    expect(links).to_contain_text("T4")
    href = links.get_by_role("link", name="Download").get_attribute("href")
    response = page.request.get(page.url.split("?")[0] + href)
    assert response.ok and '"cells"' in response.text()
    # Only the course's own folders are served: not its code or settings.
    secret = page.request.get(
        page.url.split("?")[0] + href.replace("notebooks/03-free-compute.ipynb", "app.py")
    )
    assert secret.status in (403, 404)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_lesson_figures_load_with_alt_text(app_url, page, theme):
    page.goto(f"{app_url}/pytorch?__theme={theme}")
    figures = page.locator(".lesson-body img[src*='figures/']")
    expect(figures).to_have_count(2)
    for index in range(2):
        figure = figures.nth(index)
        figure.scroll_into_view_if_needed()
        expect(figure).to_be_visible()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=figure.element_handle()
        )
        assert len(figure.get_attribute("alt")) > 80
        # A link to the figure itself: on a phone, a tap opens it full size to zoom.
        link = page.locator(".lesson-body a:has(img[src*='figures/'])").nth(index)
        assert link.get_attribute("href") == figure.get_attribute("src")
    figures.nth(1).screenshot(path=str(SCREENSHOTS / f"figure-five-step-loop-{theme}.png"))
