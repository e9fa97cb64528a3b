"""The generated script is the truth: it runs on its own and reproduces the lab's losses."""

import itertools
import json
import os
import subprocess
import sys

import pytest

from demos.training_loop.loop_config import CODE_FAILURES, LOSSES, LoopConfig
from demos.training_loop.runner import collect_losses
from demos.training_loop.script import PRINT_EVERY, format_loss_line, render_script


def _run_python(args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_pasted_script_prints_the_labs_losses(tmp_path):
    """What a learner does: paste the code into train.py and run `python train.py`."""
    cfg = LoopConfig()
    (tmp_path / "train.py").write_text(render_script(cfg))
    printed = _run_python(["train.py"], tmp_path).splitlines()

    lab = collect_losses(cfg)
    expected = [
        format_loss_line(step, loss)
        for step, loss in enumerate(lab)
        if step % PRINT_EVERY == 0 or step == cfg.steps - 1
    ]
    assert printed == expected


def test_script_reproduces_every_loss_with_failures_and_clipping(tmp_path):
    """Every step's loss, for a classification run with injected failures and clipping."""
    cfg = LoopConfig(
        task="classification",
        loss="cross_entropy_smoothed",
        optimizer="AdamW",
        steps=150,
        seed=7,
        clip_grad=True,
        max_grad_norm=0.5,
        failures=("forget_zero_grad", "frozen_layer", "device_mismatch"),
    )
    (tmp_path / "train.py").write_text(render_script(cfg))
    collect = (
        "import json, runpy; ns = runpy.run_path('train.py', run_name='check');"
        "print(json.dumps([loss for _, loss in ns['train']()]))"
    )
    script_losses = json.loads(_run_python(["-c", collect], tmp_path))
    assert script_losses == pytest.approx(collect_losses(cfg), rel=1e-6, abs=1e-7)


def test_diverging_script_stops_with_a_message(tmp_path):
    cfg = LoopConfig(optimizer="SGD", learning_rate=2.0)
    (tmp_path / "train.py").write_text(render_script(cfg))
    out = _run_python(["train.py"], tmp_path)
    assert "no longer a finite number" in out
    lab = collect_losses(cfg)
    assert out.splitlines()[-2] == format_loss_line(len(lab) - 1, lab[-1])


CASES = [
    LoopConfig(
        task=task, loss=loss, optimizer=optimizer, clip_grad=clip, failures=failures, steps=3
    )
    for task in LOSSES
    for loss in LOSSES[task]
    for optimizer, clip, failures in [
        ("SGD", False, ()),
        ("Adam", True, CODE_FAILURES),
        ("AdamW", False, ("frozen_layer",)),
    ]
]


@pytest.mark.parametrize(
    "cfg", CASES, ids=lambda c: f"{c.task}-{c.loss}-{c.optimizer}-{len(c.failures)}"
)
def test_every_variant_compiles_and_shows_its_settings(cfg):
    script = render_script(cfg)
    compile(script, "train.py", "exec")
    assert f"torch.optim.{cfg.optimizer}(" in script
    assert LOSSES[cfg.task][cfg.loss][1] in script
    assert ("clip_grad_norm_" in script) == cfg.clip_grad
    assert ("optimizer.zero_grad()  # 1." in script) == ("forget_zero_grad" not in cfg.failures)
    assert ("requires_grad_(False)" in script) == ("frozen_layer" in cfg.failures)
    assert ("x, y = x.to(device), y.to(device)" in script.splitlines()) == (
        "device_mismatch" not in cfg.failures
    )
    assert 'device = torch.device("cuda" if torch.cuda.is_available() else "cpu")' in script


def test_the_five_steps_appear_in_order():
    script = render_script(LoopConfig(clip_grad=True))
    markers = [
        "optimizer.zero_grad()",
        "model(inputs)",
        "loss_fn(predictions",
        "loss.backward()",
        "optimizer.step()",
    ]
    positions = [script.index(m) for m in markers]
    assert positions == sorted(positions)
    assert script.index("clip_grad_norm_") > script.index("loss.backward()")
    assert script.index("clip_grad_norm_") < script.index("optimizer.step()")


def test_settings_appear_as_constants():
    cfg = LoopConfig(learning_rate=0.0003, batch_size=17, hidden_size=5, steps=42, seed=9)
    script = render_script(cfg)
    for line in [
        "SEED = 9",
        "STEPS = 42",
        "BATCH_SIZE = 17",
        "LEARNING_RATE = 0.0003",
        "HIDDEN_SIZE = 5",
    ]:
        assert line in script.splitlines()


def test_script_text_has_no_injection_surface():
    """Only validated numbers and fixed choices reach the script: pairs of configs differ only there."""
    a = render_script(LoopConfig(seed=1))
    b = render_script(LoopConfig(seed=2))
    diff = [(x, y) for x, y in itertools.zip_longest(a.splitlines(), b.splitlines()) if x != y]
    assert diff == [("SEED = 1", "SEED = 2")]
