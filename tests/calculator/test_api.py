"""The 'estimate' endpoint through gradio_client and the MCP schema, on a Blocks holding only the calculator."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import asdict

import pytest

from demos.calculator.fields import FRIEND_SCENARIO

# The same preset the UI's "friend's scenario" button loads, as a form would send it.
FRIEND_ARGS = {**asdict(FRIEND_SCENARIO), "parameters": ""}


@pytest.fixture(scope="module")
def url():
    import gradio as gr

    from demos.calculator.ui import build

    with gr.Blocks() as demo:
        build(expose_api=True)
        build(expose_api=False)  # built twice, as app.py does: names must not clash
    demo.launch(prevent_thread_lock=True, mcp_server=True, ssr_mode=False, quiet=True)
    yield demo.local_url.rstrip("/")  # Gradio picked a free port
    demo.close()


@pytest.fixture(scope="module")
def client(url):
    from gradio_client import Client

    return Client(url, verbose=False)


def test_only_estimate_is_public(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert list(endpoints) == ["/estimate"]
    names = [p["parameter_name"] for p in endpoints["/estimate"]["parameters"]]
    assert names[:3] == ["mode", "model", "parameters"] and "seconds_per_batch" in names


def test_friend_scenario_through_the_api(client):
    result = client.predict(**FRIEND_ARGS, api_name="/estimate")
    assert result["recommendation"]["platform"] == "kaggle_t4"
    assert result["gpu"] == "T4" and 15 < result["hours"] < 30
    assert {v["gpu"] for v in result["verdicts"]} >= {"T4", "A100-80GB", "H100"}


def test_measured_through_the_api(client):
    args = {**FRIEND_ARGS, "mode": "measured", "seconds_per_batch": 0.5, "steps": 7200}
    result = client.predict(**args, api_name="/estimate")
    assert abs(result["hours"] - 1.0) < 1e-6


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"parameters": "-5", "model": ""}, "parameter count"),
        ({"gpu": "Z80"}, "Unknown GPU"),
        ({"epochs": 0}, "Epochs"),
        ({"model": "owner/unknown-model"}, "HF_HUB_OFFLINE"),
    ],
)
def test_bad_input_is_a_clean_api_error(client, changes, expected):
    with pytest.raises(Exception) as error:
        client.predict(**{**FRIEND_ARGS, **changes}, api_name="/estimate")
    message = str(error.value)
    assert expected in message and "Traceback" not in message


def test_mcp_tool_describes_every_input(url):
    schema = json.loads(urllib.request.urlopen(f"{url}/gradio_api/mcp/schema", timeout=10).read())
    tools = {tool["name"]: tool for tool in schema}
    assert "estimate" in tools
    properties = tools["estimate"]["inputSchema"]["properties"]
    assert set(FRIEND_ARGS) <= set(properties)
    for name, prop in properties.items():
        assert prop.get("description"), f"no description for {name}"
