"""Turn each lesson's Markdown into a notebook under notebooks/ (like huggingface/course's
utils/generate_notebooks.py): a title, a setup cell that installs pinned versions, then the
lesson's Python code in order under short headings.

    python scripts/generate_notebooks.py           # write notebooks/*.ipynb
    python scripts/generate_notebooks.py --check   # exit 1 if a notebook is out of date

Every lesson (lessons/*.md) with Python code gets one, and so does every Markdown file in
lessons/notebooks/ (notebooks that belong to a lesson page, such as the worked example). The
wording of the generated cells is in notebooks/notebooks.yaml, the pinned versions come from
requirements.txt. Lessons stay the single source: a notebook is never edited by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from demos import yaml_io  # noqa: E402
from demos.course import Lesson, load_course, load_lesson  # noqa: E402

LESSONS_DIR = ROOT / "lessons"
EXTRA_DIR = LESSONS_DIR / "notebooks"
NOTEBOOKS_DIR = ROOT / "notebooks"
CONFIG_PATH = NOTEBOOKS_DIR / "notebooks.yaml"
REQUIREMENTS = ROOT / "requirements.txt"

_HEADING = re.compile(r"^(#{2,3}) +(.+?)\s*$", re.MULTILINE)
_IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", re.MULTILINE)
_PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)", re.MULTILINE)
_DETAILS = re.compile(r"<details>.*?</details>\s*", re.DOTALL)
_FENCED = re.compile(r"^```[^\n]*\n.*?^```\s*$", re.DOTALL | re.MULTILINE)
_TAB_LINK = re.compile(r"\[([^\]]+)\]\(\?tab=[^)]*\)")  # a link to a tab of the course page


@dataclass(frozen=True)
class Source:
    """A Markdown file that becomes a notebook, and the lesson page that links to it."""

    lesson: Lesson
    page_id: str  # the lesson page showing its links
    # A lesson's notebook has its code under short headings (the prose is on the page); a file
    # of lessons/notebooks/ is a notebook first, so all of its text goes into the notebook.
    prose: bool = False
    base: Path = ROOT  # paths in the notebook are shown relative to this folder

    @property
    def name(self) -> str:
        return self.lesson.path.stem + ".ipynb"

    @property
    def relative_path(self) -> str:
        return self.lesson.path.resolve().relative_to(self.base.resolve()).as_posix()


def load_config(path: Path = CONFIG_PATH) -> dict:
    return yaml_io.safe_load(path.read_text(encoding="utf-8"))


def pinned_versions(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """``name==version`` lines of requirements.txt, keyed by lower-case name."""
    text = requirements.read_text(encoding="utf-8")
    return {name.lower(): version for name, version in _PIN.findall(text)}


def sources(lessons_dir: Path = LESSONS_DIR) -> list[Source]:
    """Every lesson with Python code, then every extra notebook source, in order."""
    base = lessons_dir.parent
    found = [
        Source(lesson, lesson.id, base=base)
        for lesson in load_course(lessons_dir).lessons
        if lesson.code_blocks
    ]
    for path in sorted((lessons_dir / "notebooks").glob("*.md")):
        extra = load_lesson(path)
        page = yaml_io.safe_load(path.read_text(encoding="utf-8").split("\n---", 1)[0][4:])
        found.append(Source(extra, str(page.get("lesson", extra.id)), prose=True, base=base))
    return found


def _headings_before(body: str, position: int) -> list[tuple[int, str]]:
    """The chain of headings (level, text) in force at ``position`` of the body."""
    chain: list[tuple[int, str]] = []
    for match in _HEADING.finditer(body, 0, position):
        level = len(match.group(1))
        chain = [h for h in chain if h[0] < level] + [(level, match.group(2))]
    return chain


def _block_starts(lesson: Lesson) -> list[int]:
    """Offsets in the body where each Python block's code begins."""
    line_offsets = [0] + [i + 1 for i, ch in enumerate(lesson.body) if ch == "\n"]
    return [line_offsets[block.line - 1] for block in lesson.code_blocks]


def _section_text(body: str, position: int) -> str:
    """The Markdown from the last heading before ``position`` up to it (folded parts removed)."""
    heading = None
    for match in _HEADING.finditer(body, 0, position):
        heading = match
    text = body[heading.end() if heading else 0 : position]
    text = text[: text.rfind("```")] if "```" in text else text
    return _DETAILS.sub("", text).strip()


def _file_line(lesson: Lesson, body_line: int) -> int:
    text = lesson.path.read_text(encoding="utf-8").replace("\r\n", "\n")
    return text[: text.index(lesson.body)].count("\n") + body_line


def _pinned(lesson: Lesson, config: dict, versions: dict[str, str]) -> dict[str, str]:
    imported = {
        name
        for block in lesson.code_blocks
        if block.runnable
        for name in _IMPORT.findall(block.code)
    }
    pins = {}
    for module, requirement in config["pinned_imports"].items():
        if module in imported:
            version = versions.get(requirement.lower())
            if version is None:
                raise SystemExit(f"requirements.txt pins no version of {requirement}")
            pins[requirement] = version
    return dict(sorted(pins.items()))


