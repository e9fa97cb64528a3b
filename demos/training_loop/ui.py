"""The training-loop lab's Gradio builder: widgets and wiring only; the logic lives beside it.

Importing this module must not import torch (the app starts fast); the run functions import
it on first use.
"""

from __future__ import annotations

import math

import gradio as gr
import pandas as pd

from demos.training_loop import config
from demos.training_loop.active_runs import ACTIVE_RUNS
from demos.training_loop.autograd_panel import (
    EXPRESSIONS,
    AutogradInputError,
    compute_gradients,
    render_snippet,
    result_markdown,
)
from demos.training_loop.failures import (
    describe_switches,
    explain_outcome,
    failure_choices,
    fixed_settings,
    problems_of,
)
from demos.training_loop.loop_config import (
    LIMITS,
    LOSSES,
    LR_TOO_HIGH,
    OPTIMIZERS,
    TASKS,
    ConfigError,
    LoopConfig,
    default_loss,
    failure_names,
    make_config,
)
from demos.training_loop.runner import Frame, run_training
from demos.training_loop.script import render_script
from demos.ui_common import event_api, visitor_markdown, visitor_text

RUN_CONCURRENCY_ID = "training_loop_run"
# Loss and gradient-norm ticks with at most three significant digits: a diverging run reaches
# 1e+33, whose full label ("1.002e+33") did not fit the axis and was cut to "002e+33".
AXIS_FORMAT = ".3~g"
TRAINING_PREFIX = "Training…"
MAX_AUTOGRAD_VARIABLES = 3
MAX_PLOT_POINTS = 300
FIT_COLORS = {
    "data": "#9ca3af",
    "model": "#dc2626",
    "class 0": "#2563eb",
    "class 1": "#f59e0b",
    "misclassified": "#dc2626",
}
TASK_LABELS = {
    "regression": "Regression: fit a 1-D curve",
    "classification": "Classification: two rings",
}
FIT_VIEW = {
    "regression": {
        "x_title": "x",
        "y_title": "y",
        "x_lim": [-2.0, 2.0],
        "y_lim": [-2.0, 2.0],
        "title": "Data and the learned curve",
    },
    "classification": {
        "x_title": "x₁",
        "y_title": "x₂",
        "x_lim": [-1.6, 1.6],
        "y_lim": [-1.6, 1.6],
        "title": "Points coloured by the model's prediction",
    },
}
# The native plot cannot lock its aspect ratio: a ring drawn across a wide, low plot looks like
# an ellipse. For the rings the plot is made taller and narrower (course.css caps its width), so
# that the plotting area is about square on a laptop screen.
FIT_SHAPE = {
    "regression": {"height": 260, "elem_classes": ["training-loop-fit-plot"]},
    "classification": {
        "height": 470,
        "elem_classes": ["training-loop-fit-plot", "training-loop-fit-square"],
    },
}


def warm() -> None:
    """Import torch ahead of the first Run (about 2 s on 2 cores), when the tab is opened."""
    import torch  # noqa: F401


def _loss_choices(task: str) -> list[tuple[str, str]]:
    return [(label, key) for key, (label, _) in LOSSES[task].items()]


# The settings widgets, in the order every run, fix and script event takes them (and API callers
# pass them).
SETTING_NAMES = (
    "task",
    "loss",
    "optimizer",
    "learning_rate",
    "batch_size",
    "hidden_size",
    "steps",
    "seed",
    "clip_grad",
    "max_grad_norm",
    "failures",
)


def setting_values(cfg: LoopConfig) -> list:
    """A config as the settings widgets' values, in SETTING_NAMES order (an API call's arguments)."""
    return [list(cfg.failures) if n == "failures" else getattr(cfg, n) for n in SETTING_NAMES]


ALL_LOSSES = tuple(loss for losses in LOSSES.values() for loss in losses)


def _config(*values) -> LoopConfig:
    """The settings widgets' values (SETTING_NAMES order) as a config; ConfigError if bad."""
    return make_config(**dict(zip(SETTING_NAMES, values, strict=True)))


def _config_from_widgets(*values) -> LoopConfig:
    try:
        return _config(*values)
    except ConfigError as err:
        # The message may quote what the visitor typed (the loss box takes any text).
        raise gr.Error(visitor_text(err, limit=300)) from None


