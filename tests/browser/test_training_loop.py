"""The training-loop lab in a real browser: run it, watch the plot stream, break it, fix it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

RUN_TIMEOUT = 60_000  # the first run of a fresh server also imports torch


def open_lab(page, app_url):
    page.goto(f"{app_url}/training-loop")
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_visible()


def status(page):
    return page.locator(".training-loop-status").first


def run(page):
    page.get_by_role("button", name="Run", exact=True).click()


def code_text(page):
    """The script box's text. CodeMirror draws only the lines near the screen, and the script
    sits below the plots: bring it to the middle of the screen first."""
    code = page.locator(".training-loop-code .cm-content").first
    code.evaluate("e => e.scrollIntoView({block: 'center'})")
    return code


def test_run_streams_the_loss_and_draws_the_fit(app_url, page):
    open_lab(page, app_url)
    run(page)
    # Intermediate frames arrive while it trains, then the run's summary.
    expect(status(page)).to_contain_text(
        re.compile(r"Training… step \d+ of 500"), timeout=RUN_TIMEOUT
    )
    expect(status(page)).to_contain_text("Finished 500 of 500 steps", timeout=RUN_TIMEOUT)
    loss_plot = page.locator(".training-loop-loss-plot")
    expect(loss_plot.locator("g.mark-line path")).to_have_count(1)
    expect(page.locator(".training-loop-grad-plot g.mark-line path")).to_have_count(1)
    # 256 data points and the model's curve, drawn over them.
    fit_symbols = page.locator(".training-loop-fit-plot g.mark-symbol path")
    expect(fit_symbols.nth(300)).to_be_attached()
    expect(code_text(page)).to_contain_text("optimizer.zero_grad()")


def test_classification_rings_are_drawn_round(app_url, page):
    open_lab(page, app_url)
    page.get_by_text("Classification: two rings").click()
    # Choosing the task swaps the loss list; the run needs a classification loss.
    expect(page.get_by_label("Loss")).to_have_value(re.compile("Cross-entropy"))
    run(page)
    expect(status(page)).to_contain_text("Finished 500 of 500 steps", timeout=RUN_TIMEOUT)
    expect(status(page)).to_contain_text(re.compile(r"accuracy \d+%"))
    plot = page.locator(".training-loop-fit-square").first
    expect(plot.locator("g.mark-symbol path").nth(255)).to_be_attached()  # all 256 points
    # A ring on a wide, low plot looks like an ellipse: this plot is about as tall as it is wide.
    box = plot.bounding_box()
    assert 0.85 < box["height"] / box["width"] < 1.35, box


def test_break_with_a_huge_rate_then_fix_it(app_url, page):
    open_lab(page, app_url)
    page.get_by_label("Learning rate far too high").check()
    expect(page.get_by_label("Learning rate", exact=True)).to_have_value("2")
    expect(code_text(page)).to_contain_text("LEARNING_RATE = 2.0")
    expect(code_text(page)).to_contain_text("torch.optim.SGD(")
    run(page)
    expect(status(page)).to_contain_text("Diverged", timeout=RUN_TIMEOUT)
    expect(status(page)).to_contain_text("clip_grad_norm_")

    page.get_by_role("button", name="Fix it").click()
    expect(status(page)).to_contain_text("Finished 500 of 500 steps", timeout=RUN_TIMEOUT)
    expect(page.get_by_label("Learning rate", exact=True)).to_have_value("0.1")
    expect(page.get_by_label("Clip gradients (clip_grad_norm_)")).to_be_checked()
    expect(page.get_by_label("Learning rate far too high")).not_to_be_checked()
    expect(code_text(page)).to_contain_text(
        "nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)"
    )
    expect(page.locator(".training-loop-loss-plot g.mark-line path")).to_have_count(1)


def test_frozen_layer_and_missing_zero_grad_are_explained_and_fixed(app_url, page):
    open_lab(page, app_url)
    page.get_by_label("First layer left at requires_grad=False").check()
    page.get_by_label("Forget optimizer.zero_grad()").check()
    expect(code_text(page)).to_contain_text("model[0].weight.requires_grad_(False)")
    run(page)
    expect(status(page)).to_contain_text("Finished", timeout=RUN_TIMEOUT)
    expect(status(page)).to_contain_text("changed by 0 in 500 steps")
    expect(status(page)).to_contain_text("gradient norm grew")
    page.get_by_role("button", name="Fix it").click()
    expect(page.get_by_label("First layer left at requires_grad=False")).not_to_be_checked()
    expect(status(page)).not_to_contain_text("requires_grad=False", timeout=RUN_TIMEOUT)
    expect(status(page)).to_contain_text("Finished 500 of 500 steps", timeout=RUN_TIMEOUT)
    expect(code_text(page)).not_to_contain_text("BUG (injected)")


def test_device_mismatch_shows_a_real_error_and_says_why(app_url, page):
    open_lab(page, app_url)
    page.get_by_label("Data and model on different devices").check()
    expect(code_text(page)).to_contain_text("BUG (injected): x and y are never moved")
    run(page)
    expect(status(page)).to_contain_text("RuntimeError", timeout=RUN_TIMEOUT)
    expect(status(page)).to_contain_text("x, y = x.to(device), y.to(device)")


def test_tab_link_and_autograd_panel(app_url, page):
    page.goto(f"{app_url}/?tab=training-loop")
    expect(page.get_by_role("tab", name=re.compile("Training loop"))).to_have_attribute(
        "aria-selected", "true"
    )
    lab = page.locator("#component-0").page  # the whole page; the lab's tab is the visible one
    lab.get_by_role("button", name="Run backward()").first.click()
    table = lab.get_by_role("table").filter(has_text="by hand").first
    expect(table).to_contain_text("✅")
    expect(table).not_to_contain_text("❌")


def _set_number(page, label, value):
    field = page.get_by_label(f"number input for {label}")
    field.fill(value)
    field.press("Enter")


def test_stop_cancels_a_long_run(app_url, page):
    open_lab(page, app_url)
    # A short run first: the plot library loads on the first frame, which on a busy machine
    # keeps the page from taking clicks for a moment.
    _set_number(page, "Steps", "10")
    expect(code_text(page)).to_contain_text("STEPS = 10")
    run(page)
    expect(status(page)).to_contain_text("Finished 10 of 10 steps", timeout=RUN_TIMEOUT)
    expect(page.locator(".training-loop-loss-plot g.mark-line path")).to_have_count(1)
    for label, value in [("Steps", "3000"), ("Hidden size", "256"), ("Batch size", "256")]:
        _set_number(page, label, value)
    expect(code_text(page)).to_contain_text("STEPS = 3000")
    expect(code_text(page)).to_contain_text("HIDDEN_SIZE = 256")
    run(page)
    expect(status(page)).to_contain_text("Training… step", timeout=RUN_TIMEOUT)
    page.get_by_role("button", name="Stop").click()
    expect(status(page)).to_contain_text(re.compile(r"Stopped by you after \d+ of 3000 steps"))
    page.wait_for_timeout(1500)  # a run that kept going would have overwritten the status by now
    expect(status(page)).to_contain_text("Stopped by you")


def test_a_learning_rate_out_of_bounds_is_refused_in_words(app_url, page):
    """Typed, then Enter, then Run: the server's own check answers, naming the field."""
    open_lab(page, app_url)
    rate = page.get_by_label("Learning rate", exact=True)
    rate.fill("50")
    rate.press("Enter")
    run(page)
    toast = page.locator(".toast-body").filter(has_text="learning rate")
    expect(toast).to_contain_text("The learning rate must be between 1e-06 and 10; got 50.")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "training_loop_rate_refused.png"))
    # The run never started: the status still invites a run, and the page still works.
    expect(status(page)).to_contain_text("Press **Run** to train.".replace("**", ""))
    rate.fill("0.05")
    rate.press("Enter")
    expect(code_text(page)).to_contain_text("LEARNING_RATE = 0.05")
