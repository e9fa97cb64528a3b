"""Stop reaches the run of the same session, and waits until that run has ended."""

import threading
import time

from demos.training_loop.active_runs import ActiveRuns


def test_stop_reaches_the_sessions_run_and_waits_for_it():
    runs = ActiveRuns()
    ended = threading.Event()

    def run():
        with runs.track("session-a") as stop:
            while not stop.is_set():
                time.sleep(0.01)
            time.sleep(0.1)  # the run's last frame
        ended.set()

    worker = threading.Thread(target=run)
    worker.start()
    while not runs.is_running("session-a"):
        time.sleep(0.01)
    assert runs.request_stop("session-b") is False
    assert runs.is_running("session-a")
    assert runs.request_stop("session-a") is True
    assert ended.wait(1) and not runs.is_running("session-a")
    worker.join()


def test_stop_without_a_run_returns_at_once():
    started = time.monotonic()
    assert ActiveRuns().request_stop("nobody") is False
    assert time.monotonic() - started < 0.1
