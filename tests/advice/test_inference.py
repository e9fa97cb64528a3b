"""Inference through demos.hub: cleaning bad input, both classifiers, other tasks, the code shown."""

from __future__ import annotations

import time

import pytest

from demos import hub
from demos.advice import inference


@pytest.mark.parametrize("text", ["", "   \n\t  ", None])
def test_empty_posts_are_refused_clearly(text):
    with pytest.raises(inference.PostError, match="empty"):
        inference.clean_post(text)


def test_binary_junk_is_refused():
    junk = bytes(range(256)) * 40
    with pytest.raises(inference.PostError, match="binary"):
        inference.clean_post(junk)
    with pytest.raises(inference.PostError, match="binary"):
        inference.clean_post("\x00\x01\x02\x03\x04\x05" * 100)


def test_one_megabyte_is_truncated_and_says_so():
    post = inference.clean_post("help " * 200_000)
    assert post.truncated and len(post.text) <= 20_000
    assert "1,000,000 characters" in post.note()


def test_emoji_and_right_to_left_scripts_pass_through():
    assert inference.clean_post("ugh 😩🙃").text == "ugh 😩🙃"
    arabic = "أحتاج نصيحة، ماذا أفعل؟"
    assert inference.clean_post(arabic).text == arabic
    assert inference.clean_post("שלום\u200f עולם").text.startswith("שלום")


def test_classify_and_zero_shot_with_tiny_models(advice_env):
    posts = ["i need advice what should i do", "so tired of this 😩", "مرحبا", "x" * 5000]
    for scores in inference.classify_posts(posts):
        assert set(scores) == {"advice", "venting"}
        assert abs(sum(scores.values()) - 1) < 1e-5
    for scores in inference.zero_shot_posts(posts):
        assert set(scores) == {"advice", "venting", "neither"}


def test_other_tasks_and_code_difference(advice_env):
    sentiment = inference.run_other_task("sentiment", "i need help")
    assert set(sentiment) == {"NEGATIVE", "POSITIVE"}
    zero_shot = inference.run_other_task("zero-shot", "i need help")
    assert set(zero_shot) == {"advice", "venting", "neither"}
    assert isinstance(inference.run_other_task("summarise (T5)", "i need help"), str)
    code, diff = inference.code_difference("sentiment")
    assert 'pipeline("text-classification"' in code
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert len(changed) <= 4  # "change two lines"
    code, _ = inference.code_difference("summarise (T5)")
    assert "AutoModelForSeq2SeqLM" in code and "summarize: " in code


def test_a_visitor_model_off_the_allowlist_is_refused_quickly(advice_env):
    start = time.monotonic()
    with pytest.raises(hub.ModelNotAllowed):
        inference.run_other_task("sentiment", "hello", "someone/unknown-model")
    with pytest.raises(hub.ModelNotAllowed):
        inference.run_other_task("summarise (T5)", "hello", "someone/unknown-t5")
    assert time.monotonic() - start < 2


def test_no_fine_tuned_model_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("ADVICE_MODEL", raising=False)
    monkeypatch.setenv("ADVICE_OUTPUT_DIR", str(tmp_path / "nothing-here"))
    with pytest.raises(inference.PostError, match="fine-tune one first"):
        inference.classify_posts(["hello"])


def test_hub_page_links_and_no_server_paths(tmp_path):
    assert "huggingface.co/google-t5/t5-small" in inference.hub_page("google-t5/t5-small")
    assert inference.hub_page(str(tmp_path)) == "Local folder `models/advice-minilm`"


def test_copyable_code_never_shows_a_server_path(tmp_path):
    from demos.advice.config import ROOT, local_minilm_path

    for ref in (str(tmp_path / "model"), "/data/advice-minilm", str(ROOT / "models" / "mine")):
        code = inference.pipeline_code("fine-tuned", ref)
        assert "/tmp" not in code and "/data" not in code and str(ROOT) not in code
        assert "# the folder `python -m demos.advice.train` writes" in code
    assert 'model="models/mine"' in inference.pipeline_code("fine-tuned", str(ROOT / "models/mine"))
    hub_code = inference.pipeline_code("fine-tuned", "someone/advice-classifier")
    assert 'model="someone/advice-classifier"' in hub_code and "#" not in hub_code
    if local_minilm_path():
        code = inference.pipeline_code("similarity", local_minilm_path())
        assert '"sentence-transformers/all-MiniLM-L6-v2"' in code


def test_zero_shot_falls_back_offline_and_says_so(advice_env, monkeypatch):
    monkeypatch.setenv("ADVICE_ZERO_SHOT_MODEL", "MoritzLaurer/not-on-this-machine")
    monkeypatch.setenv("ADVICE_EMBEDDING_MODEL", str(advice_env["classifier"]))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert inference.zero_shot_plan() == "similarity"
    side = inference.zero_shot_side(["i need advice", "so tired of this"])
    assert side.method == "similarity" and "offline" in side.fallback_reason
    for scores in side.scores:
        assert set(scores) == {"advice", "venting", "neither"}
        assert abs(sum(scores.values()) - 1) < 1e-5
    assert isinstance(side.vocabulary, frozenset)
    # The NLI model is used whenever it loads.
    monkeypatch.setenv("ADVICE_ZERO_SHOT_MODEL", str(advice_env["nli"]))
    assert inference.zero_shot_plan() == "nli"
    assert inference.zero_shot_side(["i need advice"]).method == "nli"
