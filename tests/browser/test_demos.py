"""The model-demos tab in a real browser, as a visitor meets it: on first start the Space trains
its own classifier in the background (progress in the tab) while the zero-shot side answers
with the offline MiniLM fallback; once trained, the fine-tuned side labels the post without a
click. Then a visitor's own fine-tune, honest words for odd posts, "change two lines" offline
(the code and a sentence, no red error pills), and the layout at desktop and phone widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.hub.conftest import save_tiny_classifier, save_tiny_t5

pytestmark = pytest.mark.browser
TIMEOUT = 180_000  # a fresh server imports torch, loads models and trains (a tiny run) meanwhile
ADVICE_POST = "My landlord kept my whole deposit. What should I do to get it back?"


@pytest.fixture(scope="module")
def app_env(tmp_path_factory):
    """A fresh Space: no ADVICE_MODEL, an empty model folder, background training on (a tiny
    run from a tiny base model), and an NLI model that is not on this machine (offline), so
    the zero-shot side falls back to the packaged MiniLM."""
    root = tmp_path_factory.mktemp("demos-models")
    return {
        "ADVICE_ZERO_SHOT_MODEL": "MoritzLaurer/xtremedistil-l6-h256-zeroshot-v1.1-all-33",
        "ADVICE_SENTIMENT_MODEL": str(
            save_tiny_classifier(root / "sentiment", labels=("NEGATIVE", "POSITIVE"))
        ),
        "ADVICE_T5_MODEL": str(save_tiny_t5(root / "t5")),
        "ADVICE_BASE_MODEL": str(save_tiny_classifier(root / "base")),
        "ADVICE_OUTPUT_DIR": str(root / "space-model"),
        "ADVICE_BACKGROUND_TRAINING": "auto",
        "ADVICE_TRAIN_ARGS": "--max-train-samples 24 --max-length 16 --epochs 1 --no-baseline",
        "ADVICE_MODEL": "",
    }


def open_tab(page, app_url):
    page.goto(f"{app_url}/?tab=demos")
    expect(page.get_by_role("button", name="Classify", exact=True)).to_be_visible(timeout=60_000)


def classify(page, text: str) -> None:
    page.get_by_label("Post", exact=True).fill(text)
    page.get_by_role("button", name="Classify", exact=True).click()


def in_view(page, selector: str) -> bool:
    """True when the element's box overlaps the visible viewport."""
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    return bool(box) and box["y"] < size["height"] and box["y"] + box["height"] > 0


def test_first_sight_zero_shot_now_fine_tuned_after_background_training(app_url, page):
    page.set_viewport_size({"width": 1280, "height": 800})
    open_tab(page, app_url)
    classify(page, ADVICE_POST)
    zero_shot = page.locator(".advice-zero-shot").first
    expect(zero_shot).to_contain_text(re.compile("advice|venting|neither"), timeout=TIMEOUT)
    expect(page.locator(".advice-zero-shot-info").first).to_contain_text("offline fallback")
    expect(page.locator(".advice-verdict").first).to_contain_text(
        re.compile("Asking for advice|Venting|Neither|Not sure")
    )
    # Both the button and its result are on screen together (desktop: side by side).
    assert in_view(page, ".tool-action") and in_view(page, ".tool-result")
    page.screenshot(path=str(SCREENSHOTS / "demos-first-sight-1280.png"))
    # No click: when the Space's own training ends, the fine-tuned side labels the same post.
    expect(page.locator(".advice-fine-tuned").first).to_contain_text(
        re.compile("advice|venting|neither"), timeout=TIMEOUT
    )
    expect(page.locator(".advice-training progress")).to_have_count(0, timeout=TIMEOUT)
    expect(page.locator(".advice-evaluation").first).to_contain_text("free-written posts")
    code = page.locator(".advice-fine-tuned-code").first
    expect(code).to_contain_text('model="models/advice-minilm"')
    expect(code).not_to_contain_text("/tmp")
    expect(page.get_by_text("Traceback")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "demos-trained-1280.png"))


def test_phone_width_action_and_result(app_url, page):
    page.set_viewport_size({"width": 390, "height": 844})
    open_tab(page, app_url)
    classify(page, "just passed my driving test!!! 🎉")
    expect(page.locator(".advice-verdict").first).to_contain_text(
        re.compile("Asking for advice|Venting|Neither|Not sure"), timeout=TIMEOUT
    )
    page.locator(".tool-result").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "demos-result-390.png"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 392, f"the tab is {width} px wide on a 390 px phone"


def test_odd_posts_get_an_honest_word(app_url, page):
    open_tab(page, app_url)
    for text in ("😂" * 5000, "asdkjh qwpoeiru zxmcnv lkjasd"):
        classify(page, text)
        expect(page.locator(".advice-verdict").first).to_contain_text(
            "Too few words it knows", timeout=TIMEOUT
        )
    classify(page, "")
    expect(page.locator(".advice-note").first).to_contain_text("empty", timeout=TIMEOUT)


def test_a_visitors_own_fine_tune_is_theirs_alone(app_url, page, browser):
    open_tab(page, app_url)
    expect(page.locator(".advice-training progress")).to_have_count(0, timeout=TIMEOUT)
    page.get_by_text("Fine-tune your own", exact=False).first.click()
    page.get_by_role("button", name="Fine-tune now").click()
    status = page.locator(".advice-train-status").first
    expect(status).to_contain_text("for you only", timeout=TIMEOUT)
    expect(status).to_contain_text("Classify a post to try it", timeout=TIMEOUT)
    # The status and its caption do not overlap (Gradio's own progress overlay is off here).
    caption = page.get_by_text("one run at a time", exact=False).first
    caption_box, status_box = caption.bounding_box(), status.bounding_box()
    assert caption_box and status_box
    assert caption_box["y"] + caption_box["height"] <= status_box["y"] + 1
    expect(page.locator(".advice-fine-tuned-info").first).to_contain_text("only you see it")
    # Another visitor (a new browser context, a new session) still gets the Space's model.
    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    open_tab(other, app_url)
    expect(other.locator(".advice-fine-tuned-info").first).not_to_contain_text("only you see")
    other.context.close()


def test_change_two_lines_offline_shows_code_and_a_sentence(app_url, page):
    open_tab(page, app_url)
    page.get_by_label("Post", exact=True).fill("I need help with my landlord 🙃 مرحبا")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".advice-diff").first).to_contain_text("+classify", timeout=TIMEOUT)
    model_box = page.get_by_label("Model (empty: the task's default", exact=False)
    model_box.fill("distilbert/distilbert-base-uncased-finetuned-sst-2-english")
    model_box.press("Enter")
    page.get_by_role("button", name="Run", exact=True).click()
    note = page.locator(".advice-task-note").first
    expect(note).to_contain_text("cannot run here", timeout=TIMEOUT)
    expect(page.locator(".advice-diff").first).to_contain_text("distilbert")
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)
    model_box.fill("evil-org/remote-code-model")
    model_box.press("Enter")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(note).to_contain_text("not on this Space's list", timeout=TIMEOUT)
    expect(page.locator(".advice-diff").first).to_contain_text("evil-org/remote-code-model")
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "demos-change-two-lines-1280.png"), full_page=True)


def test_search_offline_says_so(app_url, page):
    open_tab(page, app_url)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("runs offline", exact=False).first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)
