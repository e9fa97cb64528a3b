"""The Space's own training run: a real `python -m demos.advice.train` in a low-priority child
process (a tiny run here, set through ADVICE_TRAIN_ARGS), followed through its progress file,
published only when it succeeds, reused on the next start, retrained when the data changes."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from demos.advice import background
from demos.advice.config import served_classifier

TINY_RUN = "--max-train-samples 24 --max-length 16 --epochs 1 --no-baseline"


@pytest.fixture
def space(advice_env, monkeypatch):
    """A Space without ADVICE_MODEL, background training on, a tiny recipe."""
    monkeypatch.delenv("ADVICE_MODEL")
    monkeypatch.setenv("ADVICE_BACKGROUND_TRAINING", "auto")
    monkeypatch.setenv("ADVICE_TRAIN_ARGS", TINY_RUN)
    monkeypatch.setenv("ADVICE_EMBEDDING_MODEL", str(advice_env["classifier"]))
    monkeypatch.setattr(background, "_job", None)
    monkeypatch.setattr(background, "_space_job", None)
    monkeypatch.setattr(background, "_space_error", "")
    return advice_env["output"]


def test_first_start_trains_publishes_and_the_next_start_reuses_it(space):
    assert background.needs_training() and served_classifier() is None
    job = background.start_space_training()
    assert job is not None and background.space_status().running
    assert os.getpriority(os.PRIO_PROCESS, job.process.pid) >= 10  # yields the CPU to visitors
    seen = set()
    while job.state == "running":
        seen.add(background.space_status().message)
        time.sleep(0.2)
    status = job.wait(120)
    assert status.state == "done", status.error
    assert len(seen) >= 2  # the tab saw the run move (progress file), not just start and end
    assert served_classifier() == str(space)
    metrics = json.loads((space / "metrics.json").read_text())
    assert metrics["free_written_posts"] > 0 and metrics["calibration"]["temperature"] > 0
    assert not list(space.parent.glob(".*training-*"))  # the work folder is gone
    # The next start finds the model it made, from the same data and recipe: nothing to do.
    assert not background.needs_training() and background.start_space_training() is None


def test_changed_recipe_retrains_and_a_hand_placed_model_is_left_alone(space, monkeypatch):
    space.mkdir(parents=True)
    (space / "config.json").write_text("{}")
    assert not background.needs_training()  # no stamp: the owner put it there
    (space / background.STAMP).write_text(json.dumps({"fingerprint": "older-data"}))
    assert background.needs_training()
    monkeypatch.setenv("ADVICE_BACKGROUND_TRAINING", "off")
    assert not background.needs_training()
    monkeypatch.setenv("ADVICE_BACKGROUND_TRAINING", "auto")
    monkeypatch.setenv("ADVICE_MODEL", "someone/their-classifier")
    assert not background.needs_training()


def test_one_run_at_a_time_and_a_failure_keeps_the_served_model(space, monkeypatch):
    space.mkdir(parents=True)
    (space / "config.json").write_text('{"kept": true}')
    monkeypatch.setenv("ADVICE_BASE_MODEL", str(space.parent / "no-such-model"))
    job = background.start(space, "space")
    with pytest.raises(background.TrainingBusy, match="one run at a time"):
        background.start(space, "visitor")
    status = job.wait(120)
    assert status.state == "failed"
    assert "no model folder" in status.error and str(space.parent) not in status.error
    assert json.loads((space / "config.json").read_text()) == {"kept": True}
    assert not list(space.parent.glob(".*training-*"))


def test_training_starts_after_the_first_page_or_the_delay(space, monkeypatch):
    started = threading.Event()
    monkeypatch.setattr(background, "_scheduled", threading.Event())
    monkeypatch.setattr(background, "_first_page", threading.Event())
    monkeypatch.setattr(background, "start_space_training", started.set)
    serving = threading.Event()
    assert background.schedule_first_start(serving.is_set, delay_s=60)
    assert not background.schedule_first_start(serving.is_set)  # once per process
    time.sleep(0.6)
    assert not started.is_set()  # the server does not answer yet
    serving.set()
    time.sleep(0.6)
    assert not started.is_set()  # serving, but no page yet and the delay has not passed
    background.first_page_served()
    assert started.wait(5)
