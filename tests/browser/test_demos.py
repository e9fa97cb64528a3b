"""The model-demos tab in a real browser: pick a held-out post, see both classifiers side by side,
fine-tune in place, change two lines, and get sentences (not tracebacks) for bad input."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.hub.conftest import save_tiny_classifier, save_tiny_nli, save_tiny_t5

pytestmark = pytest.mark.browser
TIMEOUT = 90_000  # the first click of a fresh server also imports torch and loads models


@pytest.fixture(scope="module")
def app_env(tmp_path_factory):
    """Tiny random models stand in for the Hub's; no ADVICE_MODEL, so the tab offers training."""
    root = tmp_path_factory.mktemp("demos-models")
    return {
        "ADVICE_ZERO_SHOT_MODEL": str(save_tiny_nli(root / "nli")),
        "ADVICE_SENTIMENT_MODEL": str(
            save_tiny_classifier(root / "sentiment", labels=("NEGATIVE", "POSITIVE"))
        ),
        "ADVICE_T5_MODEL": str(save_tiny_t5(root / "t5")),
        "ADVICE_BASE_MODEL": str(save_tiny_classifier(root / "base")),
        "ADVICE_OUTPUT_DIR": str(root / "fine-tuned"),
        "ADVICE_TRAIN_EPOCHS": "1",
        "ADVICE_MODEL": "",
    }


def open_tab(page, app_url):
    page.goto(f"{app_url}/?tab=demos")
    expect(page.get_by_role("button", name="Classify", exact=True)).to_be_visible(timeout=60_000)


def test_fine_tune_in_place_then_both_classifiers_side_by_side(app_url, page):
    open_tab(page, app_url)
    expect(page.locator(".advice-fine-tuned-info").first).to_contain_text("no model yet")
    page.get_by_text("Fine-tune one here (runs", exact=False).first.click()
    page.get_by_role("button", name="Fine-tune now").click()
    expect(page.locator(".advice-train-status").first).to_contain_text(
        "test accuracy", timeout=TIMEOUT
    )
    expect(page.locator(".advice-train-status").first).to_contain_text("true \\ predicted")

    page.get_by_label("Or pick a held-out post").click()
    page.get_by_role("option").first.click()
    expect(page.get_by_label("Post", exact=True)).not_to_have_value("", timeout=10_000)
    page.get_by_role("button", name="Classify", exact=True).click()
    for column in (".advice-zero-shot", ".advice-fine-tuned"):
        expect(page.locator(column).first).to_contain_text(
            re.compile("advice|venting"), timeout=TIMEOUT
        )
    expect(page.locator(".advice-fine-tuned-info").first).to_contain_text("Local folder")
    expect(
        page.get_by_text('pipeline("zero-shot-classification"', exact=False).first
    ).to_be_attached()
    expect(page.get_by_text("Traceback")).to_have_count(0)


def test_empty_and_huge_posts_get_a_sentence(app_url, page):
    open_tab(page, app_url)
    page.get_by_role("button", name="Classify", exact=True).click()
    expect(page.locator(".advice-note").first).to_contain_text("empty", timeout=TIMEOUT)
    page.get_by_label("Post", exact=True).fill("help me " * 4000)
    page.get_by_role("button", name="Classify", exact=True).click()
    expect(page.locator(".advice-note").first).to_contain_text("were read", timeout=TIMEOUT)


def test_change_two_lines_and_a_model_off_the_allowlist(app_url, page):
    open_tab(page, app_url)
    page.get_by_label("Post", exact=True).fill("I need help with my landlord 🙃 مرحبا")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".advice-diff").first).to_contain_text("+classify", timeout=TIMEOUT)
    model_box = page.get_by_label("Model (empty: the task's default", exact=False)
    model_box.fill("evil-org/remote-code-model")
    model_box.press("Enter")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("not on this Space's list", exact=False).first).to_be_visible(
        timeout=TIMEOUT
    )


def test_search_offline_says_so(app_url, page):
    open_tab(page, app_url)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("runs offline", exact=False).first).to_be_visible(timeout=TIMEOUT)
