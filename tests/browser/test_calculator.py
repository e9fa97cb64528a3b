"""The calculator in a real browser: the friend's scenario gives a verdict, the formula and the plots;
a bad number gets a message beside its field, not a traceback; the address bar carries the inputs,
a link reopens the estimate, the copy-link button copies it; phones see the verdict first in tables.
(The module's server log must stay free of tracebacks: see tests/conftest.py.)"""

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[1] / "_out"


def open_calculator(page, app_url, query: str = ""):
    page.goto(f"{app_url}/?tab=calculator{query}")
    button = page.get_by_role("button", name="The friend's scenario (lesson 3)")
    expect(button).to_be_visible(timeout=60_000)
    return button


def verdict(page):
    return page.locator("#calc-verdict-text")


def test_friends_scenario_shows_verdict_formula_and_plots(app_url, page):
    open_calculator(page, app_url).click()
    expect(verdict(page)).to_contain_text("Kaggle (free T4)", timeout=30_000)
    expect(page.get_by_text("C = k x N x D x epochs", exact=False).first).to_be_visible()
    expect(page.get_by_text("does not fit", exact=False).first).to_be_visible()
    expect(page.get_by_text("micro-batch 2", exact=False).first).to_be_visible()
    # Native Gradio plots render as Vega charts.
    expect(page.locator(".vega-embed").first).to_be_visible()
    assert page.locator(".vega-embed").count() >= 3
    expect(page.get_by_text("Traceback")).to_have_count(0)


def test_the_address_bar_carries_the_estimate_and_a_link_reopens_it(app_url, page, browser):
    open_calculator(page, app_url).click()
    expect(verdict(page)).to_contain_text("Kaggle (free T4)", timeout=30_000)
    page.wait_for_function("() => location.search.includes('model=')")
    query = parse_qs(urlparse(page.url).query)
    assert query["tab"] == ["calculator"]
    assert query["model"] == ["Llama-3.2-3B"] and query["examples"] == ["50000"]
    link = page.locator("#calc-link textarea, #calc-link input").first
    expect(link).to_have_value(page.url)

    # A teacher's link, opened in a fresh browser: the form fills and the verdict appears unasked.
    other = browser.new_context(viewport={"width": 1280, "height": 800})
    fresh = other.new_page()
    fresh.goto(page.url)
    expect(verdict(fresh)).to_contain_text("Kaggle (free T4)", timeout=60_000)
    expect(fresh.get_by_label("Examples")).to_have_value("50000")
    expect(fresh.get_by_label("Epochs")).to_have_value("5")
    other.close()


def test_a_hand_written_link_with_a_typo_still_opens(app_url, page):
    page.goto(f"{app_url}/?tab=calculator&params=125M&examples=20000&epochs=3&batch=eight")
    expect(verdict(page)).to_contain_text("Colab", timeout=60_000)
    expect(page.get_by_text("could not read", exact=False)).to_be_visible()
    expect(page.get_by_text("Batch size", exact=False).first).to_be_visible()


def test_typing_and_enter_estimates_and_the_link_button_copies(app_url, page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_calculator(page, app_url)
    page.get_by_label("Parameters").fill("350M")
    page.get_by_label("Examples").fill("10000")
    page.get_by_label("Examples").press("Enter")
    expect(verdict(page)).to_contain_text("On the T4", timeout=30_000)
    page.wait_for_function("() => location.search.includes('params=350M')")
    page.get_by_role("button", name="🔗 Copy link").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "params=350M" in copied and "tab=calculator" in copied


def test_bad_values_are_flagged_beside_their_field(app_url, page):
    open_calculator(page, app_url)
    page.get_by_label("Parameters").fill("-3")
    page.get_by_label("Examples").fill("1000")
    page.get_by_role("button", name="Estimate", exact=True).click()
    expect(page.get_by_text("is not a parameter count", exact=False).first).to_be_visible(
        timeout=30_000
    )
    page.get_by_label("Parameters").fill("1B")
    page.get_by_label("Batch size (per GPU)").fill("2.5")
    page.get_by_role("button", name="Estimate", exact=True).click()
    expect(page.get_by_text("must be a whole number", exact=False).first).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("Traceback")).to_have_count(0)


def test_mfu_is_empty_not_zero(app_url, page):
    open_calculator(page, app_url)
    page.get_by_text("More: task, several GPUs", exact=False).click()
    mfu = page.get_by_label("MFU (utilisation, 0-1)")
    expect(mfu).to_have_value("")
    page.get_by_label("GPU", exact=True).click()
    page.get_by_role("option", name="NVIDIA H100 SXM (80 GB)").click()
    expect(page.get_by_text("Empty = this GPU's default, 0.30", exact=False)).to_be_visible()
    expect(mfu).to_have_value("")


def test_on_a_phone_the_verdict_comes_first_and_renders_as_emoji(app_url, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    open_calculator(page, app_url).click()
    expect(verdict(page)).to_contain_text("Kaggle (free T4)", timeout=60_000)
    # The shared phone conventions: the action bar and the result the frame scrolls to.
    assert page.locator(".tool-action").get_by_role("button", name="Estimate").count() == 1
    assert page.locator(".tool-result #calc-verdict-text").count() == 1
    page.locator(".tool-result").scroll_into_view_if_needed()
    expect(verdict(page)).to_be_in_viewport()
    first_cell = page.locator(".calc-table td").first
    expect(first_cell).to_contain_text("does not fit")  # the verdict column is first
    font = first_cell.evaluate("cell => getComputedStyle(cell).fontFamily")
    assert font.startswith('"calc-emoji"') or font.startswith("calc-emoji")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "calculator_phone_verdict.png"))
    context.close()


def test_the_page_alone_keeps_its_own_address(app_url, page):
    """On the embeddable page /calculator the link has no ?tab=: the page is the calculator."""
    page.goto(f"{app_url}/calculator?params=125M&examples=20000")
    expect(verdict(page)).to_contain_text("Colab", timeout=60_000)  # a link reopens the page too
    page.get_by_role("button", name="The friend's scenario (lesson 3)").click()
    expect(verdict(page)).to_contain_text("Kaggle (free T4)", timeout=60_000)
    page.wait_for_function("() => location.search.includes('model=')")
    assert urlparse(page.url).path.endswith("/calculator")
    assert "tab" not in parse_qs(urlparse(page.url).query)


def test_embedded_in_another_sites_iframe_the_link_is_the_pages_own(app_url, page):
    """A course site embeds /calculator: the estimate works inside the frame, the frame's own
    address carries the inputs, and the copy button falls back when the clipboard is not allowed."""
    page.set_content(
        f'<h1>My course</h1><iframe src="{app_url}/calculator" width="1100" height="1400"></iframe>'
    )
    frame = page.frame_locator("iframe")
    frame.get_by_role("button", name="The friend's scenario (lesson 3)").click(timeout=60_000)
    expect(frame.locator("#calc-verdict-text")).to_contain_text("Kaggle (free T4)", timeout=60_000)
    inner = page.frames[1]
    inner.wait_for_function("() => location.search.includes('model=')")
    assert urlparse(inner.url).path.endswith("/calculator")
    frame.get_by_role("button", name="🔗 Copy link").click()
    link = frame.locator("#calc-link textarea, #calc-link input").first
    expect(link).to_have_value(inner.url)
    assert page.url == "about:blank"  # the embedding page's own address is left alone
