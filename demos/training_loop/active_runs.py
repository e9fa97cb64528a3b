"""Which visitor sessions have a run going, so that Stop can end a run cleanly from the inside.

Gradio's own cancel kills a streaming event from outside, and frames already on their way can
then land after the "stopped" message. A stop request here instead makes the run's loop end at
its next step and send a last frame that says so; the page's Stop waits for that frame.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class ActiveRuns:
    """Stop flags for the runs in progress, one per session key (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, threading.Event] = {}

    @contextmanager
    def track(self, key: str) -> Iterator[threading.Event]:
        """Register a run for ``key`` while the block runs; yields its stop flag."""
        stop = threading.Event()
        with self._lock:
            self._runs[key] = stop
        try:
            yield stop
        finally:
            with self._lock:
                if self._runs.get(key) is stop:
                    del self._runs[key]

    def is_running(self, key: str) -> bool:
        with self._lock:
            return key in self._runs

    def request_stop(self, key: str, wait_seconds: float = 2.0) -> bool:
        """Ask the run of ``key`` to stop and wait (at most ``wait_seconds``) until it has.

        Returns whether a run was going.
        """
        with self._lock:
            stop = self._runs.get(key)
        if stop is None:
            return False
        stop.set()
        deadline = time.monotonic() + wait_seconds
        while self.is_running(key) and time.monotonic() < deadline:
            time.sleep(0.02)
        return True


# One registry for the whole process: a session's Stop must reach that session's run,
# whichever worker thread runs it.
ACTIVE_RUNS = ActiveRuns()
