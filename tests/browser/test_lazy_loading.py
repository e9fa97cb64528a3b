"""Lazy loading, seen from outside: the served app holds no torch until a tool needs it.

Its own module, so its server has served nobody else (the other browser tests open tools).
"""

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from demos.course import load_course

pytestmark = pytest.mark.browser


def _server_has_torch(app_url: str) -> bool:
    """Whether the app process serving ``app_url`` has loaded libtorch (read from /proc)."""
    port = app_url.rsplit(":", 1)[1].encode()
    for proc in Path("/proc").iterdir():
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            if (
                b"GRADIO_SERVER_PORT=" + port in environ
                and b"app.py" in (proc / "cmdline").read_bytes()
            ):
                return "libtorch" in (proc / "maps").read_text()
        except OSError:
            continue
    raise AssertionError("the app's process was not found")


def test_torch_loads_when_a_tool_needs_it_not_at_start(app_url, page):
    page.goto(app_url)
    expect(page.locator("#course-title")).to_be_visible()
    pytorch = load_course().lesson("pytorch")
    page.get_by_role("tab").filter(has_text=pytorch.short_title).first.click()
    page.wait_for_timeout(1000)
    assert not _server_has_torch(app_url), "torch was imported before any tool needed it"
    # Opening the training loop's tab starts its imports in the background, before the first Run.
    page.get_by_role("tab", name="🔁 Training loop").click()
    deadline = time.time() + 30
    while not _server_has_torch(app_url):
        assert time.time() < deadline, "opening the Training loop tab did not warm torch"
        time.sleep(0.5)
