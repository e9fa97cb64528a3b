"""`python app.py` probed with bad input: clean answers, one log line each, no secret anywhere."""

from __future__ import annotations

import json

import httpx
import pytest

from bench.gradio_http import call_sync, positional
from demos.training_loop.loop_config import LoopConfig
from demos.training_loop.ui import SETTING_NAMES, setting_values

TOKEN = "hf_SentinelTokenThatMustNeverLeak0123456789"
CLIENT_SECRET = "oauth-sentinel-secret-0123456789"
LOOP = dict(zip(SETTING_NAMES, setting_values(LoopConfig()), strict=True))

# Inputs each refused inside its event: by the app's own checks (gr.Error) or by Gradio's range
# and choice checks. name, arguments by parameter name, words the answer must contain.
REJECTED = [
    ("training_loop_run", {**LOOP, "learning_rate": "NaN"}, "learning rate"),
    ("training_loop_run", {**LOOP, "steps": 10**9}, "number of steps"),
    ("training_loop_fix", {**LOOP, "optimizer": "Nope"}, "optimizer"),
    ("training_loop_autograd", {"key": "square", "first": "x"}, "must be a number"),
    ("advice_search_hub", {"task": "text-classification", "query": "x", "limit": 10**6}, "maximum"),
    ("advice_other_task", {"task_name": "astrology", "post": "hi"}, "choices"),
]


@pytest.fixture(scope="module")
def app_env():
    return {"HF_TOKEN": TOKEN, "OAUTH_CLIENT_SECRET": CLIENT_SECRET}


@pytest.fixture(scope="module")
def probed(app_url):
    """Every rejected input sent once; the answers and every body the probe saw."""
    info = httpx.get(app_url + "/gradio_api/info").json()
    answers, bodies = [], []
    for number, (name, arguments, _) in enumerate(REJECTED):
        data = positional(info, name, arguments)
        reply = call_sync(app_url, name, data, f"probe-{number}")
        answers.append(reply)
        bodies.append(json.dumps(reply.data))
    for path in ("/", "/config", "/gradio_api/info", "/lab", "/training-loop"):
        bodies.append(httpx.get(app_url + path).text)
    bodies.append(httpx.post(app_url + "/gradio_api/call/no_such_tool", json={"data": []}).text)
    return answers, bodies


def test_each_rejected_input_gets_a_message_naming_what_is_wrong(probed):
    answers, _ = probed
    for (name, _, words), reply in zip(REJECTED, answers, strict=True):
        assert reply.event == "error", (name, reply)
        message = (reply.data or {}).get("error")
        assert message and words in message, (name, reply.data)


def test_each_rejected_input_is_one_line_in_the_log_and_no_traceback(probed, app_log_path):
    log = app_log_path.read_text()
    assert "Traceback (most recent call last)" not in log, log[-3000:]
    rejected = [line for line in log.splitlines() if "rejected input:" in line]
    assert len(rejected) == len(REJECTED), rejected


def test_no_answer_and_no_page_carries_a_secret(probed, app_log_path):
    _, bodies = probed
    for body in bodies:
        assert TOKEN not in body and CLIENT_SECRET not in body
    log = app_log_path.read_text()
    assert TOKEN not in log and CLIENT_SECRET not in log
