"""One thread for all of the lab's CPU/GPU arithmetic, taking turns token by token.

Measured on the 2-core machine (SmolLM2-135M, 64 tokens): ``generate`` runs at about 29 tokens/s
when a single thread does all torch work in the process, but at about 17 once a second thread
has also run torch operations (each thread gets its own OpenMP team, and the teams compete for
the cores). So the lab's model work (generation and sentence embeddings) runs here, on one
long-lived thread. The local model's replies are decoded together by a worker attached here
(:class:`demos.lab.batching.Batcher`: one batched forward pass gives every conversation its
next token); step-generators take turns one item at a time; a short call (an embedding) runs
between two turns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

_END = object()


class Worker(Protocol):
    """Something with work of its own, done a turn at a time on the compute thread."""

    def busy(self) -> bool: ...

    def step(self) -> None: ...

    def fail(self, exc: BaseException) -> None: ...


@dataclass
class _Stream:
    steps: Iterator[Any]
    out: queue.Queue
    cancelled: threading.Event = field(default_factory=threading.Event)


class ComputeThread:
    """Runs calls and step-generators on one daemon thread (started on first use)."""

    def __init__(self, name: str = "lab-compute"):
        self._name = name
        self._inbox: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._workers: list[Worker] = []

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()

    def attach(self, worker: Worker) -> None:
        """Give ``worker`` a turn (``worker.step()``) in every round while it is busy; it calls
        :meth:`wake` when new work arrives."""
        with self._start_lock:
            if worker not in self._workers:
                self._workers = [*self._workers, worker]
        self._ensure_started()
        self.wake()

    def detach(self, worker: Worker) -> None:
        with self._start_lock:
            self._workers = [w for w in self._workers if w is not worker]

    def wake(self) -> None:
        """Make an idle compute thread look at its workers again."""
        self._inbox.put(("wake",))

    def on_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` on the compute thread and return its result (or raise its exception)."""
        if self.on_thread():
            return fn(*args, **kwargs)
        self._ensure_started()
        future: Future = Future()
        self._inbox.put(("call", fn, args, kwargs, future))
        return future.result()

    def stream(self, make_steps: Callable[[], Iterator[Any]], timeout: float) -> Iterator[Any]:
        """Iterate, in the caller's thread, over the items a step-generator produces on the
        compute thread (one item per turn). Closing the iterator cancels the generator."""
        self._ensure_started()
        job = _Stream(iter(()), queue.Queue())
        self._inbox.put(("stream", make_steps, job))

        def items() -> Iterator[Any]:
            try:
                while True:
                    try:
                        item = job.out.get(timeout=timeout)
                    except queue.Empty:
                        raise TimeoutError("the model produced nothing in time") from None
                    if item is _END:
                        return
                    if isinstance(item, BaseException):
                        raise item
                    yield item
            finally:
                job.cancelled.set()

        return items()

    def _loop(self) -> None:
        active: list[_Stream] = []
        while True:
            workers = self._workers
            busy = [worker for worker in workers if worker.busy()]
            try:
                # Block only when no conversation is waiting for its next token.
                message = self._inbox.get(block=not (active or busy), timeout=None)
            except queue.Empty:
                message = None
            while message is not None:
                self._handle(message, active)
                try:
                    message = self._inbox.get_nowait()
                except queue.Empty:
                    message = None
            for job in list(active):
                if job.cancelled.is_set():
                    self._finish(job, active, close=True)
                    continue
                try:
                    job.out.put(next(job.steps))
                except StopIteration:
                    self._finish(job, active)
                except BaseException as exc:  # handed to the reader, never lost
                    job.out.put(exc)
                    self._finish(job, active, close=True)
            for worker in workers:
                if worker.busy():
                    try:
                        worker.step()
                    except BaseException as exc:  # its readers hear it; the thread lives on
                        worker.fail(exc)

    def _handle(self, message: tuple, active: list[_Stream]) -> None:
        if message[0] == "wake":
            return
        if message[0] == "call":
            _, fn, args, kwargs, future = message
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)
            return
        _, make_steps, job = message
        try:
            job.steps = make_steps()
            active.append(job)
        except BaseException as exc:
            job.out.put(exc)
            job.out.put(_END)

    @staticmethod
    def _finish(job: _Stream, active: list[_Stream], close: bool = False) -> None:
        if close:
            try:
                close_steps = getattr(job.steps, "close", None)
                if close_steps is not None:
                    close_steps()
            except Exception:  # a generator that fails while closing is already done
                pass
        job.out.put(_END)
        if job in active:
            active.remove(job)


#: The lab's one compute thread.
compute = ComputeThread()
