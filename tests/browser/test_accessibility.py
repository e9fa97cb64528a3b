"""WCAG 2.2 AA, checked by axe-core on every page: the course with each tab open, and each page of
its own, light and dark (and the course at phone width). No serious or critical violation may
remain; every result (minor ones too) is printed at the end of the run."""

import pytest
from playwright.sync_api import expect

from app import TOOLS, tab_ids
from demos.course import load_course
from tests.browser import axe
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

COURSE = load_course()
TAB_IDS = tab_ids(COURSE)
PAGES = [les.id for les in COURSE.lessons] + [tool.id for tool in TOOLS]
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}


def settle(page):
    """Content on screen, no event still running (Gradio fades a component while its event
    runs), and demos/frame.js's tidy-up (40 ms after changes) done."""
    expect(page.locator("main .prose:visible").first).to_be_visible()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=status-tracker]:not(.hide)')",
        timeout=30_000,
    )
    page.wait_for_timeout(600)


def open_tab(page, tab_id):
    tab = page.locator(f'#course-tabs [role=tab][data-tab-id="{tab_id}"]')
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(page.locator(f"#tab-{tab_id}")).to_be_visible()
    settle(page)


@pytest.fixture
def sized_page(browser):
    contexts = []

    def make(width_name: str, theme: str):
        width, height = WIDTHS[width_name]
        context = browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=theme
        )
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        return pg

    yield make
    for context in contexts:
        context.close()


# Contrast does not change with the width; what does (target sizes, sideways scrolling) is
# checked at phone width in the light theme.
@pytest.mark.parametrize(
    "width, theme", [("desktop", "light"), ("desktop", "dark"), ("phone", "light")]
)
def test_course_with_each_tab_open(app_url, sized_page, theme, width):
    page = sized_page(width, theme)
    page.goto(f"{app_url}/?__theme={theme}")
    settle(page)
    problems = []
    for tab_id in TAB_IDS:
        open_tab(page, tab_id)
        name = f"/?tab={tab_id} {theme} {width}"
        if tab_id == TAB_IDS[-1] or width == "phone":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"axe-{tab_id}-{theme}-{width}.png"))
        found = axe.failing(axe.scan(page, name))
        if found:
            problems.append(f"{name}\n{axe.describe(found)}")
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_each_page_of_its_own(app_url, sized_page, theme):
    page = sized_page("desktop", theme)
    problems = []
    for path in PAGES:
        page.goto(f"{app_url}/{path}?__theme={theme}")
        settle(page)
        name = f"/{path} {theme}"
        found = axe.failing(axe.scan(page, name))
        if found:
            problems.append(f"{name}\n{axe.describe(found)}")
    assert not problems, "\n\n".join(problems)


CONTRAST = """(el) => {
    const rgb = (c) => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
    const lum = (c) => {
        const [r, g, b] = rgb(c).map((v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    let bgEl = el.parentElement;
    let bg = getComputedStyle(bgEl).backgroundColor;
    while (bgEl && (bg === "rgba(0, 0, 0, 0)" || bg === "transparent")) {
        bgEl = bgEl.parentElement;
        bg = bgEl ? getComputedStyle(bgEl).backgroundColor : "rgb(255, 255, 255)";
    }
    const [a, b] = [lum(getComputedStyle(el).borderTopColor), lum(bg)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_unselected_radios_stand_out(app_url, sized_page, theme):
    """WCAG 1.4.11 (non-text contrast, 3:1), which axe does not check: an unchecked radio's
    ring against the label it sits on (Soft's ring was as light as the page)."""
    page = sized_page("desktop", theme)
    page.goto(f"{app_url}/pytorch?__theme={theme}")
    settle(page)
    radio = page.locator(".quiz-question input[type=radio]").first
    ratio = radio.evaluate(CONTRAST)
    assert ratio >= 3, f"unchecked radio ring {ratio:.2f}:1 in {theme}"
