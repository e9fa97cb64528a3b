"""Fine-tune the classifier in place (on the Space's own CPU), one run at a time, then serve it."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from demos.advice.config import settings

_run_lock = threading.Lock()


class TrainingBusy(ValueError):
    """Another visitor's fine-tune is running; only one runs at a time."""


@dataclass(frozen=True)
class TrainingUpdate:
    fraction: float
    message: str
    finished: bool = False
    test_accuracy: float | None = None
    confusion_matrix: list[list[int]] | None = None
    output_dir: str | None = None
    error: str | None = None


def fine_tune_in_place(
    epochs: int | None = None, time_limit_s: float | None = None, poll_s: float = 0.5
) -> Iterator[TrainingUpdate]:
    """Run the project's training script in a worker thread and stream its progress.

    Bounded by ``ADVICE_TRAIN_EPOCHS`` and ``ADVICE_TRAIN_TIME_LIMIT`` (or the arguments); the
    model lands in ``ADVICE_OUTPUT_DIR``, where :func:`demos.advice.config.served_classifier`
    finds it. Raises :class:`TrainingBusy` if a run is already going on.
    """
    if not _run_lock.acquire(blocking=False):
        raise TrainingBusy("A fine-tune is already running here. Wait for it to finish.")
    try:
        from demos.advice.train import TrainConfig, train

        current = settings()
        config = TrainConfig(
            model=current.base_model,
            output=current.output_dir,
            epochs=epochs or current.train_epochs,
            time_limit_s=time_limit_s or current.train_time_limit_s,
            quiet=True,
            # The CPU recipe (about a minute an epoch on 2 cores, see bench/results/advice_cpu.md):
            # short posts, a higher learning rate, the lowest three layers kept fixed.
            max_length=64,
            learning_rate=1e-4,
            freeze_layers=3,
        )
        updates: queue.Queue = queue.Queue()
        outcome: dict = {}

        def work() -> None:
            try:
                outcome["result"] = train(
                    config, progress=lambda f, text: updates.put(TrainingUpdate(f, text))
                )
            except Exception as error:  # reported to the visitor as a sentence below
                outcome["error"] = error

        worker = threading.Thread(target=work, name="advice-fine-tune", daemon=True)
        worker.start()
        last = TrainingUpdate(0.0, "Starting")
        while worker.is_alive() or not updates.empty():
            try:
                last = updates.get(timeout=poll_s)
            except queue.Empty:
                pass
            yield last
        worker.join()
        if "error" in outcome:
            error = outcome["error"]
            yield TrainingUpdate(
                last.fraction, "Fine-tuning failed.", True, error=f"{type(error).__name__}: {error}"
            )
            return
        result = outcome["result"]
        note = " (stopped at the time limit)" if result.stopped_early else ""
        yield TrainingUpdate(
            1.0,
            f"Done in {result.wall_time_s:.0f} s{note}: test accuracy {result.test_accuracy:.1%}.",
            True,
            result.test_accuracy,
            result.confusion_matrix,
            result.output_dir,
        )
    finally:
        _run_lock.release()


def is_training() -> bool:
    """True while an in-place fine-tune runs."""
    if _run_lock.acquire(blocking=False):
        _run_lock.release()
        return False
    return True


def wait_until_idle(timeout_s: float = 600) -> bool:
    """Block until no fine-tune runs (tests); False on timeout."""
    deadline = time.monotonic() + timeout_s
    while is_training():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
