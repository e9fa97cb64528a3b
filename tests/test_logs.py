"""demos/logs.py, piece by piece (the whole app's log is checked in tests/test_app_logs.py)."""

from __future__ import annotations

import io
import logging
import sys

import gradio as gr
import pytest
from gradio.exceptions import ComponentProcessingError

from demos import logs

SECRET = "hf_NeverPrintThisToken0123456789"


def test_secret_values_are_long_values_of_secret_looking_names():
    environ = {
        "HF_TOKEN": SECRET,
        "OAUTH_CLIENT_SECRET": "abcdefgh-secret",
        "OPENAI_API_KEY": "sk-0123456789",
        "SHORT_TOKEN": "1",  # too short to mask safely
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "TOKENIZERS_PARALLELISM": "false-but-long",
    }
    assert set(logs.secret_values(environ)) == {SECRET, "abcdefgh-secret", "sk-0123456789"}


def _logger_into(stream: io.StringIO) -> logging.Logger:
    logger = logging.getLogger(f"test-logs-{id(stream)}")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    return logger


def test_every_log_record_is_masked_message_and_traceback(monkeypatch):
    previous = logging.getLogRecordFactory()
    mask = logs.SecretMask([SECRET])
    logging.setLogRecordFactory(logs.masking_record_factory(mask, previous))
    try:
        out = io.StringIO()
        logger = _logger_into(out)
        logger.warning("provider said: %s", f"bad token {SECRET}")
        try:
            raise RuntimeError(f"401 for Bearer {SECRET}")
        except RuntimeError:
            logger.exception("call failed")
    finally:
        logging.setLogRecordFactory(previous)
    text = out.getvalue()
    assert SECRET not in text
    assert "bad token ***" in text and "Bearer ***" in text
    assert "Traceback (most recent call last)" in text  # a real error keeps its traceback


def test_stdout_and_stderr_writes_are_masked():
    target = io.StringIO()
    stream = logs.MaskingStream(target, logs.SecretMask([SECRET]))
    print(f"echo: {SECRET}!", file=stream)
    assert target.getvalue() == "echo: ***!\n"
    assert stream.writable()


def _raised(make):
    try:
        make()
    except BaseException as exc:  # noqa: BLE001 - the test hands it on
        return exc
    raise AssertionError("nothing was raised")


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: (_ for _ in ()).throw(gr.Error("Give a number.")), "Give a number."),
        (lambda: gr.Number(maximum=3).preprocess(10), "greater than maximum value 3"),
        (lambda: gr.Dropdown(["a", "b"]).preprocess("c"), "not in the list of choices"),
    ],
)
def test_a_rejected_input_is_one_line(make, expected):
    reason = logs.rejected_reason(_raised(make))
    assert expected in reason and "\n" not in reason


def test_a_value_a_component_could_not_read_is_one_line():
    exc = ComponentProcessingError(
        "Could not preprocess input component at index 3 (a `number` component)\n\n"
        "Expected a `float | None`, but the value passed was: 'abc'\n\n"
        "Original error: TypeError: '<' not supported"
    )
    reason = logs.rejected_reason(exc)
    assert reason.startswith("Could not preprocess input component at index 3")
    assert reason.endswith("Original error: TypeError: '<' not supported")


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyError("x"), ValueError("bad state")])
def test_a_real_error_is_not_called_a_rejected_input(exc):
    assert logs.rejected_reason(exc) is None


def test_gradio_s_print_exc_logs_one_line_for_a_rejection_and_a_traceback_otherwise(capsys, caplog):
    quiet = logs._QuietTraceback()
    caplog.set_level(logging.INFO, logger="course.requests")
    try:
        raise gr.Error("The learning rate must be a number; got 'NaN'.")
    except gr.Error:
        quiet.print_exc()
    try:
        raise RuntimeError("a real bug")
    except RuntimeError:
        quiet.print_exc()
    err = capsys.readouterr().err
    assert err.count("Traceback (most recent call last)") == 1 and "a real bug" in err
    assert "learning rate" not in err
    assert [r.getMessage() for r in caplog.records] == [
        "rejected input: The learning rate must be a number; got 'NaN'."
    ]
    assert quiet.format_exc is not None  # the rest of the module is the real one


def test_install_wires_gradio_s_modules(monkeypatch):
    """install() replaces traceback in the modules that report an event's exception."""
    import gradio.queueing
    import gradio.routes
    import gradio.utils

    monkeypatch.setattr(logs, "_installed", False)
    for module in (gradio.queueing, gradio.routes, gradio.utils):
        monkeypatch.setattr(module, "traceback", module.traceback)
    monkeypatch.setattr(sys, "stdout", sys.stdout)
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    previous = logging.getLogRecordFactory()
    try:
        logs.install({"HF_TOKEN": SECRET})
        for module in (gradio.queueing, gradio.routes, gradio.utils):
            assert isinstance(module.traceback, logs._QuietTraceback), module.__name__
        assert isinstance(sys.stderr, logs.MaskingStream)
    finally:
        logging.setLogRecordFactory(previous)
        for name in ("course", "demos"):
            logger = logging.getLogger(name)
            logger.handlers = [h for h in logger.handlers if h.stream is not sys.stderr]
            logger.propagate = True
