"""The tab's endpoints through gradio_client: both classifiers, batching, bad input, the
allowlist, offline search, and fine-tuning in place then serving the result."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

gr = pytest.importorskip("gradio")
from gradio_client import Client  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402


@pytest.fixture(scope="module")
def app(tiny_models, tmp_path_factory):
    from demos.advice import ui

    output = tmp_path_factory.mktemp("in-place") / "advice"
    env = {
        "ADVICE_ZERO_SHOT_MODEL": str(tiny_models["nli"]),
        "ADVICE_SENTIMENT_MODEL": str(tiny_models["sentiment"]),
        "ADVICE_T5_MODEL": str(tiny_models["t5"]),
        "ADVICE_BASE_MODEL": str(tiny_models["classifier"]),
        "ADVICE_OUTPUT_DIR": str(output),
        "ADVICE_TRAIN_EPOCHS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    saved = {name: os.environ.get(name) for name in [*env, "ADVICE_MODEL"]}
    os.environ.update(env)
    os.environ.pop("ADVICE_MODEL", None)
    with gr.Blocks() as demo:
        ui.build()
    demo.launch(prevent_thread_lock=True, quiet=True)  # Gradio picks a free port
    yield Client(demo.local_url, verbose=False), output
    demo.close()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def test_fine_tune_in_place_then_classify_side_by_side(app):
    client, output = app
    zero_shot, fine_tuned, note, info, _ = client.predict(
        "i need advice", api_name="/advice_classify"
    )
    assert not (fine_tuned or {}).get("confidences") and "fine-tune one first" in note
    assert {c["label"] for c in zero_shot["confidences"]} == {"advice", "venting"}

    status, info, code = client.predict(api_name="/advice_fine_tune")
    assert status.startswith("Done") and "| advice |" in status
    assert (output / "config.json").exists() and str(output) in code

    zero_shot, fine_tuned, note, info, code = client.predict(
        "what should i do", api_name="/advice_classify"
    )
    assert note == ""
    assert {c["label"] for c in fine_tuned["confidences"]} == {"advice", "venting"}
    assert "Local folder" in info and 'pipeline("text-classification"' in code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("\x00\x01\x02\x03\x04\x05\x06\x07" * 50, "binary"),
        ("help " * 210_000, "were read"),
    ],
)
def test_bad_input_gives_a_note_not_an_error(app, text, expected):
    client, _ = app
    _, _, note, _, _ = client.predict(text, api_name="/advice_classify")
    assert expected in note


def test_emoji_and_rtl_are_classified(app):
    client, _ = app
    for text in ("ugh 😩😤 mondays", "אני צריך עצה, מה לעשות?", "لا أعرف ماذا أفعل"):
        zero_shot, _, note, _, _ = client.predict(text, api_name="/advice_classify")
        assert "empty" not in note and zero_shot["confidences"]


def test_batched_endpoint_serves_concurrent_clients(app):
    client, _ = app
    posts = [f"post {i}: i need help" for i in range(8)] + ["", "so tired"]
    with ThreadPoolExecutor(len(posts)) as pool:
        results = list(
            pool.map(lambda p: client.predict(p, api_name="/advice_classify_batch"), posts)
        )
    assert len(results) == len(posts)
    assert "empty" in results[8][2]
    assert all(r[0]["confidences"] for i, r in enumerate(results) if i != 8)


def test_other_tasks_and_the_allowlist(app):
    client, _ = app
    scores, text, code, diff = client.predict(
        "sentiment", "i need help", None, api_name="/advice_other_task"
    )
    assert {c["label"] for c in scores["confidences"]} == {"NEGATIVE", "POSITIVE"}
    assert "+classify" in diff
    _, text, code, _ = client.predict(
        "summarise (T5)", "i need help", "", api_name="/advice_other_task"
    )
    assert "AutoModelForSeq2SeqLM" in code and text
    with pytest.raises(AppError, match="not on this Space's list"):
        client.predict("sentiment", "hi", "evil/remote-code", api_name="/advice_other_task")
    with pytest.raises(AppError, match="empty"):
        client.predict("sentiment", "  ", None, api_name="/advice_other_task")


def test_search_offline_is_a_clear_message(app):
    client, _ = app
    with pytest.raises(AppError, match="offline"):
        client.predict("text-classification", "", 5, api_name="/advice_search_hub")
