"""Real-browser fixtures: Playwright drives Debian's Chromium (`apt-get install chromium`)
against the app served by the ``app_url`` fixture (tests/conftest.py); screenshots land in
tests/_out/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "_out"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context (so a fresh BrowserState) per test; screenshot saved at the end."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        pg.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    except Exception:  # a closed page must not hide the test's own failure
        pass
    context.close()


def pytest_terminal_summary(terminalreporter):
    """axe-core's results for every page scanned in this run (tests/browser/test_accessibility.py)."""
    from tests.browser import axe

    if not axe.RESULTS:
        return
    terminalreporter.section("axe-core accessibility results (WCAG 2.2 A/AA + best practices)")
    for line in axe.summary_lines():
        terminalreporter.write_line(line)
    axe.save(SCREENSHOTS / "axe.json")
    terminalreporter.write_line(f"details: {SCREENSHOTS / 'axe.json'}")
