"""Fine-tune in place: who may replace the model everyone is served, and visitors' own models.

On a public Space, a visitor's *Fine-tune now* trains a model for that visitor's session only:
the others keep the Space's model, and the visitor's folder is deleted when the session ends
(the browser tab closes), after ``ADVICE_SESSION_TTL`` seconds without use (API clients never
say goodbye), or when more than ``ADVICE_SESSION_MODELS`` sessions hold one (oldest first).
Replacing the served model is for the Space's owner, signed in with Hugging Face, or for
everyone on a duplicate that sets ``ADVICE_REPLACE_MODEL=anyone``. No Gradio here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from demos.advice import background
from demos.advice.background import TrainingBusy
from demos.advice.config import served_classifier, settings

__all__ = ["TrainingBusy", "may_replace_served", "model_for", "sessions"]


def owners() -> set[str]:
    """Hub usernames that own this Space: the Space's author (set by Spaces) and ADVICE_OWNERS."""
    names = set(settings().owners)
    author = os.environ.get("SPACE_AUTHOR_NAME", "").strip()
    if author:
        names.add(author)
    return names


def may_replace_served(username: str | None) -> bool:
    """True when this caller's fine-tune may replace the model every visitor is served."""
    if settings().replace_model == "anyone":
        return True
    return bool(username) and username in owners()


@dataclass
class SessionModel:
    folder: Path
    last_used: float


class SessionModels:
    """Visitors' own fine-tuned models, one folder per session, bounded in number and age."""

    def __init__(self, root: Path | None = None):
        self._root = root
        self._lock = threading.Lock()
        self._models: dict[str, SessionModel] = {}

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="advice-sessions-"))
        return self._root

    def new_folder(self, session: str) -> Path:
        """Where this session's next fine-tune goes (its old model, if any, stays until then)."""
        safe = "".join(c for c in session if c.isalnum())[:32] or "anonymous"
        return self.root / safe / "model"

    def add(self, session: str, folder: Path) -> None:
        """Record a finished fine-tune of ``session``; evict the oldest beyond the limit."""
        with self._lock:
            old = self._models.get(session)
            self._models[session] = SessionModel(Path(folder), time.monotonic())
        if old is not None and old.folder != Path(folder):
            _delete(old.folder)
        self.expire()

    def model_of(self, session: str | None) -> str | None:
        """The session's own model folder (and note its use), or None."""
        self.expire()
        if not session:
            return None
        with self._lock:
            entry = self._models.get(session)
            if entry is None or not (entry.folder / "config.json").exists():
                return None
            entry.last_used = time.monotonic()
            return str(entry.folder)

    def free(self, session: str | None) -> bool:
        """Delete the session's model (its browser tab closed); True if there was one."""
        with self._lock:
            entry = self._models.pop(session or "", None)
        if entry is None:
            return False
        _delete(entry.folder)
        return True

    def expire(self) -> None:
        """Drop models unused for ``ADVICE_SESSION_TTL`` s, then the oldest beyond the limit."""
        current = settings()
        now = time.monotonic()
        dropped: list[Path] = []
        with self._lock:
            for session, entry in list(self._models.items()):
                if now - entry.last_used > current.session_ttl_s:
                    dropped.append(self._models.pop(session).folder)
            by_age = sorted(self._models, key=lambda s: self._models[s].last_used)
            for session in by_age[: max(0, len(by_age) - current.session_models)]:
                dropped.append(self._models.pop(session).folder)
        for folder in dropped:
            _delete(folder)

    def __len__(self) -> int:
        with self._lock:
            return len(self._models)


def _delete(folder: Path) -> None:
    from demos import hub

    hub.clear_cache(str(folder))
    shutil.rmtree(folder.parent if folder.name == "model" else folder, ignore_errors=True)


sessions = SessionModels()


def model_for(session: str | None) -> str | None:
    """The classifier a session is served: its own fine-tune if it has one, else the Space's."""
    return sessions.model_of(session) or served_classifier()


def start_fine_tune(session: str | None, username: str | None) -> tuple[background.Job, bool]:
    """Start a visitor's fine-tune; returns (the run, whether it replaces the served model).

    Raises :class:`TrainingBusy` while any run (the Space's own included) is going on.
    """
    if may_replace_served(username):
        return background.start(settings().output_dir, "owner"), True
    key = session or "anonymous"
    folder = sessions.new_folder(key)

    def remember(job: background.Job) -> None:
        if job.state == "done":
            sessions.add(key, job.output)

    return background.start(folder, "visitor", on_done=remember), False
