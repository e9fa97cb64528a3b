"""The whole app served in-process: pages, the API surface and what the page never carries."""

import json
import urllib.request
from pathlib import Path

import pytest
from gradio_client import Client

import app
from demos.course import load_course
from tests.servers import free_port

DATA = Path(__file__).parent / "course" / "data"


def _serve(course):
    demo = app.build_app(course)
    demo.queue()
    port = free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        ssr_mode=False,
        app_kwargs={"exception_handlers": {404: app.not_found_page([])}},
    )
    return demo, f"http://127.0.0.1:{port}"


def _get(url: str, accept: str = "application/json") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


SENTINEL_TOKEN = "hf_SentinelTokenThatMustNeverLeak0123456789"


@pytest.fixture(scope="module")
def app_env():
    return {"HF_TOKEN": SENTINEL_TOKEN}


@pytest.fixture(scope="module")
def served(app_url):
    return app_url


def test_a_broken_lesson_is_named_and_the_others_still_serve():
    demo, url = _serve(load_course(DATA / "broken"))
    try:
        status, config = _get(url + "/config")
        assert status == 200
        assert "02-bad.md" in config and "quiz[1].choices" in config
        assert "Alpha: the first lesson" in config
        assert _get(url + "/alpha", accept="text/html")[0] == 200
        assert _get(url + "/bad", accept="text/html")[0] == 404
    finally:
        demo.close()


def test_every_lesson_and_tool_has_its_own_page(served):
    config = json.loads(_get(served + "/config")[1])
    paths = {page[0] for page in config["pages"]}
    expected = {les.id for les in load_course().lessons} | {t.id for t in app.TOOLS}
    assert expected <= paths
    for path in expected:
        assert _get(f"{served}/{path}", accept="text/html")[0] == 200


def test_unknown_page_is_a_clean_404_for_api_clients(served):
    status, body = _get(served + "/no-such-page")
    assert status == 404 and json.loads(body) == {"detail": "Not Found"}


def test_api_lists_each_tool_endpoint_once_and_no_course_internals(served):
    api = Client(served, verbose=False).view_api(print_info=False, return_format="dict")
    names = list(api["named_endpoints"])
    assert names, "the tools expose no endpoint"
    assert not [n for n in names if n.endswith("_page")], names
    # Quiz answers and progress are browser-only: never an API endpoint.
    assert not [n for n in names if "answer" in n or "progress" in n or "mark_read" in n], names


def test_the_token_never_reaches_the_page_or_the_api(served):
    for path in ("/config", "/", "/lab", "/gradio_api/info", "/gradio_api/mcp/schema"):
        status, body = _get(served + path)
        assert SENTINEL_TOKEN not in body, path
