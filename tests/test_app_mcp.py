"""`python app.py`'s MCP server through the `mcp` package's own client (tests/mcp_client.py).

Every training-loop and classifier tool is called with what a model sends: some arguments,
others left out, numbers as text, values out of range. Each call ends in a result or in a clean
error a model can act on; never a crash (an exception in the client, an empty or internal
message). The calculator's and the lab's tools are tested by their own modules.
"""

from __future__ import annotations

import httpx
import pytest

from tests.hub.conftest import save_tiny_classifier, save_tiny_nli, save_tiny_t5
from tests.mcp_client import McpClient

# Messages that mean the server failed, not the caller.
CRASH_SIGNS = ("Traceback", "pop index", "None", "Error()", "KeyError", "IndexError")

OK = None  # the call succeeds


class Answers(str):
    """The call succeeds and its answer contains these words (an offline note, for example)."""


TOKEN = "hf_SentinelTokenThatMustNeverLeak0123456789"
# endpoint, arguments as a model sends them, OK, Answers(words the answer must contain) or
# words the error must contain
CALLS = [
    ("training_loop_run", {}, OK),
    ("training_loop_run", {"learning_rate": 0.05, "steps": 30}, OK),
    ("training_loop_run", {"task": "classification", "loss": "cross_entropy", "steps": 30}, OK),
    ("training_loop_run", {"learning_rate": "NaN"}, "not of type 'number'"),
    ("training_loop_run", {"steps": 100000}, "number of steps must be between 1 and"),
    ("training_loop_run", {"learning_rate": 1e9}, "learning rate must be between"),
    ("training_loop_run", {"task": "classification", "loss": "mse"}, "does not fit"),
    ("training_loop_run", {"failures": ["melt_gpu"]}, "melt_gpu"),
    ("training_loop_fix", {"failures": ["lr_too_high"], "steps": 30}, OK),
    ("training_loop_fix", {"optimizer": "SGD", "learning_rate": 2.0, "steps": 30}, OK),
    ("training_loop_script", {"task": "classification", "loss": "cross_entropy"}, OK),
    ("training_loop_script", {}, OK),
    ("training_loop_autograd", {"key": "square"}, OK),
    ("training_loop_autograd", {"key": "tanh", "first": 0.5}, OK),
    ("training_loop_autograd", {"key": "cube"}, "'cube' is not one of"),
    ("training_loop_autograd", {"key": "square", "first": 1e30}, "finite number between"),
    ("advice_classify", {"post": "My landlord kept my deposit. Should I take him to court?"}, OK),
    ("advice_classify", {"post": ""}, OK),  # the answer's note says the post is empty
    ("advice_classify", {}, "post"),
    ("advice_classify_batch", {"posts": "I am so tired of all of this."}, OK),
    pytest.param(
        "advice_other_task",
        {"task_name": "sentiment", "post": "I love it"},
        OK,
        marks=pytest.mark.xfail(
            reason="classifier's area: the schema requires model_ref and allows only listed IDs",
        ),
    ),
    ("advice_other_task", {"task_name": "astrology", "post": "hi", "model_ref": ""}, "astrology"),
    ("advice_search_hub", {"query": "sentiment"}, Answers("offline")),
    ("advice_search_hub", {"query": "x", "limit": 10**6}, "maximum"),
]


@pytest.fixture(scope="module")
def app_env(tmp_path_factory):
    """Tiny random models for every classifier setting; a fine-tune writes to a temporary folder."""
    root = tmp_path_factory.mktemp("mcp-models")
    classifier = save_tiny_classifier(root / "classifier")
    return {
        "HF_TOKEN": TOKEN,  # must never appear in a tool's answer (or the log: tests/conftest.py)
        "COURSE_MCP_SERVER": "true",
        "ADVICE_MODEL": str(classifier),
        "ADVICE_BASE_MODEL": str(classifier),
        "ADVICE_ZERO_SHOT_MODEL": str(save_tiny_nli(root / "nli")),
        "ADVICE_SENTIMENT_MODEL": str(
            save_tiny_classifier(root / "sentiment", labels=("NEGATIVE", "POSITIVE"))
        ),
        "ADVICE_T5_MODEL": str(save_tiny_t5(root / "t5")),
        "ADVICE_OUTPUT_DIR": str(root / "fine-tuned"),
        "ADVICE_TRAIN_EPOCHS": "1",
        "ADVICE_TRAIN_TIME_LIMIT": "30",
    }


@pytest.fixture(scope="module")
def client(app_url):
    return McpClient(app_url)


@pytest.fixture(scope="module")
def tools(client):
    return client.tools_by_endpoint()


def test_every_public_endpoint_is_a_tool_with_a_description(client, tools, app_url):
    info = httpx.get(app_url + "/gradio_api/info").json()
    public = {name.strip("/") for name in info["named_endpoints"]}
    assert set(tools) == public
    listed = {tool.name: tool for tool in client.list_tools()}
    assert set(listed) == set(tools.values())
    for endpoint in public:
        if endpoint.startswith("training_loop"):
            assert listed[tools[endpoint]].description, endpoint


@pytest.mark.xfail(reason="classifier's area: its event functions have no docstrings")
def test_every_classifier_tool_has_a_description(client, tools):
    listed = {tool.name: tool for tool in client.list_tools()}
    for endpoint, name in tools.items():
        if endpoint.startswith("advice"):
            assert listed[name].description, endpoint


@pytest.mark.parametrize(
    "endpoint, arguments, expected",
    CALLS,
    ids=[f"{(c.values if hasattr(c, 'values') else c)[0]}-{i}" for i, c in enumerate(CALLS)],
)
def test_a_tool_called_as_a_model_would_answers_or_explains(
    client, tools, endpoint, arguments, expected
):
    result = client.call(tools[endpoint], arguments)
    if expected is OK or isinstance(expected, Answers):
        assert not result.is_error, result.text
        assert result.texts, "a result with no content"
        assert expected is OK or expected in result.text, result.text
    else:
        assert result.is_error, f"accepted: {result.text[:300]}"
        assert expected in result.text, result.text
    if result.is_error:
        assert result.text.strip() and not any(sign in result.text for sign in CRASH_SIGNS)
    assert TOKEN not in result.text and TOKEN not in str(result.structured)


def test_a_training_run_over_mcp_returns_its_plots_and_diagnosis(client, tools):
    result = client.call(tools["training_loop_run"], {"steps": 40, "seed": 1})
    assert not result.is_error, result.text
    assert any("Finished 40 of 40 steps" in text for text in result.texts)


def test_fine_tune_over_mcp_ends_cleanly(client, tools):
    """Whatever the policy for who may fine-tune, an anonymous call is answered, not crashed."""
    result = client.call(tools["advice_fine_tune"], {})
    assert result.text.strip()
    assert not any(sign in result.text for sign in CRASH_SIGNS), result.text