def _plotted(values: list[float]) -> list[tuple[int, float]]:
    """(step, value) pairs to draw: inf and NaN left out (a plot cannot draw them), and long
    runs thinned to every k-th step plus the last, so the browser redraws a few hundred points
    per update instead of thousands."""
    points = [(i, v) for i, v in enumerate(values) if math.isfinite(v)]
    if len(points) <= MAX_PLOT_POINTS:
        return points
    stride = math.ceil(len(points) / MAX_PLOT_POINTS)
    return points[::stride] + ([points[-1]] if (len(points) - 1) % stride else [])


def loss_frame(frame: Frame) -> pd.DataFrame:
    """The loss per step so far."""
    return pd.DataFrame(_plotted(frame.losses), columns=["step", "loss"])


def grad_norm_frame(frame: Frame) -> pd.DataFrame:
    """The total gradient norm per step so far, as the optimizer saw it."""
    return pd.DataFrame(_plotted(frame.grad_norms), columns=["step", "gradient norm"])


def fit_frame(task: str, frame: Frame) -> pd.DataFrame:
    """The data and what the model makes of it, as one table with a series column."""
    fit = frame.fit
    if fit is None:
        return pd.DataFrame({"x": [], "y": [], "series": []})
    if task == "regression":
        rows = [(a, b, "data") for a, b in zip(fit.data_x, fit.data_y, strict=True)]
        rows += [
            (a, b, "model")
            for a, b in zip(fit.curve_x, fit.curve_y, strict=True)
            if math.isfinite(b)
        ]
    else:
        rows = [
            (a, b, f"class {p}" if p == t else "misclassified")
            for a, b, t, p in zip(fit.data_x, fit.data_y, fit.labels, fit.predicted, strict=True)
        ]
    return pd.DataFrame(rows, columns=["x", "y", "series"])


def _progress_line(frame: Frame) -> str:
    last = frame.losses[-1] if frame.losses else float("nan")
    return f"{TRAINING_PREFIX} step {frame.steps_done} of {frame.total_steps}, loss {last:.4g}"


def _session_key(request: gr.Request | None) -> str:
    return (request.session_hash if request is not None else None) or "no-session"


def _stream(cfg: LoopConfig, request: gr.Request | None):
    """(loss plot, gradient-norm plot, fit plot, status, fix button, problems) for every frame of
    a run; the visitor's Stop (same session) ends it at the next step."""
    view = FIT_VIEW[cfg.task]
    with ACTIVE_RUNS.track(_session_key(request)) as stop:
        yield from _frames(cfg, view, stop.is_set)


def _frames(cfg: LoopConfig, view: dict, should_stop):
    for frame in run_training(cfg, should_stop=should_stop):
        loss_plot = gr.LinePlot(value=loss_frame(frame), x_lim=[0, cfg.steps])
        grad_plot = gr.LinePlot(value=grad_norm_frame(frame), x_lim=[0, cfg.steps])
        fit_plot = gr.ScatterPlot(
            value=fit_frame(cfg.task, frame),
            x_title=view["x_title"],
            y_title=view["y_title"],
            x_lim=view["x_lim"],
            y_lim=view["y_lim"],
            title=view["title"],
            **FIT_SHAPE[cfg.task],
        )
        if frame.outcome is None:
            yield loss_plot, grad_plot, fit_plot, _progress_line(frame), gr.update(), gr.update()
            continue
        problems = problems_of(cfg, frame.outcome)
        status = explain_outcome(cfg, frame.outcome, max_seconds=config.MAX_RUN_SECONDS)
        yield (
            loss_plot,
            grad_plot,
            fit_plot,
            status,
            gr.update(visible=bool(problems)),
            list(problems),
        )


def run_lab(
    task,
    loss,
    optimizer,
    learning_rate,
    batch_size,
    hidden_size,
    steps,
    seed,
    clip_grad,
    max_grad_norm,
    failures,
    request: gr.Request = None,
):
    """Train the two-layer model with these settings and stream the loss curve, the fit and a diagnosis.

    Runs the exact script shown by training_loop_script. failures may hold forget_zero_grad,
    frozen_layer, device_mismatch (lr_too_high is a preset of the rate and changes no code).
    Yields (loss plot, gradient-norm plot, fit plot, status Markdown, fix-button update, problems found).
    """
    cfg = _config_from_widgets(
        task,
        loss,
        optimizer,
        learning_rate,
        batch_size,
        hidden_size,
        steps,
        seed,
        clip_grad,
        max_grad_norm,
        failures,
    )
    yield from _stream(cfg, request)


