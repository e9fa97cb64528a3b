"""Execute the generated training script and stream what happens, frame by frame.

The lab does not re-implement the loop: it compiles the script text from ``script`` and runs
its ``train()`` generator, so the page's losses are the losses of the code it shows. Between
steps it only reads (never changes) the model, to draw gradients and the learned curve.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from demos.training_loop import config
from demos.training_loop.loop_config import LoopConfig
from demos.training_loop.script import SCRIPT_FILENAME, render_script

TARGET_FRAMES = 12
# Even a slow run updates the plot at least this often.
MAX_SECONDS_BETWEEN_FRAMES = 0.25
CURVE_POINTS = 90

# The script seeds torch's global generator before building the model; two runs starting at
# the same moment must not interleave there, or one would get the other's starting weights.
_SCRIPT_START_LOCK = threading.Lock()


@dataclass(frozen=True)
class FitView:
    """What the model has learned so far, in the data's own coordinates.

    Regression: ``data_x/data_y`` are the samples and ``curve_x/curve_y`` the model's curve.
    Classification: ``data_x/data_y`` are the two input features, ``labels`` the true class
    and ``predicted`` the model's class for each point.
    """

    data_x: list[float]
    data_y: list[float]
    curve_x: list[float] = field(default_factory=list)
    curve_y: list[float] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    predicted: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """How a run ended and what it showed; enough for the page to explain it."""

    status: str  # "finished", "diverged", "crashed", "time_limit", "stopped"
    steps_done: int
    device: str
    first_loss: float | None
    final_loss: float | None
    diverged_at: int | None = None
    error: str | None = None
    device_error_demo: str | None = None
    weight_change: dict[str, float] = field(default_factory=dict)
    frozen_parameters: tuple[str, ...] = ()
    first_grad_norm: float | None = None
    last_grad_norm: float | None = None
    accuracy: float | None = None
    loss_rose: bool = False  # the last tenth of the run ended above where it started
    seconds: float = 0.0


@dataclass(frozen=True)
class Frame:
    """One update of the page: the curves so far, and the outcome on the last frame."""

    steps_done: int
    total_steps: int
    losses: list[float]
    grad_norms: list[float]
    fit: FitView | None
    outcome: Outcome | None = None


def _gradient_norm(model) -> float:
    """Total L2 norm of all parameter gradients, as they are right after the optimizer step."""
    import torch

    with torch.no_grad():
        norms = [p.grad.norm() for p in model.parameters() if p.grad is not None]
        return float(torch.linalg.vector_norm(torch.stack(norms))) if norms else 0.0


def _fit_view(cfg: LoopConfig, model, x, y) -> FitView:
    import torch

    with torch.no_grad():
        x_cpu, y_cpu = x.detach().cpu(), y.detach().cpu()
        device = next(model.parameters()).device
        if cfg.task == "regression":
            grid = torch.linspace(float(x_cpu.min()), float(x_cpu.max()), CURVE_POINTS).unsqueeze(1)
            curve = model(grid.to(device)).cpu()
            return FitView(
                data_x=x_cpu[:, 0].tolist(),
                data_y=y_cpu[:, 0].tolist(),
                curve_x=grid[:, 0].tolist(),
                curve_y=curve[:, 0].tolist(),
            )
        predicted = model(x_cpu.to(device)).argmax(dim=1).cpu()
        return FitView(
            data_x=x_cpu[:, 0].tolist(),
            data_y=x_cpu[:, 1].tolist(),
            labels=y_cpu.tolist(),
            predicted=predicted.tolist(),
        )


def _accuracy(model, x, y) -> float:
    import torch

    with torch.no_grad():
        device = next(model.parameters()).device
        predicted = model(x.to(device)).argmax(dim=1).cpu()
        return float((predicted == y.cpu()).float().mean())


def _loss_rose(losses: list[float]) -> bool:
    """Whether the loss ended higher than the untrained model's (mean of the last tenth vs step 0)."""
    if len(losses) < 20:
        return False
    tail = losses[-max(5, len(losses) // 10) :]
    return sum(tail) / len(tail) > losses[0]


def real_device_mismatch_error(model, inputs) -> str:
    """PyTorch's own error for a model and its input on different devices that exist here.

    Without a GPU the lab moves a copy of the model to the ``meta`` device (tensors with a
    shape but no data) and feeds it the CPU inputs: a real mismatch with a real message.
    """
    meta_model = copy.deepcopy(model).to("meta")
    try:
        meta_model(inputs.cpu())
    except RuntimeError as err:
        return f"{type(err).__name__}: {err}"
    return "(no error: this PyTorch build accepted the mismatch)"


class _IntraOpThreads:
    """Runs the lab's compute on one intra-op thread, then gives torch its setting back.

    On two busy cores, torch's two OpenMP threads wait on each other: a small run measured 10 to
    20 times slower than on one thread while other processes ran. torch keeps this setting per
    thread (a thread first using torch copies the process default), so the lab sets it around
    each stretch of its own compute and restores the value it found before its first run.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._original: int | None = None

    @contextmanager
    def single(self) -> Iterator[None]:
        import torch

        with self._lock:
            if self._original is None:
                self._original = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(self._original)


_THREADS = _IntraOpThreads()


def run_training(
    cfg: LoopConfig,
    *,
    frame_seconds: float | None = None,
    max_seconds: float | None = None,
    target_frames: int = TARGET_FRAMES,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[Frame]:
    """Run the generated script for ``cfg`` and yield frames while it trains.

    Frames come about ``target_frames`` times per run, at least every
    ``MAX_SECONDS_BETWEEN_FRAMES`` and never closer than ``frame_seconds`` (a short run is
    paced so it can be watched). The run stops when the loss stops being finite ("diverged"),
    when PyTorch raises ("crashed", e.g. a device mismatch on a GPU machine), after
    ``max_seconds`` ("time_limit"), or when ``should_stop()`` turns true ("stopped": the Stop
    button). The last frame carries the ``Outcome``. Closing the iterator also ends the run.
    """
    frame_seconds = config.FRAME_SECONDS if frame_seconds is None else frame_seconds
    max_seconds = config.MAX_RUN_SECONDS if max_seconds is None else max_seconds
    started = time.monotonic()
    code = compile(render_script(cfg), SCRIPT_FILENAME, "exec")
    namespace: dict = {"__name__": "training_loop_lab"}
    with _THREADS.single(), _SCRIPT_START_LOCK:
        exec(code, namespace)  # builds data, model and optimizer exactly as the script does
    model, x, y = namespace["model"], namespace["x"], namespace["y"]
    initial = {name: p.detach().clone() for name, p in model.named_parameters()}
    frozen = tuple(name for name, p in model.named_parameters() if not p.requires_grad)

    losses: list[float] = []
    grad_norms: list[float] = []
    ending = {"status": "finished", "error": None, "diverged_at": None}
    every = max(1, cfg.steps // max(1, target_frames))
    last_frame = time.monotonic()
    steps = namespace["train"]()

    def advance() -> bool:
        """Train until a frame is due (True) or the run has ended (False)."""
        nonlocal last_frame
        for step, loss in steps:
            losses.append(loss)
            grad_norms.append(_gradient_norm(model))
            now = time.monotonic()
            if not math.isfinite(loss):
                ending.update(status="diverged", diverged_at=step)
                return False
            if now - started > max_seconds:
                ending["status"] = "time_limit"
                return False
            if should_stop is not None and should_stop():
                ending["status"] = "stopped"
                return False
            done = step + 1
            if done < cfg.steps and (
                done % every == 0 or now - last_frame >= MAX_SECONDS_BETWEEN_FRAMES
            ):
                wait = frame_seconds - (now - last_frame)
                if wait > 0:
                    time.sleep(wait)
                last_frame = time.monotonic()
                return True
        return False

    try:
        while True:
            with _THREADS.single():
                try:
                    due = advance()
                except RuntimeError as err:
                    ending.update(status="crashed", error=f"{type(err).__name__}: {err}")
                    due = False
                frame = (
                    Frame(
                        len(losses),
                        cfg.steps,
                        list(losses),
                        list(grad_norms),
                        _fit_view(cfg, model, x, y),
                    )
                    if due
                    else None
                )
            if frame is None:
                break
            yield frame  # outside the single-thread stretch: other work may run in this thread
    finally:
        steps.close()

    with _THREADS.single():
        outcome = _outcome(cfg, model, x, y, initial, frozen, losses, grad_norms, ending, started)
        fit = _fit_view(cfg, model, x, y) if outcome.status != "crashed" else None
    yield Frame(len(losses), cfg.steps, losses, grad_norms, fit, outcome)


def _outcome(cfg, model, x, y, initial, frozen, losses, grad_norms, ending, started) -> Outcome:
    status = ending["status"]
    finite = [v for v in losses if math.isfinite(v)]
    finite_norms = [v for v in grad_norms if math.isfinite(v)]
    weight_change = {
        name: float((p.detach() - initial[name]).abs().max())
        for name, p in model.named_parameters()
    }
    device_demo = None
    if "device_mismatch" in cfg.failures and status != "crashed":
        device_demo = real_device_mismatch_error(model, x[:4])
    classified = cfg.task == "classification" and status != "crashed"
    return Outcome(
        status=status,
        steps_done=len(losses),
        device=str(next(model.parameters()).device),
        first_loss=finite[0] if finite else None,
        final_loss=finite[-1] if finite else None,
        diverged_at=ending["diverged_at"],
        error=ending["error"],
        device_error_demo=device_demo,
        weight_change=weight_change,
        frozen_parameters=frozen,
        first_grad_norm=finite_norms[0] if finite_norms else None,
        last_grad_norm=finite_norms[-1] if finite_norms else None,
        loss_rose=_loss_rose(finite),
        accuracy=_accuracy(model, x, y) if classified else None,
        seconds=time.monotonic() - started,
    )


def run_to_end(cfg: LoopConfig, **kwargs) -> Outcome:
    """Run without pacing and return only the outcome (for tests and scripts)."""
    kwargs.setdefault("frame_seconds", 0.0)
    *_, last = run_training(cfg, **kwargs)
    assert last.outcome is not None
    return last.outcome


def collect_losses(cfg: LoopConfig) -> list[float]:
    """Every loss of a full run, unpaced."""
    *_, last = run_training(cfg, frame_seconds=0.0)
    return last.losses
