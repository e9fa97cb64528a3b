"""The 'estimate' endpoint through gradio_client and a real MCP client, on a Blocks holding only the calculator."""

from __future__ import annotations

import asyncio
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


def test_a_call_needs_only_a_model_and_a_dataset_size(client):
    result = client.predict(model="gpt2", examples="2000", api_name="/estimate")
    assert result["assumptions"]["task"] == "causal-lm" and result["hours"] > 0


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
        ({"batch_size": "0.5"}, "Batch size (per GPU) must be a whole number"),
        ({"mfu": "NaN"}, "MFU"),
        ({"lora_rank": "abc"}, "LoRA rank"),
        ({"gradient_checkpointing": "maybe"}, "Gradient checkpointing"),
    ],
)
def test_bad_input_is_a_clean_api_error(client, changes, expected, capfd):
    with pytest.raises(Exception) as error:
        client.predict(**{**FRIEND_ARGS, **changes}, api_name="/estimate")
    message = str(error.value)
    assert expected in message and "Traceback" not in message and "None" not in message
    # Issue 11, item 7: a visitor's typo is not logged as a server traceback.
    assert "Traceback" not in capfd.readouterr().err


def test_mcp_tool_describes_every_input(url):
    schema = json.loads(urllib.request.urlopen(f"{url}/gradio_api/mcp/schema", timeout=10).read())
    tools = {tool["name"]: tool for tool in schema}
    assert "estimate" in tools
    input_schema = tools["estimate"]["inputSchema"]
    properties = input_schema["properties"]
    assert set(FRIEND_ARGS) <= set(properties)
    for name, prop in properties.items():
        assert prop.get("description"), f"no description for {name}"
    # Issue 11, item 6: a Hub ID or no model at all is allowed, and nothing is required.
    assert "enum" not in json.dumps(properties["model"])
    assert not input_schema.get("required")


async def _call_over_mcp(url: str, calls: list[dict]) -> tuple[list[str], list]:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async with streamablehttp_client(f"{url}/gradio_api/mcp/") as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = [tool.name for tool in (await session.list_tools()).tools]
            results = [await session.call_tool("estimate", arguments) for arguments in calls]
    return tools, results


def test_a_real_mcp_client_calls_estimate_as_a_model_would(url):
    """Arguments an LLM sends: a built-in key, a Hub ID, numbers as strings, no model but a count."""
    calls = [
        {"model": "Llama-3.2-3B", "examples": "50000", "tokens_per_example": "256", "epochs": "5"},
        {"model": "", "parameters": "125M", "examples": 20000, "method": "full"},
        {"parameters": "7B", "examples": "1000", "gpu": "A100-80GB", "batch_size": "4"},
        {"model": "HuggingFaceTB/SmolLM2-360M", "examples": "100"},  # Hub ID: offline here
        {"parameters": "1B", "examples": "100", "batch_size": "0.5"},
    ]
    tools, results = asyncio.run(_call_over_mcp(url, calls))
    assert "estimate" in tools
    for result in results[:3]:
        assert not result.isError, result.content
        data = json.loads(result.content[0].text)
        assert data["hours"] > 0 and data["recommendation"]["headline"]
    assert json.loads(results[1].content[0].text)["assumptions"]["flops_per_parameter_token"] == 6
    hub, bad = results[3], results[4]
    assert hub.isError and "Hub" in hub.content[0].text  # a clean sentence, not a schema refusal
    assert bad.isError and "whole number" in bad.content[0].text
