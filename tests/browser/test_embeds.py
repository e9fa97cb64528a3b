"""Every page embedded cross-site, as a course site would: the embedding page is served from
``localhost`` and frames the app at ``127.0.0.1`` (another site), in Chromium with third-party
storage blocked and allowed. Each page must load; with storage blocked, progress lives for the
visit and the page says so.

Partitioned storage is not a third case this Chromium (156, Debian) can be put in: with
third-party cookies blocked it refuses an embed its storage (SecurityError), and with them
allowed it gives the embed the site's own storage (checked below); the partitioning features
change neither. To the page, a partitioned store is a working store that starts empty, which a
fresh profile with storage allowed already is.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app import TOOLS
from demos.course import load_course
from demos.course_ui import choice_label
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

COURSE = load_course()
PAGES = [les.id for les in COURSE.lessons] + [tool.id for tool in TOOLS]
LOAD_TIMEOUT = 60_000
NOTICE = ".storage-notice p"  # "progress lasts until you leave or reload"

# Chromium's own settings (the profile's Preferences): cookie_controls_mode 1 is "Block
# third-party cookies", which also refuses third-party storage (reading localStorage throws
# SecurityError, as in incognito); 0 allows them.
MODES = {
    "blocked": {"profile": {"cookie_controls_mode": 1, "block_third_party_cookies": True}},
    "allowed": {"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False}},
}


SITE_PAGES: dict[str, str] = {}  # extra pages the course site serves, by path


@contextmanager
def embedding_site():
    """A second site (http://localhost:PORT) whose page frames whatever ``?src=`` names (and
    serves the pages in SITE_PAGES)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            src = re.search(r"src=([^&]+)", self.path)
            target = src.group(1) if src else "about:blank"
            body = SITE_PAGES.get(self.path) or (
                "<!doctype html><meta charset=utf-8><title>A course site</title>"
                "<h1>Someone's course site</h1>"
                f'<iframe id="embed" src="{target}" width="1100" height="900" '
                'style="border:0" title="Embedded course page"></iframe>'
            )
            body = body.encode()
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site():
    with embedding_site() as url:
        yield url


@pytest.fixture(scope="module")
def playwright_sync():
    api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    with api.sync_playwright() as p:
        yield p


@contextmanager
def browser_with(playwright_sync, tmp_path: Path, mode: str):
    prefs = MODES[mode]
    profile = tmp_path / f"profile-{mode}"
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(json.dumps(prefs))
    context = playwright_sync.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        viewport={"width": 1200, "height": 1000},
    )
    try:
        yield context
    finally:
        context.close()


def embed(context, site, app_url, path):
    """Open the course site framing ``path``; return (page, frame locator, errors)."""
    page = context.new_page()
    page.set_default_timeout(LOAD_TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site}/?src={app_url}/{path}")
    return page, page.frame_locator("#embed"), errors


def expect_loaded(frame_locator, path):
    """The page's own content is on screen (not Gradio's loading skeleton)."""
    lesson = COURSE.lesson(path)
    if lesson is not None:
        heading = frame_locator.get_by_role("heading", name=lesson.title).first
        expect(heading).to_be_visible(timeout=LOAD_TIMEOUT)
    else:
        expect(frame_locator.locator("main .prose").first).to_be_visible(timeout=LOAD_TIMEOUT)
        # The tool's widgets rendered too: a button to act with.
        expect(frame_locator.locator("main button").first).to_be_visible(timeout=LOAD_TIMEOUT)
    expect(frame_locator.get_by_text("is unavailable right now")).to_have_count(0)


def app_frame(page, app_url):
    return next(f for f in page.frames if f.url.startswith(app_url))


def storage_state(page, app_url) -> str:
    """What demos/frame.js found: "browser" (real storage) or "memory" (the stand-in)."""
    return app_frame(page, app_url).evaluate("window.__courseStorage")


def test_storage_really_is_blocked_or_allowed(playwright_sync, tmp_path, site, app_url):
    """The two browsers differ as intended (a check of the test itself)."""
    seen = {}
    for mode in MODES:
        with browser_with(playwright_sync, tmp_path, mode) as context:
            # A value saved first-party, then read from inside the cross-site frame.
            first_party = context.new_page()
            first_party.goto(f"{app_url}/start")
            first_party.evaluate("localStorage.setItem('embed-probe', 'first-party')")
            page, frame_locator, _ = embed(context, site, app_url, "start")
            expect_loaded(frame_locator, "start")
            seen[mode] = (
                storage_state(page, app_url),
                app_frame(page, app_url).evaluate("localStorage.getItem('embed-probe')"),
            )
            page.close()
    assert seen == {"blocked": ("memory", None), "allowed": ("browser", "first-party")}