def build_notebook(source: Source, config: dict, versions: dict[str, str]) -> nbformat.NotebookNode:
    """The notebook for one source, deterministic (stable cell ids) so that it can be diffed."""
    lesson = source.lesson
    stem = lesson.path.stem
    cells: list[nbformat.NotebookNode] = []

    def markdown(text: str) -> None:
        cells.append(nbformat.v4.new_markdown_cell(text.strip(), id=f"{stem}-{len(cells):02d}"))

    def code(text: str, metadata: dict | None = None) -> None:
        cell = nbformat.v4.new_code_cell(text.rstrip("\n"), id=f"{stem}-{len(cells):02d}")
        cell.metadata.update(metadata or {})
        cells.append(cell)

    intro = config["intro_extra" if source.prose else "intro"]
    markdown(intro.format(title=lesson.title, summary=lesson.summary, source=source.relative_path))
    markdown(config["gpu_note"] if lesson.gpu else config["cpu_note"])
    markdown(config["setup_heading"])
    pins = _pinned(lesson, config, versions)
    code(config["setup_cell"].format(pinned=json.dumps(pins)))
    if lesson.gpu:
        code(config["gpu_check"].format())

    shown: list[tuple[int, str]] = []
    starts = _block_starts(lesson)
    previous_end = 0
    for block, start in zip(lesson.code_blocks, starts):
        if source.prose:
            text = lesson.body[previous_end:start]
            text = text[: text.rfind("```")]  # up to this block's opening fence
            text = _TAB_LINK.sub(r"\1", text).strip()
            if text:
                markdown(text)
            previous_end = start + len(block.code) + len("```")
        else:
            chain = _headings_before(lesson.body, start)
            for level, text in [h for h in chain if h not in shown]:
                markdown(f"{'#' * level} {text}")
            shown = chain
        metadata = {
            "course": {"source": source.relative_path, "line": _file_line(lesson, block.line)}
        }
        if block.kind == "no-run":
            markdown(config["no_run"].format(reason=block.note, code=block.code.rstrip("\n")))
        elif block.kind == "exercise":
            markdown(f"**{config['exercise_heading']}.** " + _section_text(lesson.body, start))
            code(block.code, metadata)
        elif block.kind == "solution":
            metadata.update({"cellView": "form", "jupyter": {"source_hidden": True}})
            title = f"# @title {block.note}" if block.note else config["solution_title"]
            code(f"{title}\n{block.code}", metadata)
        else:
            code(block.code, metadata)

    if source.prose:
        tail = _TAB_LINK.sub(r"\1", lesson.body[previous_end:]).strip()
        if tail:
            markdown(tail)

    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.update(
        {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            # Colab and Kaggle read these: a GPU notebook opens with a T4 runtime selected.
            "colab": {"provenance": [], **({"gpuType": "T4"} if lesson.gpu else {})},
            **({"accelerator": "GPU"} if lesson.gpu else {}),
            "kaggle": {
                "accelerator": "nvidiaTeslaT4" if lesson.gpu else "none",
                "isInternetEnabled": True,
                "language": "python",
                "sourceType": "notebook",
                "isGpuEnabled": lesson.gpu,
            },
            # Read by the course page to list and link this notebook (demos/notebook_links.py).
            "course": {
                "source": source.relative_path,
                "page": source.page_id,
                "title": lesson.title,
                "gpu": lesson.gpu,
                "order": lesson.order,
                # Its code downloads data from the course Space: the page says which one.
                "needs_course_space": any("COURSE_SPACE" in b.code for b in lesson.code_blocks),
            },
        }
    )
    return notebook


def render(notebook: nbformat.NotebookNode) -> str:
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def expected_notebooks(lessons_dir: Path = LESSONS_DIR) -> dict[str, str]:
    """File name -> the notebook text the current lessons produce."""
    config, versions = load_config(), pinned_versions()
    return {
        source.name: render(build_notebook(source, config, versions))
        for source in sources(lessons_dir)
    }


def stale_notebooks(
    notebooks_dir: Path | None = None, lessons_dir: Path = LESSONS_DIR
) -> list[str]:
    """Notebooks that are missing, differ from their lesson, or belong to no lesson any more."""
    notebooks_dir = notebooks_dir or NOTEBOOKS_DIR
    expected = expected_notebooks(lessons_dir)
    stale = [
        name
        for name, text in expected.items()
        if not (notebooks_dir / name).exists()
        or (notebooks_dir / name).read_text(encoding="utf-8") != text
    ]
    stale += [p.name for p in sorted(notebooks_dir.glob("*.ipynb")) if p.name not in expected]
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report out-of-date notebooks")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_notebooks()
        for name in stale:
            print(f"out of date: notebooks/{name}")
        return 1 if stale else 0
    expected = expected_notebooks()
    for name, text in expected.items():
        path = NOTEBOOKS_DIR / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote notebooks/{name}")
    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        if path.name not in expected:
            path.unlink()
            print(f"removed notebooks/{path.name} (its lesson is gone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
