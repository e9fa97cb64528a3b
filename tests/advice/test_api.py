"""The tab's endpoints through gradio_client and raw HTTP: both classifiers and the verdict,
batching, bad input, the allowlist, offline search and "change two lines", and who a fine-tune
in place serves (the visitor alone, unless the Space's owner allows more)."""

from __future__ import annotations

import json
import os
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

gr = pytest.importorskip("gradio")
from gradio_client import Client  # noqa: E402

TINY_RUN = "--max-train-samples 24 --max-length 16 --epochs 1 --no-baseline"


@pytest.fixture(scope="module")
def app(tiny_models, tmp_path_factory):
    from demos.advice import ui

    output = tmp_path_factory.mktemp("served") / "advice"
    env = {
        "ADVICE_ZERO_SHOT_MODEL": str(tiny_models["nli"]),
        "ADVICE_SENTIMENT_MODEL": str(tiny_models["sentiment"]),
        "ADVICE_T5_MODEL": str(tiny_models["t5"]),
        "ADVICE_BASE_MODEL": str(tiny_models["classifier"]),
        "ADVICE_OUTPUT_DIR": str(output),
        "ADVICE_TRAIN_ARGS": TINY_RUN,
        "ADVICE_REPLACE_MODEL": "owner",
        "HF_HUB_OFFLINE": "1",
    }
    saved = {name: os.environ.get(name) for name in [*env, "ADVICE_MODEL", "SPACE_AUTHOR_NAME"]}
    os.environ.update(env)
    os.environ.pop("ADVICE_MODEL", None)
    os.environ.pop("SPACE_AUTHOR_NAME", None)
    with gr.Blocks() as demo:
        ui.build()
        ui.build(expose_api=False)  # the embeddable page's private twins, as app.py builds them
    demo.launch(prevent_thread_lock=True, quiet=True)  # Gradio picks a free port
    yield demo.local_url, output
    demo.close()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def classify(client: Client, text: str) -> dict:
    names = ["verdict", "zero_shot", "fine_tuned", "note", "zs_info", "zs_code", "info", "code"]
    return dict(zip(names, client.predict(text, api_name="/advice_classify")))


def labels(result) -> set[str]:
    return {c["label"] for c in (result or {}).get("confidences", [])}


def test_without_a_fine_tuned_model_the_zero_shot_side_answers(app):
    url, output = app
    result = classify(Client(url, verbose=False), "i need advice what should i do")
    assert labels(result["zero_shot"]) == {"advice", "venting", "neither"}
    assert not labels(result["fine_tuned"]) and "fine-tune one first" in result["note"]
    assert result["verdict"].startswith("### ")  # one word for the post, from the zero-shot side
    assert "models/advice-minilm" in result["code"] and str(output) not in result["code"]


def test_an_anonymous_fine_tune_serves_that_visitor_only(app):
    url, output = app
    visitor, other = Client(url, verbose=False), Client(url, verbose=False)
    status, info, code, evaluation = visitor.predict(api_name="/advice_fine_tune")
    assert "Done" in status and "for you only" in status
    assert not (output / "config.json").exists()  # the served model was not replaced
    mine = classify(visitor, "what should i do")
    assert labels(mine["fine_tuned"]) == {"advice", "venting", "neither"}
    assert "only you see it" in mine["info"]
    assert "/tmp" not in mine["code"] and "models/advice-minilm" in mine["code"]
    theirs = classify(other, "what should i do")
    assert not labels(theirs["fine_tuned"]) and "only you see it" not in theirs["info"]


