"""The calculator in a real browser: the friend's scenario gives a verdict, the formula and the plots;
a bad number gets a message beside its field, not a traceback."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def open_calculator(page, app_url):
    page.goto(f"{app_url}/?tab=calculator")
    button = page.get_by_role("button", name="The friend's scenario (lesson 3)")
    expect(button).to_be_visible(timeout=60_000)
    return button


def test_friends_scenario_shows_verdict_formula_and_plots(app_url, page):
    open_calculator(page, app_url).click()
    expect(page.get_by_text("Kaggle (free T4)", exact=False).first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("C = k x N x D x epochs", exact=False).first).to_be_visible()
    expect(page.get_by_text("does not fit", exact=False).first).to_be_visible()
    expect(page.get_by_text("micro-batch 2", exact=False).first).to_be_visible()
    # Native Gradio plots render as Vega charts.
    expect(page.locator(".vega-embed").first).to_be_visible()
    assert page.locator(".vega-embed").count() >= 3
    expect(page.get_by_text("Traceback")).to_have_count(0)


def test_bad_parameter_count_is_flagged_beside_the_field(app_url, page):
    open_calculator(page, app_url)
    page.get_by_label("Parameters").fill("-3")
    page.get_by_label("Examples").fill("1000")
    page.get_by_role("button", name="Estimate", exact=True).click()
    expect(page.get_by_text("is not a parameter count", exact=False).first).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("Traceback")).to_have_count(0)
