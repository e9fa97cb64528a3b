"""Each failure is explained with the run's own numbers, and its fix is one set of settings."""

import pytest

from demos.training_loop.failures import (
    describe_switches,
    explain_outcome,
    failure_choices,
    failure_texts,
    fixed_settings,
    problems_of,
)
from demos.training_loop.loop_config import ALL_FAILURES, LR_FIXED, LR_TOO_HIGH, LoopConfig
from demos.training_loop.runner import Outcome, run_to_end


def _explain(cfg: LoopConfig) -> tuple[Outcome, str]:
    outcome = run_to_end(cfg)
    return outcome, explain_outcome(cfg, outcome, max_seconds=20)


def test_every_failure_has_its_texts():
    texts = failure_texts()
    for failure in ALL_FAILURES:
        assert {"label", "why", "fix"} <= set(texts[failure])
    assert [value for _, value in failure_choices()] == list(ALL_FAILURES)


def test_divergence_is_explained_with_its_step_and_fix():
    preset = LR_TOO_HIGH["regression"]
    cfg = LoopConfig(optimizer=preset["optimizer"], learning_rate=preset["learning_rate"])
    outcome, text = _explain(cfg)
    assert problems_of(cfg, outcome) == ("lr_too_high",)
    assert "Diverged" in text and f"step {outcome.diverged_at}" in text
    assert "clip_grad_norm_" in text


def test_fix_for_divergence_lowers_the_rate_and_clips():
    settings = fixed_settings(("lr_too_high", "frozen_layer"), learning_rate=2.0)
    assert settings == {"failures": [], **LR_FIXED}
    assert fixed_settings(("lr_too_high",), learning_rate=0.02)["learning_rate"] == pytest.approx(
        0.002
    )
    assert fixed_settings(("frozen_layer",), learning_rate=0.02) == {"failures": []}


def test_fixed_settings_really_fix_the_run():
    broken = LoopConfig(optimizer="SGD", learning_rate=LR_TOO_HIGH["regression"]["learning_rate"])
    settings = fixed_settings(("lr_too_high",), broken.learning_rate)
    settings.pop("failures")
    assert run_to_end(broken.with_changes(**settings)).status == "finished"


def test_too_high_rate_on_the_rings_shows_as_a_rising_loss_and_the_fix_works():
    preset = LR_TOO_HIGH["classification"]
    cfg = LoopConfig(
        task="classification",
        loss="cross_entropy",
        optimizer=preset["optimizer"],
        learning_rate=preset["learning_rate"],
    )
    outcome, text = _explain(cfg)
    assert outcome.status == "finished" and outcome.loss_rose
    assert problems_of(cfg, outcome) == ("lr_too_high",)
    assert "instead of falling" in text
    settings = fixed_settings(("lr_too_high",), cfg.learning_rate)
    settings.pop("failures")
    fixed = run_to_end(cfg.with_changes(**settings))
    assert not fixed.loss_rose and fixed.accuracy > 0.9


def test_missing_zero_grad_is_not_blamed_on_the_rate():
    cfg = LoopConfig(failures=("forget_zero_grad",))
    outcome = run_to_end(cfg)
    assert outcome.loss_rose
    assert problems_of(cfg, outcome) == ("forget_zero_grad",)


def test_missing_zero_grad_symptom_names_the_growth():
    _, text = _explain(LoopConfig(failures=("forget_zero_grad",), steps=200))
    assert "gradient norm grew" in text and "zero_grad()" in text


def test_clipping_hiding_the_missing_zero_grad_is_said():
    _, text = _explain(LoopConfig(failures=("forget_zero_grad",), steps=50, clip_grad=True))
    assert "clipping hides this bug" in text


def test_frozen_layer_symptom_reports_no_change():
    _, text = _explain(LoopConfig(failures=("frozen_layer",), steps=50))
    assert "changed by 0 in 50 steps" in text


def test_device_mismatch_without_gpu_says_so_and_quotes_real_errors():
    outcome, text = _explain(LoopConfig(failures=("device_mismatch",), steps=20))
    if outcome.device != "cpu":
        pytest.skip("this machine has a GPU: the run crashes instead")
    assert "no GPU" in text
    assert outcome.device_error_demo in text
    assert "Expected all tensors to be on the same device" in text


def test_crash_is_explained_with_the_error():
    cfg = LoopConfig(failures=("device_mismatch",))
    crashed = Outcome(
        status="crashed",
        steps_done=0,
        device="cuda:0",
        first_loss=None,
        final_loss=None,
        error="RuntimeError: Expected all tensors to be on the same device",
    )
    text = explain_outcome(cfg, crashed, max_seconds=20)
    assert "Crashed" in text and "RuntimeError: Expected all tensors" in text


def test_switch_notes_follow_the_ticked_failures():
    assert describe_switches([]) == ""
    assert failure_texts()["frozen_layer"]["label"] in describe_switches(["frozen_layer"])


def test_time_limit_and_stop_are_said():
    cfg = LoopConfig(steps=3000, hidden_size=256, batch_size=256)
    outcome = run_to_end(cfg, max_seconds=0.2)
    text = explain_outcome(cfg, outcome, max_seconds=0.2)
    assert "Time limit" in text and "time limit of 0.2 s" in text
    stopped = run_to_end(LoopConfig(steps=300), should_stop=lambda: True)
    assert explain_outcome(LoopConfig(steps=300), stopped, max_seconds=20).startswith(
        "**Stopped by you** after 1 of 300 steps"
    )