def fix_and_run(
    problems,
    task,
    loss,
    optimizer,
    learning_rate,
    batch_size,
    hidden_size,
    steps,
    seed,
    clip_grad,
    max_grad_norm,
    failures,
    request: gr.Request = None,
):
    """Turn off the failures the last run showed (and lower a diverging rate), then run again.

    Yields the fixed settings (failures, learning rate, clipping, max_norm) followed by the
    same outputs as training_loop_run.
    """
    current = _config_from_widgets(
        task,
        loss,
        optimizer,
        learning_rate,
        batch_size,
        hidden_size,
        steps,
        seed,
        clip_grad,
        max_grad_norm,
        failures,
    )
    found = tuple(dict.fromkeys([*(problems or []), *failure_names(failures)]))
    settings = fixed_settings(found, current.learning_rate)
    cfg = current.with_changes(
        failures=(),
        learning_rate=settings.get("learning_rate", current.learning_rate),
        clip_grad=settings.get("clip_grad", current.clip_grad),
        max_grad_norm=settings.get("max_grad_norm", current.max_grad_norm),
    )
    fixed = ([], cfg.learning_rate, cfg.clip_grad, cfg.max_grad_norm, [])
    for outputs in _stream(cfg, request):
        yield *fixed, *outputs


def show_script(
    task,
    loss,
    optimizer,
    learning_rate,
    batch_size,
    hidden_size,
    steps,
    seed,
    clip_grad,
    max_grad_norm,
    failures,
):
    """The exact training script for these settings (what training_loop_run executes), and notes on the failures.

    While a setting is out of bounds (say, half-typed), the script stays as it was and the note
    says what is wrong; a run with that setting is refused.
    """
    if task in LOSSES and loss not in LOSSES[task]:
        loss = default_loss(task)  # the task changed a moment before its loss list did
    try:
        cfg = _config(
            task,
            loss,
            optimizer,
            learning_rate,
            batch_size,
            hidden_size,
            steps,
            seed,
            clip_grad,
            max_grad_norm,
            failures,
        )
    except ConfigError as err:
        return gr.update(), f"⚠️ {visitor_markdown(err, limit=300)}"
    return render_script(cfg), describe_switches(failure_names(failures))


def stop_run(request: gr.Request = None) -> None:
    """Stop this visitor's run at its next step; returns once its last frame is out."""
    ACTIVE_RUNS.request_stop(_session_key(request))


def change_task(task: str):
    """The losses that fit a task, with its default selected."""
    if task not in TASKS:
        raise gr.Error(f"Unknown task '{visitor_text(task)}'.")
    return gr.Dropdown(choices=_loss_choices(task), value=default_loss(task))


def toggle_switches(task, failures, previous):
    """Apply or undo the task's learning-rate preset when its switch is ticked or unticked.

    Returns (optimizer, learning rate, clipping, remembered switches).
    """
    failures, previous = list(failures or []), list(previous or [])
    if "lr_too_high" in failures and "lr_too_high" not in previous:
        preset = LR_TOO_HIGH.get(task, LR_TOO_HIGH["regression"])
        return preset["optimizer"], preset["learning_rate"], preset["clip_grad"], failures
    if "lr_too_high" in previous and "lr_too_high" not in failures:
        defaults = LoopConfig()
        return defaults.optimizer, defaults.learning_rate, defaults.clip_grad, failures
    return gr.update(), gr.update(), gr.update(), failures


def _number_settings(key: str, index: int) -> dict:
    variables = EXPRESSIONS[key].variables
    if index >= len(variables):
        return {"visible": False}
    v = variables[index]
    suffix = " (requires_grad=True)" if v.requires_grad else " (plain tensor)"
    return {"value": v.default, "label": v.name + suffix, "visible": True}


def _defaults(key: str) -> dict[str, float]:
    return {v.name: v.default for v in EXPRESSIONS[key].variables}


def choose_expression(key: str):
    """Number fields labelled and filled for the chosen expression's tensors."""
    if key not in EXPRESSIONS:
        raise gr.Error("Choose an expression from the list.")
    return [gr.Number(**_number_settings(key, i)) for i in range(MAX_AUTOGRAD_VARIABLES)]


