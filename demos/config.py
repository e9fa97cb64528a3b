"""Settings of the Space itself, read once from the environment (each is documented in README.md).

Tools keep their own settings in their packages (e.g. ``demos/lab/config.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def space_id_from(environ) -> str:
    """SPACE_ID (set by Spaces) wins; COURSE_SPACE_ID names a Space when running elsewhere."""
    return environ.get("SPACE_ID") or environ.get("COURSE_SPACE_ID", "")


@dataclass(frozen=True)
class Settings:
    lessons_dir: Path
    mcp_server: bool
    css_path: Path
    # The Space whose repository the lesson notebooks are opened from: Spaces set SPACE_ID, so a
    # duplicate links to its own copy; COURSE_SPACE_ID names one when the course runs elsewhere.
    space_id: str


settings = Settings(
    lessons_dir=Path(os.environ.get("COURSE_LESSONS_DIR", ROOT / "lessons")),
    mcp_server=env_flag("COURSE_MCP_SERVER", True),
    css_path=ROOT / "demos" / "course.css",
    space_id=space_id_from(os.environ),
)
