"""Regenerate the screenshot gallery in docs/screens/: every page of the Space (the course, and
each lesson and tool on its own page) at 1280x800 and 390x844, light and dark, as a visitor sees
it on arrival, plus docs/screens/README.md, the gallery's index.

    .venv/bin/python scripts/screenshots.py            # all of them (about two minutes)
    .venv/bin/python scripts/screenshots.py pytorch    # only some pages ("course" is the app)

It starts the app (``python app.py``, offline, on a free port) and drives Debian's Chromium with
Playwright, like the browser tests.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import TOOLS  # noqa: E402
from demos.course import load_course  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.servers import free_port, serving  # noqa: E402

OUT = ROOT / "docs" / "screens"
WIDTHS = {1280: 800, 390: 844}
THEMES = ("light", "dark")


def pages() -> list[tuple[str, str, str]]:
    """(name, path, title) for the course and each page of its own."""
    course = load_course()
    found = [("course", "/", "The course (Start here open)")]
    found += [(les.id, f"/{les.id}", les.title) for les in course.lessons]
    found += [(tool.id, f"/{tool.id}", tool.title) for tool in TOOLS]
    return found


def settle(page) -> None:
    """Content drawn, no event still running, frame.js's tidy-up done."""
    page.locator("main .prose:visible").first.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=status-tracker]:not(.hide)')",
        timeout=60_000,
    )
    page.evaluate("document.fonts.ready")
    page.wait_for_timeout(800)


def save_small(png: bytes, target: Path) -> None:
    """A 128-colour PNG: a third of the size, and text stays sharp (no dithering)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        target, optimize=True
    )


def shoot(url: str, selected: list[tuple[str, str, str]]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for width, height in WIDTHS.items():
            for theme in THEMES:
                context = browser.new_context(
                    viewport={"width": width, "height": height}, color_scheme=theme
                )
                page = context.new_page()
                for name, path, _ in selected:
                    page.goto(f"{url}{path}?__theme={theme}")
                    settle(page)
                    target = OUT / f"{name}-{width}-{theme}.png"
                    save_small(page.screenshot(animations="disabled"), target)
                    written.append(target)
                    print(f"{target.relative_to(ROOT)}", flush=True)
                context.close()
        browser.close()
    return written


def index(all_pages: list[tuple[str, str, str]]) -> str:
    lines = [
        "# What the Space looks like",
        "",
        "Every page as a visitor first sees it, at 1280x800 and 390x844, light and dark.",
        "Regenerate with `.venv/bin/python scripts/screenshots.py` (it starts the app itself).",
        "",
    ]
    for name, path, title in all_pages:
        lines += [f"## {title} (`{path}`)", ""]
        cells = []
        for width in WIDTHS:
            for theme in THEMES:
                file = f"{name}-{width}-{theme}.png"
                shown = 360 if width > 400 else 180
                cells.append(
                    f'<a href="{file}"><img src="{file}" width="{shown}" '
                    f'alt="{title}, {width} px wide, {theme}"></a>'
                )
        lines += [" ".join(cells), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="page names to redo (default: all)")
    args = parser.parse_args()
    all_pages = pages()
    unknown = set(args.only) - {name for name, _, _ in all_pages}
    if unknown:
        parser.error(f"unknown page(s): {', '.join(sorted(unknown))}")
    selected = [p for p in all_pages if not args.only or p[0] in args.only]
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "app.log"
        with serving(
            [sys.executable, "app.py"], ready_url=url + "/config", log_path=log, env=env, cwd=ROOT
        ):
            shoot(url, selected)
    (OUT / "README.md").write_text(index(all_pages))
    print(f"{(OUT / 'README.md').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
