"""The lab's runs: the loss falls, failures show their real PyTorch behaviour, bounds hold."""

import copy
import math
import time

import pytest
import torch

from demos.training_loop.loop_config import LR_TOO_HIGH, LoopConfig
from demos.training_loop.runner import collect_losses, run_to_end, run_training
from demos.training_loop.script import render_script


def _mean(values):
    return sum(values) / len(values)


def test_default_run_loss_falls():
    losses = collect_losses(LoopConfig())
    assert len(losses) == 500
    assert _mean(losses[-50:]) < 0.1
    assert _mean(losses[-50:]) < 0.3 * _mean(losses[:10])


def test_default_classification_run_learns_the_rings():
    outcome = run_to_end(LoopConfig(task="classification", loss="cross_entropy"))
    assert outcome.status == "finished"
    assert outcome.final_loss < 0.3 * outcome.first_loss
    assert outcome.accuracy > 0.9


def test_same_seed_same_losses_other_seed_other_losses():
    cfg = LoopConfig(steps=60)
    assert collect_losses(cfg) == collect_losses(cfg)
    assert collect_losses(cfg) != collect_losses(cfg.with_changes(seed=1))


def test_high_learning_rate_is_detected_as_diverged_and_stops():
    preset = LR_TOO_HIGH["regression"]
    cfg = LoopConfig(
        optimizer=preset["optimizer"], learning_rate=preset["learning_rate"], steps=500
    )
    outcome = run_to_end(cfg)
    assert outcome.status == "diverged"
    assert outcome.diverged_at is not None and outcome.diverged_at < 100
    assert outcome.steps_done == outcome.diverged_at + 1 < cfg.steps


def test_lower_rate_with_clipping_fixes_the_divergence():
    cfg = LoopConfig(optimizer="SGD", learning_rate=0.1, clip_grad=True, max_grad_norm=1.0)
    outcome = run_to_end(cfg)
    assert outcome.status == "finished"
    assert outcome.final_loss < 0.5 * outcome.first_loss


def _script_namespace(cfg: LoopConfig) -> dict:
    namespace = {"__name__": "test"}
    exec(compile(render_script(cfg), "train.py", "exec"), namespace)
    return namespace


def test_missing_zero_grad_makes_gradients_the_sum_over_steps():
    """Full batch, so each step's fresh gradient can be recomputed from the parameters alone."""
    cfg = LoopConfig(
        optimizer="SGD", learning_rate=0.01, batch_size=256, steps=6, failures=("forget_zero_grad",)
    )
    ns = _script_namespace(cfg)
    model, x, y, loss_fn = ns["model"], ns["x"], ns["y"], ns["loss_fn"]
    fresh_sum = [torch.zeros_like(p) for p in model.parameters()]
    for _step, _loss in ns["train"]():
        # Recompute this step's own gradient at the parameters before the step, from scratch.
        before = copy.deepcopy(model)
        with torch.no_grad():
            for p_before, p_after in zip(before.parameters(), model.parameters(), strict=True):
                p_before.copy_(p_after + cfg.learning_rate * p_after.grad)  # undo SGD's step
        before.zero_grad()
        loss_fn(before(x), y).backward()
        for total, p in zip(fresh_sum, before.parameters(), strict=True):
            total += p.grad
        for total, p in zip(fresh_sum, model.parameters(), strict=True):
            torch.testing.assert_close(p.grad, total, rtol=1e-4, atol=1e-6)
    # The sum really is a sum: after six steps it is far larger than one step's gradient.
    last_fresh = [p.grad for p in before.parameters()]
    assert sum(float(t.norm()) for t in fresh_sum) > 3 * sum(float(g.norm()) for g in last_fresh)


def test_with_zero_grad_each_gradient_is_its_own_step():
    cfg = LoopConfig(optimizer="SGD", learning_rate=0.01, batch_size=256, steps=3)
    ns = _script_namespace(cfg)
    model, x, y, loss_fn = ns["model"], ns["x"], ns["y"], ns["loss_fn"]
    for _step, _loss in ns["train"]():
        before = copy.deepcopy(model)
        with torch.no_grad():
            for p_before, p_after in zip(before.parameters(), model.parameters(), strict=True):
                p_before.copy_(p_after + cfg.learning_rate * p_after.grad)
        before.zero_grad()
        loss_fn(before(x), y).backward()
        for p_fresh, p in zip(before.parameters(), model.parameters(), strict=True):
            torch.testing.assert_close(p.grad, p_fresh.grad, rtol=1e-4, atol=1e-6)