def run_backward(key: str, first, second, third, backward_twice: bool):
    """Build the expression from these numbers, call backward(), and compare each .grad with the hand-derived value.

    Returns (the PyTorch snippet that ran, a Markdown table of the gradients).
    """
    if key not in EXPRESSIONS:
        raise gr.Error("Choose an expression from the list.")
    values = [first, second, third][: len(EXPRESSIONS[key].variables)]
    try:
        result = compute_gradients(key, values, bool(backward_twice))
    except AutogradInputError as err:
        raise gr.Error(str(err)) from None
    return result.snippet, result_markdown(result)


def _build_autograd_panel(expose_api: bool) -> None:
    first_key = next(iter(EXPRESSIONS))
    with gr.Accordion("Autograd, visible: requires_grad, backward(), .grad", open=True):
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                expression = gr.Dropdown(
                    choices=[(e.title, e.key) for e in EXPRESSIONS.values()],
                    value=first_key,
                    label="Expression",
                )
                numbers = [
                    gr.Number(**_number_settings(first_key, i))
                    for i in range(MAX_AUTOGRAD_VARIABLES)
                ]
                twice = gr.Checkbox(False, label="Call backward() twice without zeroing")
                backward_button = gr.Button("Run backward()", variant="primary")
            with gr.Column(scale=2):
                snippet = gr.Code(
                    value=render_snippet(EXPRESSIONS[first_key], _defaults(first_key), False),
                    language="python",
                    label="The code that runs",
                    interactive=False,
                )
                table = gr.Markdown(
                    "Press **Run backward()** to compare each `.grad` with the value worked out by hand."
                )
    inputs = [expression, *numbers, twice]
    expression.change(
        choose_expression,
        expression,
        numbers,
        **event_api("training_loop_autograd_expression", expose_api, internal=True),
    ).then(
        run_backward,
        inputs,
        [snippet, table],
        preprocess=False,
        **event_api("training_loop_autograd_refresh", expose_api, internal=True),
    )
    gr.on(
        [backward_button.click, twice.change],
        run_backward,
        inputs,
        [snippet, table],
        preprocess=False,
        **event_api("training_loop_autograd", expose_api),
    )


