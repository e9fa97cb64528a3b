"""The lab through its API (gradio_client), and the promise that importing the UI skips torch."""

import subprocess
import sys
from pathlib import Path

import gradio as gr
import pytest
from gradio_client import Client

from demos.training_loop.loop_config import LoopConfig
from demos.training_loop.ui import SETTING_NAMES, build, run_lab, setting_values

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = LoopConfig()
DEFAULT_ARGS = setting_values(DEFAULT)


@pytest.fixture(scope="module")
def client():
    """The lab built twice (tab and page), as app.py does, served in-process."""
    with gr.Blocks() as demo:
        build()
    with demo.route("Training loop", "/training-loop"):
        build(expose_api=False)
    demo.launch(prevent_thread_lock=True, quiet=True)  # Gradio picks a free port
    yield Client(demo.local_url, verbose=False)
    demo.close()


def test_each_endpoint_is_listed_once(client):
    names = list(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    for name in [
        "/training_loop_run",
        "/training_loop_script",
        "/training_loop_autograd",
        "/training_loop_fix",
    ]:
        assert names.count(name) == 1
    assert not [n for n in names if n.endswith("_page")]


def test_run_streams_several_plot_updates_and_a_diagnosis(client):
    job = client.submit(*DEFAULT_ARGS, api_name="/training_loop_run")
    updates = list(job)
    assert len(updates) >= 5
    # The client leaves out the button update and the session state: four outputs remain.
    loss_plot, grad_plot, fit_plot, status = updates[-1]
    assert "Finished 500 of 500 steps" in status
    assert grad_plot["value"]["data"][-1][0] == DEFAULT.steps - 1
    rows = loss_plot["value"]["data"]  # thinned for the browser, first and last step kept
    assert rows[0][0] == 0 and rows[-1][0] == DEFAULT.steps - 1
    assert rows[-1][1] < rows[0][1]
    assert {r[2] for r in fit_plot["value"]["data"]} == {"data", "model"}


def test_server_refuses_a_run_beyond_its_bounds(client):
    args = list(DEFAULT_ARGS)
    args[6] = 10_000_000  # steps
    with pytest.raises(Exception, match="number of steps must be between 1 and"):
        client.predict(*args, api_name="/training_loop_run")


@pytest.mark.parametrize(
    "position, value", [(6, 10_000_000), (5, 4096), (3, 1e6), (1, "cross_entropy")]
)
def test_run_function_checks_bounds_itself(position, value):
    """Below the widgets' own checks, the event function refuses out-of-bounds settings too."""
    args = list(DEFAULT_ARGS)
    args[position] = value
    with pytest.raises(gr.Error):
        next(run_lab(*args))


def test_diverging_run_reports_the_problem(client):
    args = list(DEFAULT_ARGS)
    args[2], args[3] = "SGD", 2.0
    *_, status = client.predict(*args, api_name="/training_loop_run")
    assert "Diverged" in status and "Learning rate far too high" in status


def test_script_endpoint_returns_the_code_that_runs(client):
    script, notes = client.predict(
        *DEFAULT_ARGS[:-1], ["frozen_layer"], api_name="/training_loop_script"
    )
    assert "model[0].weight.requires_grad_(False)" in script
    assert "requires_grad=False" in notes


def test_autograd_endpoint_compares_grads(client):
    snippet, table = client.predict(
        "square", 1.0, 2.0, 3.0, False, api_name="/training_loop_autograd"
    )
    assert "z.backward()" in snippet
    assert "❌" not in table and table.count("✅") == 3


def test_importing_the_ui_does_not_import_torch():
    code = "import sys, demos.training_loop.ui; print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers')))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_runs_share_one_queue_limit_across_tab_and_page():
    from demos.training_loop import config

    with gr.Blocks() as demo:
        build()
        build(expose_api=False)
    runs = [fn for fn in demo.fns.values() if fn.name in ("run_lab", "fix_and_run")]
    assert len(runs) == 4
    assert {fn.concurrency_id for fn in runs} == {"training_loop_run"}
    assert {fn.concurrency_limit for fn in runs} == {config.CONCURRENCY_LIMIT}


def test_classification_run_colours_points_by_prediction(client):
    args = list(DEFAULT_ARGS)
    args[0], args[1], args[6] = "classification", "cross_entropy", 300
    *_, fit_plot, status = client.predict(*args, api_name="/training_loop_run")
    assert "accuracy" in status
    series = {row[2] for row in fit_plot["value"]["data"]}
    assert series <= {"class 0", "class 1", "misclassified"} and {"class 0", "class 1"} <= series


def test_script_preview_tolerates_half_typed_values():
    from demos.training_loop.ui import show_script

    args = list(DEFAULT_ARGS)
    args[3] = 0  # a learning rate being typed: "0" on the way to "0.001"
    code, note = show_script(*args)
    assert note.startswith("⚠️") and "learning rate" in note
    args = list(DEFAULT_ARGS)
    args[0] = "classification"  # the loss list has not caught up yet
    code, note = show_script(*args)
    assert "nn.CrossEntropyLoss()" in code


def test_fix_and_run_applies_the_fix_then_trains():
    from demos.training_loop.ui import fix_and_run

    args = list(DEFAULT_ARGS)
    args[2], args[3], args[10] = "SGD", 2.0, ["lr_too_high", "frozen_layer"]
    updates = list(fix_and_run(["lr_too_high"], *args))
    failures, learning_rate, clip_grad, max_grad_norm, switches = updates[0][:5]
    assert (failures, learning_rate, clip_grad, max_grad_norm, switches) == ([], 0.1, True, 1.0, [])
    status = updates[-1][8]
    assert status.startswith("Finished 500 of 500 steps")


def test_long_runs_are_thinned_for_the_plot_but_keep_the_last_step():
    from demos.training_loop.runner import Frame
    from demos.training_loop.ui import MAX_PLOT_POINTS, loss_frame

    losses = [float(i) for i in range(2999)] + [float("nan")]
    table = loss_frame(Frame(3000, 3000, losses, losses, None))
    assert len(table) <= MAX_PLOT_POINTS + 1
    assert table["step"].iloc[0] == 0 and table["step"].iloc[-1] == 2998


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("learning_rate", "NaN", "learning rate must be a finite number; got 'NaN'"),
        ("learning_rate", "fast", "learning rate must be a number; got 'fast'"),
        ("learning_rate", None, "learning rate must be a number"),
        ("steps", "lots", "number of steps must be a whole number"),
        ("task", 3, "task must be one of the listed names"),
        ("optimizer", "Nope", "Unknown optimizer 'Nope'"),
        ("clip_grad", "maybe", "gradient clipping setting must be true or false"),
        ("failures", ["melt_gpu"], "Unknown failure(s): 'melt_gpu'"),
    ],
)
def test_a_bad_value_from_an_api_caller_gets_a_message_naming_the_field(
    client, name, value, message
):
    """Strings where numbers belong (as a model or a script sends them) are answered in words."""
    args = list(DEFAULT_ARGS)
    args[SETTING_NAMES.index(name)] = value
    with pytest.raises(Exception) as raised:
        client.predict(*args, api_name="/training_loop_run")
    assert message in str(raised.value)


def test_numbers_and_switches_sent_as_text_are_understood(client):
    values = dict(zip(SETTING_NAMES, DEFAULT_ARGS, strict=True))
    values.update(
        learning_rate="0.05", steps="20", seed="3", clip_grad="true", failures="frozen_layer"
    )
    *_, status = client.predict(*values.values(), api_name="/training_loop_run")
    assert "Finished 20 of 20 steps" in status
    script, notes = client.predict(*values.values(), api_name="/training_loop_script")
    assert "LEARNING_RATE = 0.05" in script and "clip_grad_norm_" in script
    assert "requires_grad_(False)" in script


def test_autograd_refuses_text_that_is_not_a_number(client):
    with pytest.raises(Exception, match="The value of a must be a number"):
        client.predict("square", "x", 2.0, 3.0, False, api_name="/training_loop_autograd")