def test_missing_zero_grad_shows_as_growing_gradient_norm():
    outcome = run_to_end(LoopConfig(failures=("forget_zero_grad",)))
    assert outcome.last_grad_norm > 20 * outcome.first_grad_norm


def test_frozen_layer_weights_stay_unchanged():
    ns = _script_namespace(LoopConfig(failures=("frozen_layer",), steps=50))
    model = ns["model"]
    weight_before = model[0].weight.detach().clone()
    others_before = [
        p.detach().clone() for name, p in model.named_parameters() if name != "0.weight"
    ]
    for _ in ns["train"]():
        pass
    assert torch.equal(model[0].weight, weight_before)
    assert model[0].weight.grad is None
    others_after = [p for name, p in model.named_parameters() if name != "0.weight"]
    assert all(not torch.equal(a, b) for a, b in zip(others_before, others_after, strict=True))


def test_frozen_layer_outcome_reports_zero_change():
    outcome = run_to_end(LoopConfig(failures=("frozen_layer",), steps=50))
    assert outcome.frozen_parameters == ("0.weight",)
    assert outcome.weight_change["0.weight"] == 0.0
    assert outcome.weight_change["2.weight"] > 0.0


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU the mismatch crashes instead")
def test_device_mismatch_without_gpu_is_silent_and_shows_a_real_error():
    outcome = run_to_end(LoopConfig(failures=("device_mismatch",), steps=20))
    assert outcome.status == "finished"
    assert outcome.device == "cpu"
    assert outcome.device_error_demo.startswith("RuntimeError: ")
    assert "meta" in outcome.device_error_demo and "cpu" in outcome.device_error_demo


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_device_mismatch_on_gpu_crashes_with_pytorchs_error():
    outcome = run_to_end(LoopConfig(failures=("device_mismatch",), steps=20))
    assert outcome.status == "crashed"
    assert "Expected all tensors to be on the same device" in outcome.error


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_runs_on_the_gpu_when_there_is_one():
    outcome = run_to_end(LoopConfig(steps=50))
    assert outcome.device.startswith("cuda")


def test_run_streams_paced_frames_and_ends_with_an_outcome():
    started = time.monotonic()
    frames = list(run_training(LoopConfig(steps=200), frame_seconds=0.02, target_frames=10))
    elapsed = time.monotonic() - started
    assert 10 <= len(frames) <= 13
    assert all(f.outcome is None for f in frames[:-1]) and frames[-1].outcome is not None
    assert [f.steps_done for f in frames] == sorted(f.steps_done for f in frames)
    assert elapsed >= 9 * 0.02
    fit = frames[-1].fit
    assert len(fit.data_x) == 256 and len(fit.curve_x) == len(fit.curve_y) > 0


def test_time_limit_stops_a_run():
    outcome = run_to_end(LoopConfig(steps=3000, hidden_size=256, batch_size=256), max_seconds=0.2)
    assert outcome.status == "time_limit"
    assert outcome.steps_done < 3000


def test_closing_the_stream_stops_training():
    stream = run_training(LoopConfig(steps=3000), frame_seconds=0.0, target_frames=100)
    first = next(stream)
    stream.close()
    assert first.steps_done < 3000
    assert math.isfinite(first.losses[-1])


def test_should_stop_ends_the_run_with_a_last_frame():
    calls = {"n": 0}

    def stop_after_50_steps():
        calls["n"] += 1
        return calls["n"] > 50

    frames = list(
        run_training(LoopConfig(steps=3000), frame_seconds=0.0, should_stop=stop_after_50_steps)
    )
    outcome = frames[-1].outcome
    assert outcome.status == "stopped"
    assert outcome.steps_done == 51


def test_a_run_gives_torch_its_thread_setting_back():
    before = torch.get_num_threads()
    run_to_end(LoopConfig(steps=30))
    assert torch.get_num_threads() == before
