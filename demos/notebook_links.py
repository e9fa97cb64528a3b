"""Links from a lesson page to its notebooks: Open in Colab, Open in Kaggle, Download.

The notebooks live in the Space's own repository (``notebooks/``), so the links are built from
the Space's ID: a duplicate of the course links to its own copy. Colab opens a notebook stored
on the Hub from its ``blob`` address (``#fileId=``, the form of the Hub's own "Open in Colab"
button); Kaggle imports one from its raw ``resolve`` address (``kernels/welcome?src=``). Without
a Space ID only the download link is offered. Pure: no Gradio import.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
_SPACE_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
REVISION = "main"


@dataclass(frozen=True)
class Notebook:
    name: str  # file name under notebooks/
    title: str
    page: str  # the lesson page that lists it
    gpu: bool
    order: int
    path: Path
    needs_course_space: bool = False

    @property
    def repo_path(self) -> str:
        return f"notebooks/{self.name}"


def valid_space_id(space_id: str | None) -> str | None:
    """``owner/name`` if ``space_id`` looks like a Space ID, else None."""
    space_id = (space_id or "").strip()
    return space_id if _SPACE_ID.match(space_id) else None


def colab_url(space_id: str, repo_path: str) -> str:
    return (
        "https://colab.research.google.com/#fileId=https%3A//huggingface.co/spaces/"
        f"{space_id}/blob/{REVISION}/{repo_path}"
    )


def kaggle_url(space_id: str, repo_path: str) -> str:
    return (
        "https://kaggle.com/kernels/welcome?src=https://huggingface.co/spaces/"
        f"{space_id}/resolve/{REVISION}/{repo_path}"
    )


def download_url(notebook: Notebook) -> str:
    """Relative to the page, so it works on a lesson's own page and in an embed too."""
    return f"gradio_api/file={notebook.path}"


def load_notebooks(directory: Path = NOTEBOOKS_DIR) -> list[Notebook]:
    """Every generated notebook, from the metadata the generator writes into it."""
    found = []
    for path in sorted(directory.glob("*.ipynb")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]["course"]
            found.append(
                Notebook(
                    path.name,
                    meta["title"],
                    meta["page"],
                    bool(meta["gpu"]),
                    int(meta["order"]),
                    path,
                    bool(meta.get("needs_course_space", False)),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not one of ours: no link rather than a broken page
    return sorted(found, key=lambda nb: (nb.order, nb.name))


def notebooks_for_page(page_id: str, directory: Path = NOTEBOOKS_DIR) -> list[Notebook]:
    return [nb for nb in load_notebooks(directory) if nb.page == page_id]
