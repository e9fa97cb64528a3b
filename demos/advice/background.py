"""Run the project's training script in another process, at low priority, and follow it.

The Space trains its own classifier this way on first start (``python -m demos.advice.train``
with the CPU recipe, ``os.nice`` and one torch thread, so the page stays responsive), and a
visitor's fine-tune runs the same way. One run at a time: two cores do not train twice at once.

A run writes into a folder next to its target and is moved into place only when it succeeded,
so a crash, a restart or a full disk never leaves half a model where the Space serves from.
No Gradio here; :mod:`demos.advice.ui` shows :func:`JobStatus` in the tab.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from demos.advice.config import CPU_RECIPE, ROOT, hide_paths, settings

log = logging.getLogger("course.advice")
#: Written next to a model the Space trained itself: what it was trained from (see fingerprint()).
STAMP = "space-training.json"


class TrainingBusy(ValueError):
    """A training run is already going on; only one runs at a time."""


@dataclass(frozen=True)
class JobStatus:
    state: str  # "idle", "running", "done" or "failed"
    fraction: float = 0.0
    message: str = ""
    elapsed_s: float = 0.0
    purpose: str = ""  # "space" (the Space's own model) or "visitor"
    output: str = ""
    error: str = ""

    @property
    def running(self) -> bool:
        return self.state == "running"

    def remaining_s(self) -> float | None:
        """A rough estimate from the pace so far (None until the run has made some progress)."""
        if self.state != "running" or self.fraction < 0.1 or self.elapsed_s < 5:
            return None
        return self.elapsed_s * (1 - self.fraction) / self.fraction


def recipe(epochs: int | None = None) -> list[str]:
    """The training script's arguments for a run on this Space (without ``--output``)."""
    current = settings()
    return [
        "--model",
        current.base_model,
        *CPU_RECIPE,
        "--epochs",
        str(epochs or current.train_epochs),
        "--time-limit",
        f"{current.train_time_limit_s:g}",
        *current.train_args,
    ]


def fingerprint(arguments: list[str]) -> str:
    """What a model was trained from: the recipe and the project's data files, hashed.

    A model the Space trained from other data or another recipe (an older version of the
    project) is retrained in the background; the old one is served until the new one is ready.
    """
    from demos.advice.dataset import training_files

    digest = hashlib.sha256(json.dumps(arguments).encode())
    for path in training_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class Job:
    """One run of ``python -m demos.advice.train`` in a child process."""

    def __init__(self, output: Path, arguments: list[str], purpose: str, on_done=None):
        self.output = Path(output)
        self.arguments = arguments
        self.purpose = purpose
        self.on_done: Callable[[Job], None] | None = on_done
        self.started = time.monotonic()
        self.finished: float | None = None
        self.state = "running"
        self.error = ""
        self.output.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(self.output)
        self.workdir = Path(
            tempfile.mkdtemp(prefix=f".{self.output.name}.training-", dir=self.output.parent)
        )
        self.partial = self.workdir / "model"
        self.progress_file = self.workdir / "progress.json"
        self.log_file = self.workdir / "train.log"
        threads = str(settings().train_threads)
        env = {
            **os.environ,
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable,
            "-m",
            "demos.advice.train",
            *arguments,
            "--output",
            str(self.partial),
            "--progress-file",
            str(self.progress_file),
            "--stop-with-parent",
        ]
        with open(self.log_file, "w") as log_stream:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log_stream, stderr=subprocess.STDOUT
            )
        try:  # before the child has started any thread: every thread it makes inherits it
            os.setpriority(os.PRIO_PROCESS, self.process.pid, settings().train_nice)
        except OSError:
            pass
        self._watcher = threading.Thread(target=self._watch, name="advice-training", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        code = self.process.wait()
        try:
            if code == 0 and (self.partial / "config.json").exists():
                (self.partial / STAMP).write_text(
                    json.dumps({"fingerprint": fingerprint(self.arguments), "time": time.time()})
                )
                _publish(self.partial, self.output)
                self.state = "done"
            else:
                self.error = _failure_sentence(self.log_file, code)
                self.state = "failed"
                log.warning("advice: a training run failed: %s", self.error)
        except OSError as error:  # a full disk or a vanished folder: a sentence, never a crash
            self.error = f"The trained model could not be saved ({error.strerror or error})."
            self.state = "failed"
        finally:
            self.finished = time.monotonic()
            shutil.rmtree(self.workdir, ignore_errors=True)
            from demos import hub

            hub.clear_cache(self.output)
            if self.on_done is not None:
                try:
                    self.on_done(self)
                except Exception:  # a caller's hook must not hide the run's own outcome
                    log.exception("advice: on_done hook failed")

    def status(self) -> JobStatus:
        fraction, message = 0.0, "Starting the training script"
        if self.state == "running":
            try:
                progress = json.loads(self.progress_file.read_text())
                fraction = float(progress["fraction"])
                message = hide_paths(str(progress["message"]))
            except (OSError, ValueError, KeyError):
                pass
        elif self.state == "done":
            fraction, message = 1.0, "Done"
        else:
            message = "Training failed"
        end = self.finished or time.monotonic()
        return JobStatus(
            self.state,
            fraction,
            message,
            end - self.started,
            self.purpose,
            str(self.output),
            self.error,
        )

    def wait(self, timeout_s: float | None = None) -> JobStatus:
        """Block until the run has ended and been published (tests, benchmarks)."""
        self._watcher.join(timeout_s)
        return self.status()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()


def _publish(partial: Path, output: Path) -> None:
    """Move a finished model into place; the old one (if any) goes only once the new one is there."""
    old = None
    if output.exists():
        old = output.with_name(f".{output.name}.old-{os.getpid()}-{time.time_ns()}")
        output.rename(old)
    partial.rename(output)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(output: Path) -> None:
    """Folders of runs that a restart interrupted (nothing of theirs is served)."""
    for pattern in (f".{output.name}.training-*", f".{output.name}.old-*"):
        for leftover in output.parent.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)