def test_every_page_loads_embedded_with_storage_blocked(playwright_sync, tmp_path, site, app_url):
    with browser_with(playwright_sync, tmp_path, "blocked") as context:
        for path in PAGES:
            page, frame_locator, errors = embed(context, site, app_url, path)
            expect_loaded(frame_locator, path)
            assert storage_state(page, app_url) == "memory", path
            assert not [e for e in errors if "localStorage" in e or "SecurityError" in e], errors
            if COURSE.lesson(path) is not None:
                expect(frame_locator.locator(NOTICE)).to_be_visible()
            page.close()
        # The whole course embedded, with a tab open from its address, loads too.
        page, frame_locator, errors = embed(context, site, app_url, "?tab=calculator")
        expect(
            frame_locator.locator('#course-tabs [role=tab][data-tab-id="calculator"]')
        ).to_have_attribute("aria-selected", "true", timeout=LOAD_TIMEOUT)
        expect(frame_locator.locator(NOTICE).first).to_be_visible()
        page.close()


def test_with_storage_blocked_progress_lasts_for_the_visit(
    playwright_sync, tmp_path, site, app_url
):
    lesson = COURSE.lesson("pytorch")
    item = lesson.quiz[0]
    with browser_with(playwright_sync, tmp_path, "blocked") as context:
        page, frame_locator, errors = embed(context, site, app_url, "pytorch")
        expect_loaded(frame_locator, "pytorch")
        notice = frame_locator.locator(NOTICE)
        expect(notice).to_contain_text("lasts until you leave or reload")
        question = frame_locator.locator(".quiz-question").first
        question.get_by_text(choice_label(item.choices[item.answer].text), exact=True).click()
        expect(question.locator(".prose.quiz-feedback")).to_contain_text("Right")
        expect(frame_locator.get_by_text(re.compile(r"quiz: 1/\d+ right"))).to_be_visible()
        assert not errors, errors
        page.close()


def test_pages_load_embedded_with_storage_allowed(playwright_sync, tmp_path, site, app_url):
    # Every lesson page uses the browser's storage; one tool page stands for the tools.
    paths = [les.id for les in COURSE.lessons] + [TOOLS[0].id]
    with browser_with(playwright_sync, tmp_path, "allowed") as context:
        for path in paths:
            page, frame_locator, errors = embed(context, site, app_url, path)
            expect_loaded(frame_locator, path)
            assert storage_state(page, app_url) == "browser"
            expect(frame_locator.locator(NOTICE)).to_be_hidden()
            assert not errors, errors
            page.close()


def readme_web_component_snippet() -> str:
    """The <gradio-app> snippet exactly as README.md gives it to course sites."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"```html\n(.*?)```", readme, re.DOTALL)
    return next(b for b in blocks if "<gradio-app" in b)


def web_component_module(app_url: str) -> str:
    """Where the app under test serves Gradio's web component (what gradio.js on the CDN imports).

    The test cannot reach the CDN; and a script fulfilled under the CDN's public address may not
    import from 127.0.0.1 (Chromium's local-network protection), so the snippet's script src is
    pointed at the app's own copy of the same module.
    """
    import gradio

    loader = (Path(gradio.__file__).parent / "templates" / "frontend" / "gradio.js").read_text()
    module = re.search(r'import\("\./(assets/[^"]+)"\)', loader).group(1)
    return f"{app_url}/{module}"


@pytest.mark.parametrize("script_loads", [False, True])
def test_readme_web_component_never_leaves_a_blank_gap(
    playwright_sync, app_url, site, script_loads
):
    snippet = readme_web_component_snippet().replace("https://OWNER-SPACE.hf.space", app_url)
    cdn = re.search(r'<script type="module" src="([^"]+)"', snippet).group(1)
    if script_loads:
        snippet = snippet.replace(cdn, web_component_module(app_url))
    # (One Playwright per module: this module's, not conftest's `browser`.)
    browser = playwright_sync.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    context = browser.new_context()
    page = context.new_page()
    page.route(lambda url: url == cdn, lambda route: route.abort())  # a blocked CDN
    # The course site: the README's snippet in a page of another origin.
    SITE_PAGES["/course.html"] = (
        f"<!doctype html><meta charset=utf-8><title>A course</title><h1>A course site</h1>{snippet}"
    )
    page.goto(f"{site}/course.html")
    fallback = page.locator(".gradio-fallback")
    if script_loads:
        title = COURSE.lesson("start").title
        expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=LOAD_TIMEOUT)
        expect(page.locator("#course-tabs [role=tab]").first).to_be_visible()
        expect(fallback).to_be_hidden()
        # The course inside someone else's page leaves that page's address alone.
        page.locator('#course-tabs [role=tab][data-tab-id="calculator"]').click()
        expect(page.locator('#course-tabs [role=tab][data-tab-id="calculator"]')).to_have_attribute(
            "aria-selected", "true"
        )
        assert page.url == f"{site}/course.html"
    else:
        expect(fallback).to_be_visible()
        link = fallback.get_by_role("link")
        expect(link).to_have_attribute("href", app_url)
    browser.close()
