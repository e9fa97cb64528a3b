"""The course at 1280x800, 768 px and 390x844: every tab one tap away, nothing pushed off the
side, and a tool's main action in view together with its result (the training loop here; the
convention is .tool-action/.tool-result in course.css and demos/frame.js)."""

import re

import pytest
from playwright.sync_api import expect

from app import tab_ids
from demos.course import load_course
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

COURSE = load_course()
TAB_IDS = tab_ids(COURSE)
RUN_TIMEOUT = 60_000  # the first run of a fresh server also imports torch


@pytest.fixture
def sized(browser):
    contexts = []

    def make(width, height):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        return pg

    yield make
    for context in contexts:
        context.close()


def in_view(locator) -> bool:
    """Wholly or partly on screen (Playwright's to_be_in_viewport, as a value)."""
    return locator.evaluate(
        """e => { const r = e.getBoundingClientRect();
                  return r.bottom > 0 && r.top < innerHeight && r.width > 0; }"""
    )


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.mark.parametrize("width, height", [(390, 844), (768, 1024), (1280, 800)])
def test_every_tab_is_one_tap_away_and_nothing_is_cut_off(app_url, sized, width, height):
    page = sized(width, height)
    page.goto(f"{app_url}/?tab=start")
    tabs = page.locator("#course-tabs [role=tab][data-tab-id]")
    expect(tabs.first).to_be_visible()
    # All of them on screen, none behind a "More tabs" menu.
    expect(tabs).to_have_count(len(TAB_IDS))
    for i in range(len(TAB_IDS)):
        expect(tabs.nth(i)).to_be_in_viewport()
    expect(page.get_by_role("button", name="More tabs")).to_have_count(0)
    # The title keeps to at most two lines.
    title = page.locator("#course-title h1")
    line = float(title.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert title.bounding_box()["height"] <= 2.2 * line
    # Every tab opened: nothing wider than the screen (a page that scrolls sideways hides part
    # of itself on a phone).
    for tab_id in TAB_IDS:
        page.locator(f'#course-tabs [role=tab][data-tab-id="{tab_id}"]').click()
        expect(page.locator(f"#tab-{tab_id}")).to_be_visible()
        page.wait_for_timeout(300)
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 1, f"?tab={tab_id} at {width}px is {overflow}px wider than the screen"
    shot(page, f"layout-tabs-{width}")


@pytest.mark.parametrize(
    "width, height, path",
    [
        (1280, 800, "/?tab=training-loop"),
        (1280, 800, "/training-loop"),
        (390, 844, "/training-loop"),
    ],
)
def test_training_loop_run_and_its_result_are_in_view_together(app_url, sized, width, height, path):
    page = sized(width, height)
    page.goto(app_url + path)
    run = page.get_by_role("button", name="Run", exact=True)
    expect(run).to_be_visible()
    expect(run).to_be_in_viewport()  # without scrolling, at every width
    run.click()
    status = page.locator(".training-loop-status").first
    expect(status).to_contain_text("Finished 500 of 500 steps", timeout=RUN_TIMEOUT)
    page.wait_for_timeout(800)  # the scroll to the result, if any, has ended
    shot(page, f"layout-training-loop-{width}{path.replace('/', '-').replace('?', '')}")
    loss_plot = page.locator(".training-loop-loss-plot")
    assert in_view(run), "Run left the screen"
    assert in_view(status), "the run's summary is off screen"
    assert in_view(loss_plot), "the loss curve is off screen"


def test_a_diverging_loss_keeps_its_axis_labels_whole(app_url, sized):
    page = sized(1280, 800)
    page.goto(f"{app_url}/training-loop")
    page.get_by_text("Learning rate far too high").click()
    # The switch sets its preset rate (a round trip) before the run may start.
    expect(page.get_by_role("spinbutton", name="Learning rate")).not_to_have_value("0.02")
    page.get_by_role("button", name="Run", exact=True).click()
    status = page.locator(".training-loop-status").first
    expect(status).not_to_contain_text(re.compile(r"Training…|Press"), timeout=RUN_TIMEOUT)
    plot = page.locator(".training-loop-loss-plot")
    labels = plot.locator("svg g.role-axis-label text")
    # It did diverge to huge values, and the plot shows them.
    expect(labels.filter(has_text="e+").first).to_be_attached()
    box = plot.bounding_box()
    texts = labels.all_text_contents()
    for i in range(labels.count()):
        label = labels.nth(i).bounding_box()
        assert label["x"] >= box["x"] - 0.5, (texts[i], label, box)
    shot(page, "layout-diverged-axis")