def _failure_sentence(log_file: Path, code: int) -> str:
    """The script's own ``error: ...`` line when it wrote one (no paths), else the exit code."""
    try:
        lines = log_file.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    for line in reversed(lines):
        if line.startswith("error: "):
            return hide_paths(line.removeprefix("error: "))
    if code < 0:
        return "The training process was stopped."
    last = next((line for line in reversed(lines) if line.strip()), "")
    kind = last.split(":", 1)[0] if last and " " not in last.split(":", 1)[0] else ""
    return f"The training script stopped with exit code {code}" + (f" ({kind})." if kind else ".")


# ----------------------------------------------------------------------------- the one run

_lock = threading.Lock()
_job: Job | None = None  # the latest run, whoever started it
_space_job: Job | None = None  # the latest run that trains the Space's own model
_space_error = ""  # why the Space's own run could not even start


def start(
    output: str | Path,
    purpose: str,
    epochs: int | None = None,
    on_done: Callable[[Job], None] | None = None,
) -> Job:
    """Start a run that writes ``output``; :class:`TrainingBusy` if another one is running."""
    global _job, _space_job
    with _lock:
        if _job is not None and _job.state == "running":
            whose = "its own classifier" if _job.purpose == "space" else "a fine-tune"
            raise TrainingBusy(
                f"This Space is training {whose} right now (one run at a time on its CPU). "
                "Try again when it has finished."
            )
        _job = Job(Path(output), recipe(epochs), purpose, on_done)
        if purpose == "space":
            _space_job = _job
        return _job


def current() -> Job | None:
    """The latest run (running or finished), if any."""
    return _job


def space_status() -> JobStatus:
    """How the Space's own classifier is doing: its latest run, or why none could start."""
    if _space_job is not None:
        return _space_job.status()
    if _space_error:
        return JobStatus("failed", error=_space_error, purpose="space")
    return JobStatus("idle", purpose="space")


def needs_training() -> bool:
    """True when the Space should train its own model: background training is on, no
    ``ADVICE_MODEL`` is set, and the output folder holds no model, or one trained by the Space
    from other data or another recipe."""
    current = settings()
    if current.classifier or not current.background_training:
        return False
    output = Path(current.output_dir)
    if not (output / "config.json").exists():
        return True
    try:
        stamp = json.loads((output / STAMP).read_text())
    except (OSError, ValueError):
        return False  # a model put there by hand (or by the command line): the owner's choice
    return stamp.get("fingerprint") != fingerprint(recipe())


def start_space_training() -> Job | None:
    """Start training the Space's own classifier if it needs one and nothing else runs."""
    if not needs_training():
        return None
    try:
        return start(settings().output_dir, "space")
    except TrainingBusy:
        return None
    except OSError as error:  # read-only disk, no room: the tab says so, the Space keeps going
        global _space_error
        _space_error = f"The Space could not start training ({error.strerror or error})."
        log.warning("advice: background training could not start: %s", error)
        return None


_scheduled = threading.Event()
_first_page = threading.Event()


def first_page_served() -> None:
    """A page has been loaded: background training may start now (see schedule_first_start)."""
    _first_page.set()


def schedule_first_start(is_serving: Callable[[], bool], delay_s: float = 5.0) -> bool:
    """Once the server answers, start the Space's own training after the first page has been
    served or after ``delay_s`` seconds, whichever comes first. Does this once per process;
    returns False if it was scheduled already."""
    if _scheduled.is_set():
        return False
    _scheduled.set()

    def wait_then_start() -> None:
        deadline = time.monotonic() + 600
        while not is_serving():
            if time.monotonic() > deadline:
                return
            time.sleep(0.25)
        _first_page.wait(delay_s)
        start_space_training()

    threading.Thread(target=wait_then_start, name="advice-first-start", daemon=True).start()
    return True
