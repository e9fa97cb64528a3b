"""The server refuses settings outside the lab's bounds, whatever the widgets allowed."""

import pytest

from demos.training_loop import config
from demos.training_loop.loop_config import (
    ConfigError,
    LoopConfig,
    default_loss,
    make_config,
)

WIDGETS = dict(
    task="regression",
    loss="mse",
    optimizer="Adam",
    learning_rate=0.02,
    batch_size=32.0,
    hidden_size=32.0,
    steps=500.0,
    seed=0,
    clip_grad=False,
    max_grad_norm=1.0,
    failures=[],
)


def test_widget_values_make_the_default_config():
    assert make_config(**WIDGETS) == LoopConfig()


@pytest.mark.parametrize(
    "change, words",
    [
        ({"steps": config.MAX_STEPS + 1}, "steps"),
        ({"steps": 0}, "steps"),
        ({"steps": 10.5}, "whole number"),
        ({"hidden_size": 100_000}, "hidden size"),
        ({"batch_size": 10_000}, "batch size"),
        ({"learning_rate": 1e9}, "learning rate"),
        ({"learning_rate": float("nan")}, "learning rate"),
        ({"learning_rate": "fast"}, "learning rate"),
        ({"max_grad_norm": 0}, "clipping norm"),
        ({"seed": -1}, "seed"),
        ({"optimizer": "Lion"}, "optimizer"),
        ({"loss": "cross_entropy"}, "regression"),
        ({"task": "translation"}, "task"),
        ({"failures": ["forget_backward"]}, "failure"),
    ],
)
def test_out_of_bounds_settings_are_refused(change, words):
    with pytest.raises(ConfigError, match=words):
        make_config(**{**WIDGETS, **change})


def test_lr_switch_is_a_preset_not_a_code_change():
    cfg = make_config(**{**WIDGETS, "failures": ["lr_too_high", "frozen_layer"]})
    assert cfg.failures == ("frozen_layer",)


def test_each_task_has_a_default_loss_that_validates():
    for task in ("regression", "classification"):
        LoopConfig(task=task, loss=default_loss(task))
