"""The whole Space in-process, probed as a careless or hostile API caller would.

Calls the Space does not offer get a clean 4xx, uploads are capped, REST calls queue.
"""

from __future__ import annotations

import httpx
import pytest

from bench.gradio_http import call_sync
from demos import serving
from demos.training_loop.loop_config import LoopConfig
from demos.training_loop.ui import setting_values
from tests.servers import app_in_process

DEFAULT_ARGS = setting_values(LoopConfig())


@pytest.fixture(scope="module")
def url():
    with app_in_process() as demo:
        yield demo.local_url.rstrip("/")


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/call/no_such_tool",
        "/gradio_api/call/v2/no_such_tool",
        "/gradio_api/run/no_such_tool",
        "/gradio_api/api/no_such_tool",
        "/gradio_api/call/" + "x" * 500,
    ],
)
def test_an_unknown_endpoint_name_is_a_clean_404(url, path):
    response = httpx.post(url + path, json={"data": []})
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert detail.startswith("No API endpoint is named") and len(detail) < 200


def test_a_private_twin_cannot_be_called_by_name(url):
    """An embeddable page's copy of a public endpoint is for that page, not for API callers."""
    response = httpx.post(url + "/gradio_api/call/estimate_page", json={"data": []})
    assert response.status_code == 404
    assert call_sync(url, "no_such_tool", []).status == 404


def test_an_unknown_event_index_is_a_clean_404(url):
    body = {"data": [], "fn_index": 99999, "session_hash": "probe"}
    response = httpx.post(url + "/gradio_api/queue/join", json=body)
    assert response.status_code == 404
    assert "No event has the index 99999" in response.json()["detail"]


def _event_index(url, name):
    config = httpx.get(url + "/config").json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == name)


def test_the_page_s_unqueued_events_still_run_by_index(url):
    """The page posts events that skip the queue (Stop, warm-ups) to /run/<name> with the index."""
    index = _event_index(url, "training_loop_stop")  # private, queue=False
    body = {"data": [], "fn_index": index, "session_hash": "probe-page"}
    response = httpx.post(url + "/gradio_api/run/training_loop_stop", json=body)
    assert response.status_code == 200, response.text
    response = httpx.post(url + "/gradio_api/run/predict", json={**body, "fn_index": 99999})
    assert response.status_code == 404
    assert "No event has the index 99999" in response.json()["detail"]


def test_malformed_bodies_get_gradio_s_own_422(url):
    response = httpx.post(url + "/gradio_api/queue/join", content=b"[1, 2]")
    assert response.status_code == 422


def test_queue_join_still_serves_a_real_event(url):
    """The page's own way in (an event's index, the body read and handed on) still works."""
    info = httpx.get(url + "/config").json()
    index = next(
        d["id"] for d in info["dependencies"] if d.get("api_name") == "training_loop_script"
    )
    body = {"data": DEFAULT_ARGS, "fn_index": index, "session_hash": "probe"}
    response = httpx.post(url + "/gradio_api/queue/join", json=body)
    assert response.status_code == 200 and "event_id" in response.json()
    with httpx.stream("GET", url + "/gradio_api/queue/data?session_hash=probe") as stream:
        text = "".join(stream.iter_text())
    assert "process_completed" in text and "LEARNING_RATE" in text


def test_uploads_are_capped(url):
    too_big = b"x" * (1024 * 1024 + 1)
    response = httpx.post(url + "/gradio_api/upload", files={"files": ("big.txt", too_big)})
    assert response.status_code == 413
    small = httpx.post(url + "/gradio_api/upload", files={"files": ("note.txt", b"hello")})
    assert small.status_code == 200


def test_monitoring_is_off(url):
    assert httpx.get(url + "/monitoring/summary").status_code == 403


def test_rest_calls_wait_in_the_queue(url):
    """As on a Space: /gradio_api/run/<name> may not skip the queue's concurrency limits."""
    response = httpx.post(url + "/gradio_api/run/training_loop_script", json={"data": DEFAULT_ARGS})
    assert response.status_code == 404
    assert call_sync(url, "training_loop_script", DEFAULT_ARGS).ok  # the queued way works


def test_the_launch_options_are_what_app_main_uses():
    import inspect

    import app

    source = inspect.getsource(app.main)
    assert "serving.launch_options(" in source
    assert "serving.prepare(demo)" in inspect.getsource(app.build_app)
    assert serving.launch_options()["max_file_size"] == serving.MAX_UPLOAD