def test_the_private_twin_called_by_name_does_not_replace_the_served_model(app):
    url, output = app
    request = urllib.request.Request(
        f"{url}/gradio_api/call/advice_fine_tune_page",
        data=json.dumps({"data": []}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            event_id = json.loads(response.read())["event_id"]
        with urllib.request.urlopen(
            f"{url}/gradio_api/call/advice_fine_tune_page/{event_id}", timeout=300
        ) as stream:
            body = stream.read().decode()
    except urllib.error.HTTPError as error:  # refusing a private endpoint is fine too
        body = f"HTTP {error.code}"
    assert "Traceback" not in body
    assert not (output / "config.json").exists(), body[-500:]


def test_the_owner_setting_lets_a_fine_tune_replace_the_served_model(app, monkeypatch):
    url, output = app
    monkeypatch.setenv("ADVICE_REPLACE_MODEL", "anyone")  # a private duplicate's choice
    client = Client(url, verbose=False)
    status, info, code, evaluation = client.predict(api_name="/advice_fine_tune")
    assert "Done" in status and "every visitor" in status
    assert (output / "config.json").exists() and (output / "metrics.json").exists()
    result = classify(Client(url, verbose=False), "what should i do")  # anyone, a new session
    assert labels(result["fine_tuned"]) == {"advice", "venting", "neither"}
    assert str(output) not in result["info"] + result["code"]
    assert "template test split" in evaluation and "free-written posts" in evaluation


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
    url, _ = app
    assert expected in classify(Client(url, verbose=False), text)["note"]


def test_emoji_gibberish_and_other_languages_are_called_unreadable(app):
    url, _ = app
    client = Client(url, verbose=False)
    for text in ("😩" * 5000, "asdkjh qwpoeiru zxmcnv", "Non so cosa fare con il mio capo, mi "
                 "tratta male ogni giorno e non dorme più"):  # fmt: skip
        result = classify(client, text)
        assert "Too few words it knows" in result["verdict"], (text[:20], result["verdict"])
        assert labels(result["zero_shot"])  # the scores are still shown, beside the warning


def test_batched_endpoint_serves_concurrent_clients(app):
    url, _ = app
    client = Client(url, verbose=False)
    posts = [f"post {i}: i need help" for i in range(8)] + ["", "so tired"]
    with ThreadPoolExecutor(len(posts)) as pool:
        results = list(
            pool.map(lambda p: client.predict(p, api_name="/advice_classify_batch"), posts)
        )
    assert len(results) == len(posts)
    assert "empty" in results[8][3]
    assert all(labels(r[1]) for i, r in enumerate(results) if i != 8)


def test_other_tasks_and_the_allowlist(app):
    url, _ = app
    client = Client(url, verbose=False)
    scores, text, code, diff, note = client.predict(
        "sentiment", "i need help", None, api_name="/advice_other_task"
    )
    assert labels(scores) == {"NEGATIVE", "POSITIVE"} and not note
    assert "+classify" in diff
    _, text, code, _, _ = client.predict(
        "summarise (T5)", "i need help", "", api_name="/advice_other_task"
    )
    assert "AutoModelForSeq2SeqLM" in code and text
    scores, _, code, diff, note = client.predict(
        "sentiment", "hi", "evil/remote-code", api_name="/advice_other_task"
    )
    assert not labels(scores) and "not on this Space's list" in note
    assert 'model="evil/remote-code"' in code  # the change is shown, the model never loaded


def test_change_two_lines_offline_shows_the_code_and_a_sentence(app, monkeypatch):
    url, _ = app
    monkeypatch.setenv("ADVICE_SENTIMENT_MODEL", "distilbert/distilbert-base-uncased-sst2-x")
    client = Client(url, verbose=False)
    scores, text, code, diff, note = client.predict(
        "sentiment", "i need help", None, api_name="/advice_other_task"
    )
    assert scores is None or not labels(scores)
    assert 'model="distilbert/distilbert-base-uncased-sst2-x"' in code and "+classify" in diff
    assert "cannot run here" in note and "offline" in note
    _, _, _, _, note = client.predict("sentiment", "  ", None, api_name="/advice_other_task")
    assert "empty" in note


def test_search_offline_is_a_clear_message(app):
    url, _ = app
    table, note = Client(url, verbose=False).predict(
        "text-classification", "", 5, api_name="/advice_search_hub"
    )
    assert "offline" in note and not (table or {}).get("data")