def build(expose_api: bool = True) -> None:
    """Create the training-loop lab inside the current Blocks context (callable more than once).

    Layout (the course's action/result convention, course.css): settings on the left, what a run
    shows on the right (it stays in view while the settings scroll, .tool-result), and Run/Stop
    in a bar that stays at the bottom of the screen while the lab is on it (.tool-action), so
    that the action and its result are in view together at every width.
    """
    defaults = LoopConfig()
    gr.Markdown(
        "## The training loop, live\n"
        "Run the five steps on a tiny two-layer network, break them on purpose, and fix them. "
        "The code below the plots is exactly what runs."
    )
    with gr.Row(elem_classes=["training-loop-main"]):
        with gr.Column(scale=1, min_width=280):
            task = gr.Radio(
                choices=[(TASK_LABELS[t], t) for t in TASKS], value=defaults.task, label="Task"
            )
            loss = gr.Dropdown(
                choices=_loss_choices(defaults.task),
                value=defaults.loss,
                label="Loss",
                # The choices follow the task, but an API call may name another task's loss
                # in the same request; the server checks the pair (ConfigError).
                allow_custom_value=True,
            )
            # ... and so the API and MCP schema list every task's losses, not the first task's.
            loss.api_info = lambda: {"type": "string", "enum": list(ALL_LOSSES)}
            optimizer = gr.Dropdown(list(OPTIMIZERS), value=defaults.optimizer, label="Optimizer")
            lr_low, lr_high = LIMITS["learning_rate"]
            learning_rate = gr.Number(
                value=defaults.learning_rate, label="Learning rate", minimum=lr_low, maximum=lr_high
            )
            batch_size = gr.Slider(
                *LIMITS["batch_size"], value=defaults.batch_size, step=1, label="Batch size"
            )
            hidden_size = gr.Slider(
                *LIMITS["hidden_size"], value=defaults.hidden_size, step=1, label="Hidden size"
            )
            steps = gr.Slider(10, config.MAX_STEPS, value=defaults.steps, step=10, label="Steps")
            seed = gr.Number(value=defaults.seed, precision=0, minimum=0, label="Seed")
            with gr.Row():
                clip_grad = gr.Checkbox(
                    defaults.clip_grad, label="Clip gradients (clip_grad_norm_)"
                )
                norm_low, norm_high = LIMITS["max_grad_norm"]
                max_grad_norm = gr.Number(
                    value=defaults.max_grad_norm,
                    label="max_norm",
                    minimum=norm_low,
                    maximum=norm_high,
                )
            failures = gr.CheckboxGroup(choices=failure_choices(), value=[], label="Break it")
            failure_notes = gr.Markdown()
        with gr.Column(scale=2, elem_classes=["tool-result", "training-loop-results"]):
            status = gr.Markdown("Press **Run** to train.", elem_classes=["training-loop-status"])
            fix_button = gr.Button("Fix it", variant="secondary", visible=False)
            with gr.Row():
                loss_plot = gr.LinePlot(
                    x="step",
                    y="loss",
                    title="Loss, step by step",
                    x_lim=[0, defaults.steps],
                    y_axis_format=AXIS_FORMAT,
                    height=230,
                    min_width=240,
                    elem_classes=["training-loop-loss-plot"],
                )
                grad_plot = gr.LinePlot(
                    x="step",
                    y="gradient norm",
                    title="Gradient norm at step()",
                    x_lim=[0, defaults.steps],
                    y_axis_format=AXIS_FORMAT,
                    height=230,
                    min_width=240,
                    elem_classes=["training-loop-grad-plot"],
                )
            fit_plot = gr.ScatterPlot(
                x="x",
                y="y",
                color="series",
                color_map=FIT_COLORS,
                title=FIT_VIEW[defaults.task]["title"],
                **FIT_SHAPE[defaults.task],
            )
    with gr.Row(elem_classes=["tool-action", "training-loop-actions"]):
        run_button = gr.Button("Run", variant="primary", elem_classes=["training-loop-run"])
        stop_button = gr.Button("Stop", variant="stop")
    code = gr.Code(
        value=render_script(defaults),
        language="python",
        label="The exact script this run executes: copy it into train.py",
        interactive=False,
        elem_classes=["training-loop-code"],
    )
    _build_autograd_panel(expose_api)

    problems = gr.State([])
    switches_before = gr.State([])
    # The events that take settings from callers run with preprocess=False: Gradio's own checks
    # answer a string where a number belongs with {'error': None} and a traceback, while
    # make_config and compute_gradients accept loosely typed values and name the field at fault.
    settings = [
        task,
        loss,
        optimizer,
        learning_rate,
        batch_size,
        hidden_size,
        steps,
        seed,
        clip_grad,
        max_grad_norm,
        failures,
    ]
    run_outputs = [loss_plot, grad_plot, fit_plot, status, fix_button, problems]

    task.change(
        change_task, task, loss, **event_api("training_loop_task", expose_api, internal=True)
    )
    failures.input(
        toggle_switches,
        [task, failures, switches_before],
        [optimizer, learning_rate, clip_grad, switches_before],
        **event_api("training_loop_switches", expose_api, internal=True),
    )
    gr.on(
        [s.change for s in settings],
        show_script,
        settings,
        [code, failure_notes],
        preprocess=False,
        **event_api("training_loop_script", expose_api),
    )
    run_event = run_button.click(
        run_lab,
        settings,
        run_outputs,
        concurrency_limit=config.CONCURRENCY_LIMIT,
        concurrency_id=RUN_CONCURRENCY_ID,
        show_progress="minimal",
        preprocess=False,
        **event_api("training_loop_run", expose_api),
    )
    fix_event = fix_button.click(
        fix_and_run,
        [problems, *settings],
        [failures, learning_rate, clip_grad, max_grad_norm, switches_before, *run_outputs],
        concurrency_limit=config.CONCURRENCY_LIMIT,
        concurrency_id=RUN_CONCURRENCY_ID,
        show_progress="minimal",
        preprocess=False,
        **event_api("training_loop_fix", expose_api),
    )
    # Stop ends a running run from the inside (its last frame says so); the cancel that follows
    # only removes a run still waiting in the queue.
    stop_button.click(
        stop_run,
        None,
        None,
        queue=False,
        **event_api("training_loop_stop", expose_api, internal=True),
    ).then(
        None,
        cancels=[run_event, fix_event],
        **event_api("training_loop_cancel", expose_api, internal=True),
    )
