"""Settings a Space duplicator may change, read from the environment in this one place.

| variable | default | meaning |
|---|---|---|
| TRAINING_LOOP_MAX_STEPS | 3000 | most steps one run may take (checked on the server) |
| TRAINING_LOOP_MAX_SECONDS | 20 | wall-clock limit of one run; it stops and says so |
| TRAINING_LOOP_CONCURRENCY | 2 | runs executing at once across all visitors; the rest wait in the queue |
| TRAINING_LOOP_FRAME_SECONDS | 0.12 | shortest time between two plot updates; paces short runs so the eye can follow |
"""

from __future__ import annotations

import os


def _int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return max(minimum, int(raw)) if raw else default
    except ValueError:
        return default


def _float(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return max(minimum, float(raw)) if raw else default
    except ValueError:
        return default


MAX_STEPS: int = _int("TRAINING_LOOP_MAX_STEPS", 3000, 1)
MAX_RUN_SECONDS: float = _float("TRAINING_LOOP_MAX_SECONDS", 20.0, 0.5)
CONCURRENCY_LIMIT: int = _int("TRAINING_LOOP_CONCURRENCY", 2, 1)
FRAME_SECONDS: float = _float("TRAINING_LOOP_FRAME_SECONDS", 0.12, 0.0)
